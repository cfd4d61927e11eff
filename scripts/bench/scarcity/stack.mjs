// One fresh refreshq stack for a replay: a private redis-server, the emulator as the upstream
// with the day's budgets, and intake and one worker as real processes configured by env only.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../../apps/vod-emulator/dist/index.js';
import { freePort, startRedisServer } from '../../../packages/test-redis/dist/index.js';
import { waitForPort } from '../../lib/ports.mjs';
import { formatOffset } from './quota-day.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const KEY = { accessKeyId: 'LTAIbenchScarcity01', accessKeySecret: 'bench-scarcity-secret-0001' };

function startApp(name, env) {
  const child = spawn(process.execPath, [join(root, `apps/${name}/dist/main.js`)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    name,
    running: () => child.exitCode === null && child.signalCode === null,
    failure: () =>
      new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`),
    ready: (port) =>
      Promise.race([
        waitForPort(port),
        exited.then(() => {
          throw new Error(`${name} exited before it listened:\n${output}`);
        }),
      ]),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function control(upstreamUrl, method, route, body) {
  const response = await fetch(`${upstreamUrl}/_emulator${route}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok)
    throw new Error(`emulator ${method} ${route}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * `limits`: { urlsPerDay, dirsPerDay, urlsPerMinute, dirsPerMinute }, the same for the worker's
 * budgets and the emulator's refusals; `utcOffsetMinutes`: where both start the quota day;
 * `extraWorkerEnv`: what selects the policy.
 */
export async function startStack({ limits, utcOffsetMinutes, extraWorkerEnv, namespace }) {
  const redis = await startRedisServer();
  const upstream = await startEmulator({
    credentials: [KEY],
    silent: true,
    quotaUtcOffsetMinutes: utcOffsetMinutes,
  });
  const apps = [];
  const stop = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await upstream.close();
    await redis.stop();
  };
  try {
    await control(upstream.url, 'PATCH', '/quota', { limits });
    const intakePort = await freePort();
    const metricsPort = await freePort();
    const shared = { REDIS_URL: redis.url, REFRESHQ_NAMESPACE: namespace, LOG_LEVEL: 'warn' };
    const workerEnv = {
      ...shared,
      VOD_ENDPOINT: upstream.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
      QUOTA_URLS_PER_DAY: String(limits.urlsPerDay),
      QUOTA_DIRS_PER_DAY: String(limits.dirsPerDay),
      QUOTA_URLS_PER_MINUTE: String(limits.urlsPerMinute),
      QUOTA_DIRS_PER_MINUTE: String(limits.dirsPerMinute),
      QUOTA_UTC_OFFSET: formatOffset(utcOffsetMinutes),
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_METRICS_HOST: '127.0.0.1',
      ...extraWorkerEnv,
    };
    const intake = startApp('intake', { ...shared, PORT: String(intakePort), HOST: '127.0.0.1' });
    apps.push(intake);
    const worker = startApp('worker', workerEnv);
    apps.push(worker);
    await Promise.all([intake.ready(intakePort), worker.ready(metricsPort)]);
    return {
      intakeUrl: `http://127.0.0.1:${intakePort}`,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      control: (method, route, body) => control(upstream.url, method, route, body),
      /** What the worker ran with, the secret left out. */
      workerEnv: { ...workerEnv, ALIBABA_CLOUD_ACCESS_KEY_SECRET: '(set)' },
      /** Throws when intake or the worker died during the run. */
      checkAlive: () => {
        for (const app of apps) if (!app.running()) throw app.failure();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
