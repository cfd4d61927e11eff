import { describeRedisTarget, exitOnConfigError, loadEnvOrExit, redisSecrets } from '@refreshq/config';
import { createLogger } from '@refreshq/telemetry';
import { intakeEnvSchema } from './env.js';
import { hookSecrets } from './hooks/index.js';
import { loadIntakeHooks, startIntake } from './start.js';

const env = loadEnvOrExit(intakeEnvSchema);
const hooks = exitOnConfigError(() => loadIntakeHooks(env));
const logger = createLogger({
  name: 'intake',
  level: env.LOG_LEVEL,
  secrets: [...env.INTAKE_TOKENS, ...env.ADMIN_TOKENS, ...hookSecrets(hooks), ...redisSecrets(env.redis)],
});
for (const hook of hooks.values()) {
  if (hook.secret === undefined) {
    logger.warn(
      { hook: hook.name, preset: hook.preset.name, bearer: env.INTAKE_TOKENS.length > 0 },
      'hook is unsigned: anyone who knows its URL can queue refreshes through it (a bearer token is required when INTAKE_TOKENS is set)',
    );
  }
}

const intake = await startIntake(env, logger, { hooks }).catch((error: unknown) => {
  logger.fatal(
    { err: error, redis: describeRedisTarget(env.redis) },
    'intake cannot start; are REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS right?',
  );
  process.exit(1);
});
logger.info(
  {
    port: env.PORT,
    host: env.HOST,
    auth: env.INTAKE_TOKENS.length > 0,
    adminAuth: env.ADMIN_TOKENS.length > 0,
    allowedDomains: env.ALLOWED_DOMAINS.length,
    hooks: [...hooks.values()].map((hook) => `${hook.name} (${hook.preset.name})`),
    callbackAllowedHosts: env.CALLBACK_ALLOWED_HOSTS.length,
    callbackAllowPrivate: env.CALLBACK_ALLOW_PRIVATE,
  },
  `intake listening: POST ${intake.url}/v1/refreshes; operator page ${intake.url}/ui/`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'intake stopping: no new connections, finishing requests in flight');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await intake.stop();
  logger.info('intake stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
