import {
  checkPath,
  domainOf,
  mediaIdOfItem,
  mediaPoolDomain,
  poolDomain,
  RETRYABLE_PATH_STATES,
  type RefreshRequest,
  workTypeOf,
} from '@refreshq/domain';
import {
  queuedRequestView,
  readEstimates,
  requestSummaryView,
  storedRequestView,
  type IdempotencyStore,
  type Keyspace,
  type Redis,
  type RedisClock,
  type RequestCursor,
  type RequestIndex,
  type RequestStore,
  type StoredRequest,
  type SubmitPause,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { Queue } from 'bullmq';
import type { ServerResponse } from 'node:http';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { acceptedKind, acceptRefresh, fingerprint } from '../accept-refresh.js';
import { ApiError, type ErrorDetail } from '../api-error.js';
import { listQuerySchema, retryBodySchema } from '../api-schemas.js';
import type { IntakeMetrics } from '../intake-metrics.js';
import { redisStep } from '../redis-step.js';
import { checkRefreshBody, type BodyRules, type CheckedBody } from '../refresh-body.js';
import { parseInput } from '../validate.js';

export interface RefreshRoutesDeps {
  queue: Queue<RefreshRequest>;
  requests: RequestStore;
  idempotency: IdempotencyStore;
  rules: BodyRules;
  metrics: IntakeMetrics;
  logger: Logger;
  /** receivedAt is on Redis' clock: a request received before a call started is satisfied by it. */
  clock: RedisClock;
  redis: Redis;
  keys: Keyspace;
  index: RequestIndex;
  pause: SubmitPause;
  /** Guards the actions (retry, cancel): ADMIN_TOKENS, else the intake tokens. */
  admin: RequestHandler;
  /** REDIS_COMMAND_TIMEOUT_MS: the longest any Redis step of a request may take before 503. */
  redisTimeoutMs: number;
}

/** The most requests one page of GET /v1/refreshes looks at, so a rare state filter stays cheap. */
const MAX_SCAN_PER_PAGE = 1000;

const encodeCursor = (cursor: RequestCursor): string =>
  Buffer.from(JSON.stringify([cursor.receivedAt, cursor.id])).toString('base64url');

function decodeCursor(text: string): RequestCursor {
  try {
    const [receivedAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof receivedAt === 'number' && Number.isFinite(receivedAt) && typeof id === 'string')
      return { receivedAt, id };
  } catch {
    // falls through to the refusal
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a nextCursor this service gave');
}

const NOT_FOUND = 'no refresh request with this id (statuses are kept for STATUS_RETENTION_SECONDS)';

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const JSON_TYPES = ['application/json', 'application/*+json'];

/** The Idempotency-Key header's value, checked; undefined when none was sent. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(', ') : header;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    );
  }
  return key;
}

/**
 * Checks a parsed POST /v1/refreshes body, queues it, and returns the 202's body: what both the
 * express route and the hot path (hot-path.ts) answer. Throws ApiError.
 */
export async function acceptPost(
  deps: RefreshRoutesDeps,
  parsed: unknown,
  key: string | undefined,
  caller: string,
): Promise<{ id: string; answer: string }> {
  let body: CheckedBody;
  try {
    body = checkRefreshBody(parsed, deps.rules);
  } catch (error) {
    // The message names the host and port, never the callback URL's path or query.
    if (error instanceof ApiError && error.code === 'callback_host_not_allowed')
      deps.logger.info({ caller, refusal: error.message }, 'callback target refused');
    throw error;
  }
  const { request, replayed } = await acceptRefresh(
    deps,
    body,
    key === undefined ? undefined : { scope: caller, key, fingerprint: fingerprint(body) },
  );

  deps.metrics.requests.inc({ outcome: replayed ? 'replayed' : 'accepted', code: '' });
  deps.logger.info(
    {
      requestId: request.id,
      paths: body.paths.length,
      ...(body.media ? { mediaIds: body.media.ids.length } : { objectType: body.objectType }),
      action: body.action,
      priority: body.priority,
      replayed,
    },
    'refresh request accepted',
  );
  const answer = JSON.stringify({
    id: request.id,
    accepted: body.media ? body.media.ids.length : body.paths.length,
    duplicates: body.duplicates,
    ...(body.media ? {} : { objectType: body.objectType }),
    priority: body.priority,
    ...acceptedKind(body),
    state: 'queued',
    replayed,
    statusUrl: `/v1/refreshes/${request.id}`,
  });
  return { id: request.id, answer };
}

/** Writes the 202 of acceptPost. */
export function writeAccepted(res: ServerResponse, { id, answer }: { id: string; answer: string }): void {
  res.writeHead(202, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(answer),
    location: `/v1/refreshes/${id}`,
  });
  res.end(answer);
}

/**
 * POST /v1/refreshes through express (server.ts mounts it ahead of every other route): what the
 * hot path does not take (another media type, a compressed body, a URL spelt differently).
 */
export function postRefresh(deps: RefreshRoutesDeps): RequestHandler {
  return async (req: Request, res: Response) => {
    if (!req.is(JSON_TYPES)) {
      throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    const key = idempotencyKeyOf(req.headers['idempotency-key']);
    writeAccepted(res, await acceptPost(deps, req.body, key, String(res.locals.caller)));
  };
}

/** The other /v1/refreshes routes (POST is postRefresh). */
export function refreshRoutes(deps: RefreshRoutesDeps): Router {
  const router = Router();
  const durably = <T>(step: () => Promise<T>) => redisStep(step, deps.redisTimeoutMs);

  router.get('/v1/refreshes/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!REQUEST_ID.test(id)) throw new ApiError(404, 'not_found', 'no refresh request with this id');
    const [stored, estimates, pause] = await durably(() =>
      Promise.all([deps.requests.read(id), readEstimates(deps.redis, deps.keys), deps.pause.read()]),
    );
    const paused = pause !== undefined;
    if (stored) {
      res.json({ ...storedRequestView(stored, estimates), paused });
      return;
    }
    const job = await durably(() => deps.queue.getJob(id));
    if (job?.data) {
      res.json({ ...queuedRequestView(job.data, estimates), paused });
      return;
    }
    throw new ApiError(404, 'not_found', NOT_FOUND);
  });

  router.get('/v1/refreshes', async (req: Request, res: Response) => {
    const query = parseInput(listQuerySchema, req.query);
    const states = query.state ? new Set(query.state) : undefined;
    const page = await durably(() =>
      deps.index.page({
        limit: query.limit,
        maxScan: MAX_SCAN_PER_PAGE,
        ...(query.since !== undefined ? { since: query.since } : {}),
        ...(query.cursor !== undefined ? { cursor: decodeCursor(query.cursor) } : {}),
        ...(states
          ? { accept: (stored: StoredRequest) => states.has(requestSummaryView(stored).state) }
          : {}),
      }),
    );
    res.json({
      refreshes: page.requests.map(requestSummaryView),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    });
  });

  /** The admitted request, or 409 while it waits in the intake queue, or 404. */
  const admitted = async (id: string): Promise<StoredRequest> => {
    if (REQUEST_ID.test(id)) {
      const stored = await durably(() => deps.requests.read(id));
      if (stored) return stored;
      const job = await durably(() => deps.queue.getJob(id));
      if (job?.data)
        throw new ApiError(
          409,
          'not_admitted',
          'the request is still in the intake queue (no worker has taken it yet); try again shortly',
          undefined,
          { 'Retry-After': '1' },
        );
    }
    throw new ApiError(404, 'not_found', NOT_FOUND);
  };

  router.post('/v1/refreshes/:id/retry', deps.admin, async (req: Request, res: Response) => {
    const key = idempotencyKeyOf(req.headers['idempotency-key']);
    const original = await admitted(String(req.params.id));
    const asked = parseInput(retryBodySchema, req.body ?? {});
    const { meta } = original;
    // A request by media ids is retried by media id (its items are keyed by id and options).
    const shown = (key: string) => (meta.media ? mediaIdOfItem(key) : key);
    const stateOf = new Map([...original.paths].map(([key, status]) => [shown(key), status.state]));
    const retryable = [...stateOf]
      .filter(([, state]) => RETRYABLE_PATH_STATES.has(state))
      .map(([path]) => path);
    let paths = retryable;
    if (asked.paths) {
      const problems: ErrorDetail[] = [];
      paths = asked.paths.map((raw, index) => {
        const checked = meta.media ? undefined : checkPath(raw, { objectType: meta.objectType });
        const path = checked?.ok ? checked.path : raw;
        if (!retryable.includes(path)) {
          const state = stateOf.get(path);
          problems.push({
            index,
            path: raw,
            reason: 'not_retryable',
            message: state
              ? `this path is ${state} on the request; only failed and rejected paths are retried`
              : 'the request has no such path',
          });
        }
        return path;
      });
      if (problems.length > 0)
        throw new ApiError(
          409,
          'not_retryable',
          `${problems.length} path(s) cannot be retried; nothing was queued`,
          problems.slice(0, 100),
        );
    }
    if (paths.length === 0)
      throw new ApiError(409, 'nothing_to_retry', 'the request has no failed or rejected path');

    const priority = asked.priority ?? meta.priority;
    const action = meta.action ?? 'refresh';
    // The retry asks for the same kind of work as the request it retries.
    const checked: CheckedBody = meta.media
      ? {
          objectType: meta.objectType,
          priority,
          paths: [],
          domains: [],
          duplicates: 0,
          action,
          media: { ids: paths, options: meta.media.options },
          retryOf: meta.id,
        }
      : {
          ...checkRefreshBody(
            {
              paths,
              objectType: meta.objectType,
              priority,
              action,
              ...(meta.force ? { force: true } : {}),
              // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
              ...(meta.then ? { then: meta.then } : {}),
            },
            deps.rules,
          ),
          retryOf: meta.id,
        };
    const { request, replayed } = await acceptRefresh(
      deps,
      checked,
      key === undefined
        ? undefined
        : { scope: String(res.locals.caller), key, fingerprint: fingerprint(checked) },
    );
    // Also on a replay: a first attempt that died before this line is healed (the field is the same).
    await durably(() =>
      deps.requests.noteRetry(original.meta.id, {
        id: request.id,
        at: request.receivedAt,
        paths,
      }),
    );
    deps.metrics.requests.inc({ outcome: replayed ? 'replayed' : 'accepted', code: '' });
    deps.logger.info(
      { requestId: request.id, retryOf: original.meta.id, paths: paths.length, replayed },
      'refresh request retried',
    );
    res
      .status(202)
      .location(`/v1/refreshes/${request.id}`)
      .json({
        id: request.id,
        accepted: paths.length,
        duplicates: checked.duplicates,
        ...(checked.media ? {} : { objectType: checked.objectType }),
        priority: checked.priority,
        ...acceptedKind(checked),
        state: 'queued',
        replayed,
        statusUrl: `/v1/refreshes/${request.id}`,
        retryOf: original.meta.id,
        paths,
      });
  });

  router.delete('/v1/refreshes/:id', deps.admin, async (req: Request, res: Response) => {
    const stored = await admitted(String(req.params.id));
    const { meta } = stored;
    const id = meta.id;
    const type = workTypeOf(meta);
    // Each item in the pool domain admission put it in (work-kinds.ts poolItemsOf).
    const poolDomainOf = (key: string) =>
      meta.media ? mediaPoolDomain(meta.media.options) : poolDomain(type, domainOf(key));
    const queued = [...stored.paths]
      .filter(([, status]) => status.state === 'queued')
      .map(([key]) => [key, poolDomainOf(key)] as const);
    const outcomes =
      queued.length > 0 ? await durably(() => deps.requests.cancel(id, type, queued)) : new Map();
    const after = (await durably(() => deps.requests.read(id))) ?? stored;
    const shown = (key: string) => (meta.media ? mediaIdOfItem(key) : key);
    const cancelled: string[] = [];
    const alreadyGone: { path: string; state: string }[] = [];
    for (const [key, status] of stored.paths) {
      const outcome = outcomes.get(key);
      if (outcome === 'cancelled') cancelled.push(shown(key));
      else
        alreadyGone.push({ path: shown(key), state: outcome ?? after.paths.get(key)?.state ?? status.state });
    }
    deps.logger.info(
      { requestId: id, cancelled: cancelled.length, alreadyGone: alreadyGone.length },
      'refresh request cancelled',
    );
    res.json({ id, state: requestSummaryView(after).state, cancelled, alreadyGone });
  });

  return router;
}
