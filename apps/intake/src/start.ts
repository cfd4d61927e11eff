import { createServer as createHttpServer, type Server } from 'node:http';
import { outboundPolicy, type RefreshRequest } from '@refreshq/domain';
import {
  createIntakeQueue,
  createRedis,
  IdempotencyStore,
  keyspace,
  RedisClock,
  RequestStore,
  waitUntilReady,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { Queue } from 'bullmq';
import type { Express } from 'express';
import type { IntakeEnv } from './env.js';
import { type HookSet, loadHooks } from './hooks/index.js';
import { createIntakeMetrics, type IntakeMetrics } from './intake-metrics.js';
import { createRequestListener } from './server.js';

export interface RunningIntake {
  server: Server;
  /** The express app it serves (tests enumerate its routes). */
  app: Express;
  /** Where it listens, e.g. http://127.0.0.1:8080 (the bound port when PORT=0). */
  url: string;
  metrics: IntakeMetrics;
  queue: Queue<RefreshRequest>;
  /** Stops accepting, finishes requests in flight, closes Redis. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Hooks already loaded (main.ts loads them first, to exit 78 on a bad file); else from WEBHOOKS_FILE. */
  hooks?: HookSet;
}

/** Reads WEBHOOKS_FILE; the secrets it names come from the process environment. Throws ConfigError. */
export const loadIntakeHooks = (env: IntakeEnv): HookSet =>
  loadHooks(env.WEBHOOKS_FILE, process.env, env.WEBHOOK_TOLERANCE_SECONDS * 1000);

/**
 * Builds intake from a validated environment and listens. main.ts adds only signal handling; the
 * tests start intake through this same function.
 */
export async function startIntake(
  env: IntakeEnv,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningIntake> {
  // Before Redis: a bad hooks file is a configuration error, whatever else is up.
  const hooks = options.hooks ?? loadIntakeHooks(env);
  const keys = keyspace(env.REFRESHQ_NAMESPACE);
  const connection = { commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS, autoPipelining: true };
  const redis = createRedis(env.redis, 'client', 'intake', connection);
  // Its own connection for the jobs: a WAIT for the replicas (REDIS_WAIT_REPLICAS) blocks the
  // connection it is sent on, and status reads must not queue behind it.
  const queueRedis = createRedis(env.redis, 'client', 'intake-queue', connection);
  for (const client of [redis, queueRedis])
    client.on('error', (error) => logger.warn({ err: error }, 'redis connection problem'));
  await Promise.all([waitUntilReady(redis, 15_000), waitUntilReady(queueRedis, 15_000)]);

  const clock = new RedisClock(redis, keys.clockOffset);
  await clock.start();
  const queue = createIntakeQueue(queueRedis, keys);
  const metrics = createIntakeMetrics();
  const { listener, app } = createRequestListener({
    redis,
    queue,
    requests: new RequestStore(redis, keys),
    idempotency: new IdempotencyStore(redis, keys),
    metrics,
    logger,
    rules: {
      maxPaths: env.MAX_PATHS_PER_REQUEST,
      maxPathLength: env.MAX_PATH_LENGTH,
      allowedDomains: env.ALLOWED_DOMAINS,
      callbackPolicy: outboundPolicy(env.CALLBACK_ALLOWED_HOSTS, env.CALLBACK_ALLOW_PRIVATE),
    },
    tokens: env.INTAKE_TOKENS,
    adminTokens: env.ADMIN_TOKENS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    redisTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    clock,
    keys,
    hooks,
  });

  // Node's defaults hold a slow request's socket for 5 minutes and look at it every 30 s.
  const server = createHttpServer(
    {
      headersTimeout: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1000, env.HTTP_HEADERS_TIMEOUT_MS),
    },
    listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;

  return {
    server,
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    metrics,
    queue,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await queue.close();
      clock.stop();
      redis.disconnect();
      queueRedis.disconnect();
    },
  };
}
