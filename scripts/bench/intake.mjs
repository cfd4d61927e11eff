// Intake throughput: single-path POST /v1/refreshes on loopback, next to a bare express handler.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { waitForPort } from '../lib/ports.mjs';
import { freePort, startRedisServer } from '../../packages/test-redis/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const wrk = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim();

/** wrk (C, one thread) steals less CPU from the servers than autocannon on a small machine. */
function loadWithWrk(port, { duration, connections }) {
  const out = execFileSync(
    wrk,
    [
      '-t1',
      `-c${connections}`,
      `-d${duration}s`,
      '-s',
      join(root, 'scripts/bench/single-path-post.lua'),
      `http://127.0.0.1:${port}`,
    ],
    { encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`wrk printed no RESULT line:\n${out}`);
  const [rps, p50, p99, non2xx, errors, total] = line.split(' ').slice(1).map(Number);
  return { requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, non2xx, errors, total };
}

async function measure(port, options) {
  return wrk ? loadWithWrk(port, options) : summary(await load(port, options));
}

function load(port, { duration, connections }) {
  let n = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}/v1/refreshes`,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ paths: [`https://bench.example.com/asset/${(n += 1)}.png`] }),
        }),
      },
    ],
  });
}

function summary(result) {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function benchIntake({ duration = 10, connections = 32 } = {}) {
  const redis = await startRedisServer();
  const intakePort = await freePort();
  const barePort = await freePort();
  const intake = spawn(process.execPath, [join(root, 'apps/intake/dist/main.js')], {
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      PORT: String(intakePort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REFRESHQ_NAMESPACE: 'bench',
    },
    stdio: 'inherit',
  });
  const bare = fork(join(root, 'scripts/bench/bare-express.mjs'), {
    env: { ...process.env, PORT: String(barePort) },
    stdio: 'inherit',
  });
  try {
    await Promise.all([waitForPort(intakePort), waitForPort(barePort)]);
    // Warm both up, then measure them one after the other in the same run.
    await measure(intakePort, { duration: 2, connections });
    await measure(barePort, { duration: 2, connections });
    const bareResult = await measure(barePort, { duration, connections });
    const intakeResult = await measure(intakePort, { duration, connections });
    return {
      name: 'intake',
      settings: {
        duration,
        connections,
        tool: wrk ? 'wrk -t1' : 'autocannon',
        body: 'one path per POST, distinct paths',
      },
      bareExpress: bareResult,
      intake: intakeResult,
      ratio: {
        throughput: Number((intakeResult.requestsPerSecond / bareResult.requestsPerSecond).toFixed(3)),
        p99: Number((intakeResult.p99Ms / Math.max(bareResult.p99Ms, 0.001)).toFixed(2)),
      },
    };
  } finally {
    await stopChild(intake);
    await stopChild(bare);
    await redis.stop();
  }
}
