import { Redis, type RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

export type ConnectionRole =
  /** Request/response work (intake, status reads): fail fast when Redis is away, never queue blindly. */
  | 'client'
  /** Long-lived consumers (BullMQ workers, dispatch loops): wait for Redis to come back. */
  | 'consumer';

export interface RedisConnectionOptions {
  /** Rejects a command not answered within this time (a frozen Redis) instead of waiting. */
  commandTimeoutMs?: number;
}

export function createRedis(
  url: string,
  role: ConnectionRole,
  name: string,
  { commandTimeoutMs }: RedisConnectionOptions = {},
): Redis {
  const options: RedisOptions = {
    connectionName: `refreshq:${name}`,
    maxRetriesPerRequest: role === 'consumer' ? null : 1,
    enableOfflineQueue: role === 'consumer',
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    lazyConnect: false,
    ...(commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs }),
  };
  return new Redis(url, options);
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitUntilReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
