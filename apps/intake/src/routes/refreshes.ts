import { createHash, randomUUID } from 'node:crypto';
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
import { Router, type Request, type Response } from 'express';
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

function fingerprint(body: CheckedBody): string {
  const canonical = JSON.stringify([
    body.objectType,
    body.priority,
    [...body.paths].sort(),
    body.callbackUrl ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    );
  }
  return key;
}

export function refreshRoutes(deps: RefreshRoutesDeps): Router {
  const router = Router();
  const durably = <T>(step: () => Promise<T>) => redisStep(step, deps.redisTimeoutMs);

  router.post('/v1/refreshes', async (req: Request, res: Response) => {
    if (!req.is(JSON_TYPES)) {
      throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    const key = idempotencyKeyOf(req);
    let body: CheckedBody;
    try {
      body = checkRefreshBody(req.body, deps.rules);
    } catch (error) {
      // The message names the host and port, never the callback URL's path or query.
      if (error instanceof ApiError && error.code === 'callback_host_not_allowed')
        deps.logger.info({ caller: res.locals.caller, refusal: error.message }, 'callback target refused');
      throw error;
    }
    const request: RefreshRequest = {
      id: randomUUID(),
      objectType: body.objectType,
      priority: body.priority,
      paths: body.paths,
      receivedAt: deps.clock.now(),
      ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
    };

    let replayed = false;
    if (key !== undefined) {
      const print = fingerprint(body);
      const bound = await durably(() =>
        deps.idempotency.claim(String(res.locals.caller), key, { requestId: request.id, fingerprint: print }),
      );
      if (bound) {
        if (bound.fingerprint !== print) {
          throw new ApiError(
            422,
            'idempotency_key_reused',
            'this Idempotency-Key was used in the last 24 h with a different body',
          );
        }
        request.id = bound.requestId;
        replayed = true;
      }
    }

    // A replay adds the job again under the same id: BullMQ ignores it while the first is
    // kept, and admission is idempotent, so a first attempt that died before this line is healed.
    await durably(() => deps.queue.add('refresh', request, { jobId: request.id }));

    deps.metrics.requests.inc({ outcome: replayed ? 'replayed' : 'accepted', code: '' });
    if (!replayed)
      deps.metrics.paths.inc({ object_type: body.objectType, priority: body.priority }, body.paths.length);
    deps.logger.info(
      {
        requestId: request.id,
        paths: body.paths.length,
        objectType: body.objectType,
        priority: body.priority,
        replayed,
      },
      'refresh request accepted',
    );
    res
      .status(202)
      .location(`/v1/refreshes/${request.id}`)
      .json({
        id: request.id,
        accepted: body.paths.length,
        duplicates: body.duplicates,
        objectType: body.objectType,
        priority: body.priority,
        state: 'queued',
        replayed,
        statusUrl: `/v1/refreshes/${request.id}`,
      });
  });

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
