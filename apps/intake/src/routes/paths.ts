import { checkPath, OBJECT_TYPES, type ObjectType } from '@refreshq/domain';
import { pathLookupView, type PathHistory, type RequestIndex } from '@refreshq/store';
import { Router, type Request, type Response } from 'express';
import { ApiError } from '../api-error.js';
import { lookupQuerySchema } from '../api-schemas.js';
import { redisStep } from '../redis-step.js';
import { parseInput, preview } from '../validate.js';

export interface PathRoutesDeps {
  index: RequestIndex;
  maxPathLength: number;
  redisTimeoutMs: number;
}

/** When the history last moved: its newest request, or else its last submission or end. */
const lastActivity = (history: PathHistory): number =>
  Math.max(
    history.requests[0]?.receivedAt ?? 0,
    history.lastSubmission?.at ?? 0,
    history.lastCompletion?.at ?? 0,
  );

/** GET /v1/paths?url=…: what refreshq knows of one path, found by its URL, normalised as intake does. */
export function pathRoutes(deps: PathRoutesDeps): Router {
  const router = Router();

  router.get('/v1/paths', async (req: Request, res: Response) => {
    const query = parseInput(lookupQuerySchema, req.query);
    const types: readonly ObjectType[] = query.objectType ? [query.objectType] : OBJECT_TYPES;
    // A URL is one path per type it can be: a directory must end in '/' and carry no query.
    const candidates = types.flatMap((objectType) => {
      const checked = checkPath(query.url, { objectType, maxLength: deps.maxPathLength });
      return checked.ok ? [{ objectType, path: checked.path }] : [];
    });
    if (candidates.length === 0) {
      const checked = checkPath(query.url, {
        objectType: query.objectType ?? 'File',
        maxLength: deps.maxPathLength,
      });
      const reason = checked.ok ? 'malformed_url' : checked.reason;
      const message = checked.ok ? 'not a path' : checked.message;
      throw new ApiError(400, 'invalid_path', `url: ${message}`, [
        { path: preview(query.url), reason, message },
      ]);
    }
    const histories = await redisStep(
      () => Promise.all(candidates.map(({ objectType, path }) => deps.index.path(objectType, path))),
      deps.redisTimeoutMs,
    );
    const found = histories
      .filter((history): history is PathHistory => history !== undefined)
      .sort((a, b) => lastActivity(b) - lastActivity(a))[0];
    if (!found)
      throw new ApiError(
        404,
        'not_found',
        'no request asked for this path within STATUS_RETENTION_SECONDS (or it is still in the intake queue)',
      );
    res.json(pathLookupView(found));
  });

  return router;
}
