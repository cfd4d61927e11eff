import { ReplicationShortfall } from '@refreshq/store';
import { ApiError } from './api-error.js';

class NoAnswer extends Error {}

/**
 * One Redis step on the request path, bounded: an error, or no answer within `timeoutMs` (a
 * frozen Redis looks like that, as does a network black hole), becomes 503 with Retry-After, so
 * no request waits on Redis longer than that and nothing half-done is answered 202. The client's
 * own commandTimeout (createRedis) rejects the commands themselves; this deadline also bounds
 * what waits outside a command, such as BullMQ waiting for its connection.
 */
export async function redisStep<T>(step: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new NoAnswer()), timeoutMs);
  });
  try {
    return await Promise.race([step(), deadline]);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof ReplicationShortfall)
      throw new ApiError(
        503,
        'unavailable',
        `Redis has the request but only ${error.ack.acked} of the ${error.ack.wanted} replicas REDIS_WAIT_REPLICAS asks for confirmed it in time; retry later (with the same Idempotency-Key to be answered with its first outcome)`,
        undefined,
        { 'Retry-After': '5' },
      );
    const timedOut = error instanceof NoAnswer || /timed out/i.test(String((error as Error)?.message));
    throw new ApiError(
      503,
      'unavailable',
      timedOut
        ? `Redis did not answer within ${timeoutMs} ms; retry later. A command sent to a slow Redis may still run: retry a POST with the same Idempotency-Key to be answered with its first outcome`
        : 'the queue is unavailable; nothing was queued; retry later',
      undefined,
      { 'Retry-After': '5' },
    );
  } finally {
    clearTimeout(timer);
  }
}
