#!/usr/bin/env node
// The whole local stack in one command (DESIGN.md, "The local stack"): Redis (REDIS_URL, or a
// redis-server from PATH with persistence under .data/), intake, worker, and the bundled VOD
// emulator when no Alibaba Cloud credentials are set. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { portIsFree, waitForPort } from './lib/ports.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const children = [];
let stopping = false;

function say(message) {
  process.stdout.write(`[refreshq] ${message}\n`);
}

async function freePortFrom(start) {
  for (let port = start; port < start + 100; port += 1) if (await portIsFree(port)) return port;
  throw new Error(`no free port from ${start}`);
}

function run(name, command, args, childEnv) {
  const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping the stack`);
      void stop(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // Intake first (no new work), then the worker (hands back what it holds), then the rest.
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 35_000))]);
  }
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function startRedis() {
  if (env.REDIS_CLUSTER_NODES || env.REDIS_SENTINELS) {
    say(
      `using the Redis ${env.REDIS_CLUSTER_NODES ? 'Cluster at REDIS_CLUSTER_NODES' : 'master the REDIS_SENTINELS name'}`,
    );
    return;
  }
  if (env.REDIS_URL) {
    say(`using Redis at REDIS_URL`);
    return;
  }
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const binary = found.stdout.trim();
  if (found.status !== 0 || !binary) {
    say(
      'no Redis: set REDIS_URL=redis://host:port, or install redis-server (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or run `docker compose up`.',
    );
    process.exit(1);
  }
  const dir = join(root, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePortFrom(Number(env.LOCAL_REDIS_PORT ?? 6380));
  run(
    'redis',
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '60 1000',
    ],
    env,
  );
  await waitForPort(port, 10_000);
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  say(`started redis-server on port ${port}, persistence (AOF) in .data/redis`);
}

async function main() {
  await startRedis();

  const workerEnv = { ...env };
  // Any source of Alibaba's credential chain means a real account; none means the emulator.
  const credentialVariables = [
    'ALIBABA_CLOUD_ACCESS_KEY_ID',
    'ALIBABA_CLOUD_ROLE_ARN',
    'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    'ALIBABA_CLOUD_ECS_METADATA',
    'ALIBABA_CLOUD_CREDENTIALS_URI',
    'ALIBABA_CLOUD_PROFILE',
    'ALIBABA_CLOUD_CREDENTIALS_FILE',
  ];
  const credentialsSet = credentialVariables.filter((name) => env[name]);
  if (credentialsSet.length === 0) {
    const { DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET } = await import('../apps/vod-emulator/dist/index.js');
    const emulatorPort = Number(env.EMULATOR_PORT ?? 9300);
    run('emulator', process.execPath, ['apps/vod-emulator/dist/main.js'], {
      ...env,
      EMULATOR_PORT: String(emulatorPort),
    });
    await waitForPort(emulatorPort, 10_000);
    Object.assign(workerEnv, {
      VOD_ENDPOINT: `http://127.0.0.1:${emulatorPort}`,
      ALIBABA_CLOUD_ACCESS_KEY_ID: DEV_ACCESS_KEY_ID,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEV_ACCESS_KEY_SECRET,
    });
    say('************************************************************************');
    say('* No Alibaba Cloud credentials set: the worker talks to the           *');
    say(`* bundled VOD EMULATOR at http://127.0.0.1:${emulatorPort}, not to Alibaba Cloud. *`);
    say('************************************************************************');
  } else {
    say(
      `credentials set (${credentialsSet.join(', ')}): the worker talks to ${env.VOD_ENDPOINT ?? 'https://vod.cn-shanghai.aliyuncs.com'}`,
    );
  }

  const port = Number(env.PORT ?? 8080);
  const metricsPort = Number(env.WORKER_METRICS_PORT ?? 9464);
  run('worker', process.execPath, ['apps/worker/dist/main.js'], workerEnv);
  run('intake', process.execPath, ['apps/intake/dist/main.js'], env);
  await waitForPort(port, 15_000);
  await waitForPort(metricsPort, 15_000);
  say('ready:');
  say(
    `  POST   http://127.0.0.1:${port}/v1/refreshes   e.g. curl -sS -X POST localhost:${port}/v1/refreshes -H 'content-type: application/json' -d '{"paths":["https://example.com/a.png"]}'`,
  );
  say(`  GET    http://127.0.0.1:${port}/v1/refreshes/<id>`);
  say(`  page   http://127.0.0.1:${port}/ui/ (the operator page), API http://127.0.0.1:${port}/openapi.json`);
  say(
    `  CLI    npx pnpm refreshq purge https://example.com/a.png --wait   (REFRESHQ_URL=http://127.0.0.1:${port})`,
  );
  say(
    `  metrics http://127.0.0.1:${port}/metrics (intake), http://127.0.0.1:${metricsPort}/metrics (worker)`,
  );
  say(
    '  callbacks to inside addresses (127.0.0.1, 10.x, …) are refused; to try one here, set CALLBACK_ALLOWED_HOSTS=127.0.0.1:<port> (or CALLBACK_ALLOW_PRIVATE=true) before start',
  );
  say('Ctrl-C stops the stack.');
}

main().catch((error) => {
  say(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  void stop(1);
});
