import { createHash, randomUUID } from 'node:crypto';
import { type RefreshRequest, workTypeOf } from '@refreshq/domain';
import { enqueueRequest, type IdempotencyStore, type RedisClock } from '@refreshq/store';
import type { Queue } from 'bullmq';
import { ApiError } from './api-error.js';
import { redisStep } from './redis-step.js';
import type { IntakeMetrics } from './intake-metrics.js';
import type { CheckedBody } from './refresh-body.js';

export interface AcceptDeps {
  queue: Queue<RefreshRequest>;
  idempotency: IdempotencyStore;
  metrics: IntakeMetrics;
  /** receivedAt is on Redis' clock: a request received before a call started is satisfied by it. */
  clock: RedisClock;
  /** Longest wait for each Redis step before 503 (REDIS_COMMAND_TIMEOUT_MS). */
  redisTimeoutMs: number;
}

/** Binds a key (within a scope) to the first request that used it, for 24 h. */
export interface Once {
  scope: string;
  key: string;
  /** A key seen before with another fingerprint is refused with 422. */
  fingerprint: string;
}

export interface Accepted {
  request: RefreshRequest;
  /** True when `once` was seen before: nothing new was queued and `request.id` is the first one. */
  replayed: boolean;
}

/** The kind-of-work fields of a 202 answer: what the request asked the upstream to do. */
export function acceptedKind(body: CheckedBody): Record<string, unknown> {
  return {
    action: body.action,
    ...(body.force ? { force: true } : {}),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    ...(body.then ? { then: body.then } : {}),
    ...(body.media ? { mediaIds: body.media.ids } : {}),
  };
}

/** Digest of what a checked request asks for, order of paths (and media ids) aside. */
export function fingerprint(body: CheckedBody): string {
  const canonical = JSON.stringify([
    body.objectType,
    body.priority,
    [...body.paths].sort(),
    body.callbackUrl ?? null,
    // The kind of work (#16): a preload, a forced refresh, a follow-on or other media options are another request.
    ...(body.action !== 'refresh' || body.force || body.then || body.media
      ? [
          body.action,
          body.force ?? false,
          body.then ?? null,
          body.media ? [[...body.media.ids].sort(), body.media.options] : null,
        ]
      : []),
    ...(body.retryOf ? [body.retryOf] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Queues a request that passed every check, and resolves only once Redis has the job: the one way
 * into the queue, for POST /v1/refreshes and for webhooks alike.
 */
export async function acceptRefresh(deps: AcceptDeps, body: CheckedBody, once?: Once): Promise<Accepted> {
  const request: RefreshRequest = {
    id: randomUUID(),
    objectType: body.objectType,
    priority: body.priority,
    paths: body.paths,
    domains: body.domains,
    receivedAt: deps.clock.now(),
    ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
    ...(body.action !== 'refresh' ? { action: body.action } : {}),
    ...(body.force ? { force: true } : {}),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    ...(body.then ? { then: body.then } : {}),
    ...(body.media ? { media: body.media } : {}),
    ...(body.retryOf ? { retryOf: body.retryOf } : {}),
  };

  let replayed = false;
  if (once !== undefined) {
    const bound = await redisStep(
      () =>
        deps.idempotency.claim(once.scope, once.key, {
          requestId: request.id,
          fingerprint: once.fingerprint,
        }),
      deps.redisTimeoutMs,
    );
    if (bound) {
      if (bound.fingerprint !== once.fingerprint) {
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
  await redisStep(() => enqueueRequest(deps.queue, request), deps.redisTimeoutMs);

  if (!replayed)
    deps.metrics.paths.inc(
      { object_type: workTypeOf(body), priority: body.priority },
      body.media ? body.media.ids.length : body.paths.length,
    );
  return { request, replayed };
}
