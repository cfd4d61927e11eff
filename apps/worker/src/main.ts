import { describeRedisTarget, loadEnvOrExit, redisSecrets } from '@refreshq/config';
import { createLogger } from '@refreshq/telemetry';
import { workerEnvSchema } from './env.js';
import { createMetricsServer } from './metrics-server.js';
import { startWorker } from './worker.js';

const env = loadEnvOrExit(workerEnvSchema);
const secrets = [
  env.ALIBABA_CLOUD_ACCESS_KEY_ID,
  env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  env.ALIBABA_CLOUD_SECURITY_TOKEN,
  env.CALLBACK_SIGNING_SECRET,
  ...redisSecrets(env.redis),
].filter((value): value is string => Boolean(value));
const logger = createLogger({ name: 'worker', level: env.LOG_LEVEL, secrets });

const worker = await startWorker(env, logger);
const metricsServer = createMetricsServer(worker.metrics.registry, () => worker.redis.status === 'ready');
metricsServer.listen(env.WORKER_METRICS_PORT, env.WORKER_METRICS_HOST, () => {
  logger.info(
    {
      endpoint: env.VOD_ENDPOINT,
      redis: describeRedisTarget(env.redis),
      metricsPort: env.WORKER_METRICS_PORT,
      concurrency: env.DISPATCH_CONCURRENCY,
    },
    `worker running; metrics at http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`,
  );
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping: taking no new work, finishing batches in hand');
  const force = setTimeout(() => {
    logger.warn('worker did not stop in time; leases hand its batches to other workers');
    process.exit(1);
  }, 30_000);
  force.unref();
  await worker.stop();
  metricsServer.close();
  logger.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
