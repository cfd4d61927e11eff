import type { RefreshRequest } from '@refreshq/domain';
import {
  queuedRequestView,
  readEstimates,
  storedRequestView,
  type IdempotencyStore,
  type Keyspace,
  type Redis,
  type RedisClock,
  type RequestStore,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { Queue } from 'bullmq';
import type { ServerResponse } from 'node:http';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { acceptedKind, acceptRefresh, fingerprint } from '../accept-refresh.js';
import { ApiError } from '../api-error.js';
import type { IntakeMetrics } from '../intake-metrics.js';
import { redisStep } from '../redis-step.js';
import { checkRefreshBody, type BodyRules, type CheckedBody } from '../refresh-body.js';

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
  /** REDIS_COMMAND_TIMEOUT_MS: the longest any Redis step of a request may take before 503. */
  redisTimeoutMs: number;
}

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
    const [stored, estimates] = await durably(() =>
      Promise.all([deps.requests.read(id), readEstimates(deps.redis, deps.keys)]),
    );
    if (stored) {
      res.json(storedRequestView(stored, estimates));
      return;
    }
    const job = await durably(() => deps.queue.getJob(id));
    if (job?.data) {
      res.json(queuedRequestView(job.data, estimates));
      return;
    }
    throw new ApiError(
      404,
      'not_found',
      'no refresh request with this id (statuses are kept for STATUS_RETENTION_SECONDS)',
    );
  });

  return router;
}
