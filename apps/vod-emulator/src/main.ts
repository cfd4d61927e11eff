import { pino } from 'pino';
import { EnvError, parseEnv, type EmulatorEnv } from './env.js';
import { maskAccessKeyId } from './logger.js';
import { DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET } from './options.js';
import { startEmulator } from './start.js';

/** `pnpm start:emulator`: reads the environment once, listens, stops cleanly on SIGTERM/SIGINT. */

let env: EmulatorEnv;
try {
  env = parseEnv(process.env);
} catch (error) {
  if (error instanceof EnvError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = pino({ name: 'vod-emulator', level: env.logLevel });

if (env.usesDevCredentials) {
  const banner = [
    '',
    '==================================================================',
    ' VOD EMULATOR: no ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET set; trusting',
    ' the public DEVELOPMENT key pair (never valid on Alibaba Cloud):',
    `   ALIBABA_CLOUD_ACCESS_KEY_ID=${DEV_ACCESS_KEY_ID}`,
    `   ALIBABA_CLOUD_ACCESS_KEY_SECRET=${DEV_ACCESS_KEY_SECRET}`,
    '==================================================================',
    '',
  ].join('\n');
  process.stderr.write(banner);
  logger.warn(
    { accessKeyId: DEV_ACCESS_KEY_ID, accessKeySecret: DEV_ACCESS_KEY_SECRET },
    'trusting the development key pair',
  );
}

const running = await startEmulator({ ...env.options, port: env.port, host: env.host, logger });
const { quotas, domains } = env.options;
logger.info(
  {
    url: running.url,
    accessKeyId: env.usesDevCredentials
      ? DEV_ACCESS_KEY_ID
      : maskAccessKeyId(env.options.credentials?.[0]?.accessKeyId),
    domains: domains === undefined ? 'every non-wildcard domain' : domains,
    quotas,
    control: `${running.url}/_emulator/state`,
  },
  'VOD emulator listening',
);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'VOD emulator shutting down');
  const { server, emulator } = running;
  emulator.releaseHeld();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests in flight get a moment to finish; then every connection is cut.
  const force = setTimeout(() => server.closeAllConnections(), 3000);
  force.unref();
  await closed;
  logger.info('VOD emulator stopped');
  process.exit(0);
}
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
