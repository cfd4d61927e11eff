// Intake throughput on loopback, next to a bare express handler that parses the same JSON, in
// one run: single-path POSTs (`intake`) and 1,000-path POSTs (`bulk`). The load comes from wrk
// (installed when missing, as scripts/test-tools.mjs does). The two servers are measured in
// alternating rounds, so that the noise of a shared machine falls on both; each figure is the
// median of its rounds. With BENCH_PROFILE=1 intake runs under `node --cpu-prof` (in a separate
// pass, never in the measured rounds) and the profile's top frames are summarised. With
// BENCH_BASELINE_ROOT=<another checkout, built> that checkout's intake is measured too, in the
// same rounds: a before/after in one run.
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedisServer } from '../../packages/test-redis/dist/index.js';
import { waitForPort } from '../lib/ports.mjs';
import { BENCH_TOOLS, ensureTools } from '../test-tools.mjs';
import { printProfile, summarizeProfile } from './cpu-profile.mjs';
import { cpuSeconds, median } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const BODIES = {
  single: { script: 'scripts/bench/single-path-post.lua', paths: 1 },
  bulk: { script: 'scripts/bench/bulk-post.lua', paths: 1000 },
};

function requireWrk() {
  if (ensureTools(BENCH_TOOLS).length > 0)
    throw new Error(
      'the intake benchmarks need wrk on PATH (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)',
    );
}

function wrk(port, { duration, connections, body }) {
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${connections}`,
      `-d${duration}s`,
      '-s',
      join(root, BODIES[body].script),
      `http://127.0.0.1:${port}`,
    ],
    { encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`wrk printed no RESULT line:\n${out}`);
  const [rps, p50, p99, non2xx, errors, total] = line.split(' ').slice(1).map(Number);
  return { requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, non2xx, errors, total };
}

/** One measured round against one server: wrk's figures, plus the server's CPU per request. */
function round(server, options) {
  const before = cpuSeconds(server.pid);
  const result = wrk(server.port, options);
  const after = cpuSeconds(server.pid);
  const cpuUsPerRequest =
    before === undefined || result.total === 0
      ? undefined
      : Math.round(((after - before) * 1e6) / result.total);
  return { ...result, cpuUsPerRequest };
}

function summary(rounds, pathsPerRequest) {
  const rps = median(rounds.map((r) => r.requestsPerSecond));
  return {
    requestsPerSecond: Math.round(rps),
    pathsPerSecond: Math.round(rps * pathsPerRequest),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    cpuUsPerRequest: median(rounds.map((r) => r.cpuUsPerRequest)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    rounds: rounds.map((r) => r.requestsPerSecond),
    p99ByRound: rounds.map((r) => r.p99Ms),
  };
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function startIntake(redisUrl, port, nodeArgs = [], from = root, namespace = 'bench') {
  const child = spawn(process.execPath, [...nodeArgs, join(from, 'apps/intake/dist/main.js')], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REFRESHQ_NAMESPACE: namespace,
      MAX_PATHS_PER_REQUEST: '1000',
    },
    stdio: 'inherit',
  });
  await waitForPort(port);
  return { pid: child.pid, port, child };
}

/** intake under `node --cpu-prof` for one wrk run of `seconds`; the profile's summary. */
async function profileIntake(redisUrl, options, from = root) {
  const dir = mkdtempSync(join(tmpdir(), 'refreshq-intake-profile-'));
  const port = await freePort();
  const namespace = `bench-profile-${port}`;
  const intake = await startIntake(redisUrl, port, ['--cpu-prof', `--cpu-prof-dir=${dir}`], from, namespace);
  try {
    wrk(port, { ...options, duration: 2 });
    const result = wrk(port, options);
    await stopChild(intake.child);
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    const profile = summarizeProfile(join(dir, file), 25);
    const title = `intake${from === root ? '' : ` at ${from}`}, ${options.body} POSTs, ${result.requestsPerSecond} req/s under the profiler`;
    return { underProfiler: result, profile, text: printProfile(profile, title) };
  } finally {
    await stopChild(intake.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Intake (validating, normalising, queueing in a private redis-server) beside the bare handler,
 * `rounds` alternating rounds of `duration` seconds each, after a warm-up of both.
 */
async function compare({ body, duration, connections, rounds }) {
  requireWrk();
  const redis = await startRedisServer();
  const intakePort = await freePort();
  const barePort = await freePort();
  const intake = await startIntake(redis.url, intakePort);
  const baselineRoot = process.env.BENCH_BASELINE_ROOT;
  const baseline = baselineRoot
    ? await startIntake(redis.url, await freePort(), [], baselineRoot, 'bench-baseline')
    : undefined;
  const bareChild = fork(join(root, 'scripts/bench/bare-express.mjs'), {
    env: { ...process.env, PORT: String(barePort) },
    stdio: 'inherit',
  });
  const bare = { pid: bareChild.pid, port: barePort };
  try {
    await waitForPort(barePort);
    const options = { duration, connections, body };
    const servers = [
      { name: 'bare', server: bare, rounds: [] },
      { name: 'intake', server: intake, rounds: [] },
      ...(baseline ? [{ name: 'baseline', server: baseline, rounds: [] }] : []),
    ];
    for (const { server } of servers) wrk(server.port, { ...options, duration: 2 });
    for (let i = 0; i < rounds; i += 1) {
      // Rotate who goes first, so no server always gets the quieter moments.
      for (let j = 0; j < servers.length; j += 1) {
        const entry = servers[(i + j) % servers.length];
        entry.rounds.push(round(entry.server, options));
      }
    }
    const pathsPerRequest = BODIES[body].paths;
    const [bareSummary, intakeSummary, baselineSummary] = servers.map((entry) =>
      summary(entry.rounds, pathsPerRequest),
    );
    const ratioTo = (of) => ({
      throughput: Number((of.requestsPerSecond / bareSummary.requestsPerSecond).toFixed(3)),
      p99: Number((of.p99Ms / Math.max(bareSummary.p99Ms, 0.001)).toFixed(2)),
      cpuPerRequest:
        of.cpuUsPerRequest && bareSummary.cpuUsPerRequest
          ? Number((of.cpuUsPerRequest / bareSummary.cpuUsPerRequest).toFixed(2))
          : undefined,
    });
    const profiling = process.env.BENCH_PROFILE === '1';
    const profiled = profiling ? await profileIntake(redis.url, options) : undefined;
    const baselineProfiled =
      profiling && baselineRoot ? await profileIntake(redis.url, options, baselineRoot) : undefined;
    return {
      settings: {
        duration,
        connections,
        rounds,
        tool: 'wrk -t1',
        body: `${pathsPerRequest} distinct path(s) per POST`,
      },
      bareExpress: bareSummary,
      intake: intakeSummary,
      ratio: ratioTo(intakeSummary),
      ...(baselineSummary
        ? {
            baseline: {
              root: baselineRoot,
              ...baselineSummary,
              ratio: ratioTo(baselineSummary),
              ...(baselineProfiled ? { profile: baselineProfiled } : {}),
            },
          }
        : {}),
      ...(profiled ? { profile: profiled } : {}),
    };
  } finally {
    await stopChild(intake.child);
    if (baseline) await stopChild(baseline.child);
    await stopChild(bareChild);
    await redis.stop();
  }
}

export async function benchIntake({ duration = 10, connections = 32, rounds = 3 } = {}) {
  return { name: 'intake', ...(await compare({ body: 'single', duration, connections, rounds })) };
}

export async function benchIntakeBulk({ duration = 10, connections = 8, rounds = 3 } = {}) {
  return { name: 'bulk', ...(await compare({ body: 'bulk', duration, connections, rounds })) };
}
