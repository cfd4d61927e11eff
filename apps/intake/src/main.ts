import { loadEnvOrExit } from '@refreshq/config';
import {
  createIntakeQueue,
  createRedis,
  IdempotencyStore,
  keyspace,
  RedisClock,
  RequestStore,
  waitUntilReady,
} from '@refreshq/store';
import { createLogger } from '@refreshq/telemetry';
import { intakeEnvSchema } from './env.js';
import { createIntakeMetrics } from './intake-metrics.js';
import { createServer } from './server.js';

const env = loadEnvOrExit(intakeEnvSchema);
const logger = createLogger({ name: 'intake', level: env.LOG_LEVEL, secrets: env.INTAKE_TOKENS });
const keys = keyspace(env.REFRESHQ_NAMESPACE);
const redis = createRedis(env.REDIS_URL, 'client', 'intake');
redis.on('error', (error) => logger.warn({ err: error }, 'redis connection problem'));

try {
  await waitUntilReady(redis, 15_000);
} catch (error) {
  logger.fatal({ err: error, redis: new URL(env.REDIS_URL).host }, 'cannot reach Redis; is REDIS_URL right?');
  process.exit(1);
}

const clock = new RedisClock(redis);
await clock.start();
const queue = createIntakeQueue(redis, keys);
const app = createServer({
  redis,
  queue,
  requests: new RequestStore(redis, keys),
  idempotency: new IdempotencyStore(redis, keys),
  metrics: createIntakeMetrics(),
  logger,
  rules: {
    maxPaths: env.MAX_PATHS_PER_REQUEST,
    maxPathLength: env.MAX_PATH_LENGTH,
    allowedDomains: env.ALLOWED_DOMAINS,
    callbackHosts: env.CALLBACK_ALLOWED_HOSTS,
  },
  tokens: env.INTAKE_TOKENS,
  maxBodyBytes: env.MAX_BODY_BYTES,
  trustProxyHops: env.TRUST_PROXY_HOPS,
  clock,
  keys,
});

const server = app.listen(env.PORT, env.HOST, () => {
  logger.info(
    {
      port: env.PORT,
      host: env.HOST,
      auth: env.INTAKE_TOKENS.length > 0,
      allowedDomains: env.ALLOWED_DOMAINS.length,
    },
    `intake listening: POST http://127.0.0.1:${env.PORT}/v1/refreshes`,
  );
});
server.keepAliveTimeout = 65_000;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'intake stopping: no new connections, finishing requests in flight');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await queue.close();
  clock.stop();
  redis.disconnect();
  logger.info('intake stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
