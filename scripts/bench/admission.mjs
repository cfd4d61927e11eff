// Admission: how many paths per second worker processes move from the intake queue into the
// pending pool, from requests of 1,000 distinct paths, with one worker and then with two (each
// a real process from the build) in the same run. The jobs are queued while the queue is paused,
// the workers start, and the clock runs from resume to the last job completed. The coalescing
// window is a minute and the day's budget one URL, so (almost) no batch is cut meanwhile: what
// is measured is admission alone. With BENCH_BASELINE_ROOT=<another checkout, built> that
// checkout's worker (and its Lua scripts) is measured too, in the same run.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { startEmulator } from '../../apps/vod-emulator/dist/index.js';
import { cpuSeconds, median } from './measure.mjs';
import { createRedis, keyspace } from '../../packages/store/dist/index.js';
import { freePort, startRedisServer } from '../../packages/test-redis/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = { accessKeyId: 'LTAIbenchAdmit0001', accessKeySecret: 'bench-admit-secret-0001' };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function request(job, pathsPerRequest, domains) {
  const paths = [];
  const hosts = [];
  for (let i = 0; i < pathsPerRequest; i += 1) {
    const host = `d${i % domains}.bench.example`;
    paths.push(`https://${host}/job${job}/asset/${i}.png`);
    hosts.push(host);
  }
  return {
    id: randomUUID(),
    objectType: 'File',
    priority: 'normal',
    paths,
    domains: hosts,
    receivedAt: Date.now(),
  };
}

const perPath = (used, paths) => (used === undefined ? undefined : Number(((used * 1e6) / paths).toFixed(2)));
const share = (used, seconds) => (used === undefined ? undefined : Number((used / seconds).toFixed(2)));

async function waitForHealth(port, child) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('worker did not become healthy');
    await sleep(100);
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A configuration's rounds: the median round by paths/s (its figures, CPU and commands), with
 * every round's rate beside it.
 */
function summary(rounds) {
  const middle = [...rounds].sort((a, b) => a.pathsPerSecond - b.pathsPerSecond)[
    Math.floor(rounds.length / 2)
  ];
  return {
    ...middle,
    redisCpuUsPerPath: median(rounds.map((r) => r.redisCpuUsPerPath)),
    byRound: rounds.map((r) => r.pathsPerSecond),
  };
}

/** Empties the bench's own redis-server between runs, so each starts from the same memory. */
async function flush(url) {
  const redis = createRedis(url, 'consumer', 'bench-admission-flush');
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}

/** INFO commandstats as { command: µs per path }, the eight largest. */
function commandProfile(info, paths) {
  const rows = [];
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) rows.push([match[1], Number(match[3]) / paths]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows.slice(0, 8).map(([name, us]) => [name, Number(us.toFixed(2))]));
}

/** One measured run: `workers` processes admit `jobs` requests of `pathsPerRequest` paths. */
async function run({
  from = root,
  redisUrl,
  redisPid,
  emulatorUrl,
  workers,
  jobs,
  pathsPerRequest,
  domains,
  concurrency,
}) {
  const namespace = `bench-admit-${workers}-${randomUUID().slice(0, 8)}`;
  const keys = keyspace(namespace);
  const connection = createRedis(redisUrl, 'consumer', 'bench-admission');
  const queue = new Queue('intake', { connection, prefix: keys.bullPrefix });
  const children = [];
  try {
    await queue.pause();
    for (let job = 0; job < jobs; job += 50) {
      await queue.addBulk(
        Array.from({ length: Math.min(50, jobs - job) }, (_v, i) => {
          const data = request(job + i, pathsPerRequest, domains);
          return { name: 'refresh', data, opts: { jobId: data.id, removeOnComplete: { count: 1_000_000 } } };
        }),
      );
    }
    for (let i = 0; i < workers; i += 1) {
      const port = await freePort();
      const child = spawn(process.execPath, [join(from, 'apps/worker/dist/main.js')], {
        env: {
          PATH: process.env.PATH,
          REDIS_URL: redisUrl,
          REFRESHQ_NAMESPACE: namespace,
          VOD_ENDPOINT: emulatorUrl,
          ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
          WORKER_METRICS_PORT: String(port),
          WORKER_METRICS_HOST: '127.0.0.1',
          COALESCE_WINDOW_MS: '60000',
          QUOTA_URLS_PER_DAY: '1',
          LOG_LEVEL: 'warn',
          ...(concurrency ? { ADMIT_CONCURRENCY: String(concurrency) } : {}),
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
      await waitForHealth(port, child);
    }
    await connection.config('RESETSTAT');
    const redisCpu = cpuSeconds(redisPid);
    const workerCpu = children.map((child) => cpuSeconds(child.pid));
    const started = performance.now();
    await queue.resume();
    for (;;) {
      const { completed, failed } = await queue.getJobCounts('completed', 'failed');
      if (failed > 0) throw new Error(`${failed} admission jobs failed`);
      if (completed >= jobs) break;
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const redisUsed = cpuSeconds(redisPid) - redisCpu;
    const workersUsed = children.map((child, i) => cpuSeconds(child.pid) - workerCpu[i]);
    const commands = commandProfile(await connection.info('commandstats'), jobs * pathsPerRequest);
    const pending = Number((await connection.hget(keys.backlog, 'File:normal')) ?? 0);
    if (pending < jobs * pathsPerRequest - 1)
      throw new Error(`expected ${jobs * pathsPerRequest} pending paths, found ${pending}`);
    return {
      workers,
      jobs,
      paths: jobs * pathsPerRequest,
      seconds: Number(seconds.toFixed(2)),
      pathsPerSecond: Math.round((jobs * pathsPerRequest) / seconds),
      // Cores each process kept busy over the run: redis-server near 1.0 means Redis is the limit.
      redisCores: share(redisUsed, seconds),
      workerCores: workersUsed.map((used) => share(used, seconds)),
      // CPU per admitted path, which a busy machine disturbs far less than the rate.
      redisCpuUsPerPath: perPath(redisUsed, jobs * pathsPerRequest),
      workerCpuUsPerPath: perPath(
        workersUsed.reduce(
          (sum, used) => (used === undefined || sum === undefined ? undefined : sum + used),
          0,
        ),
        jobs * pathsPerRequest,
      ),
      // Where redis-server's time went (INFO commandstats; a script's own commands are counted
      // inside its evalsha too), µs per admitted path, the largest first.
      redisCommands: commands,
    };
  } finally {
    await Promise.all(children.map(stop));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
  }
}

export async function benchAdmission({
  jobs = Number(process.env.ADMISSION_JOBS ?? 200),
  pathsPerRequest = 1000,
  domains = 10,
  concurrency = process.env.ADMISSION_CONCURRENCY,
  rounds = Number(process.env.ADMISSION_ROUNDS ?? 3),
} = {}) {
  const redis = await startRedisServer();
  const emulator = await startEmulator({ credentials: [KEY], quotas: { urlsPerDay: 1 }, silent: true });
  try {
    const shared = {
      redisUrl: redis.url,
      redisPid: redis.process.pid,
      emulatorUrl: emulator.url,
      jobs,
      pathsPerRequest,
      domains,
      concurrency,
    };
    // A short warm-up run (JIT, script cache); then rounds, each running every build and worker
    // count once on an empty Redis, each round starting one further along the list.
    await run({ ...shared, workers: 1, jobs: Math.min(20, jobs) });
    const baselineRoot = process.env.BENCH_BASELINE_ROOT;
    const configs = [
      { key: 'one', from: root, workers: 1 },
      { key: 'two', from: root, workers: 2 },
      ...(baselineRoot
        ? [
            { key: 'baselineOne', from: baselineRoot, workers: 1 },
            { key: 'baselineTwo', from: baselineRoot, workers: 2 },
          ]
        : []),
    ];
    const runs = Object.fromEntries(configs.map((config) => [config.key, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < configs.length; i += 1) {
        const config = configs[(round + i) % configs.length];
        await flush(redis.url);
        runs[config.key].push(await run({ ...shared, from: config.from, workers: config.workers }));
      }
    }
    const [one, two, baselineOne, baselineTwo] = configs.map((config) => summary(runs[config.key]));
    return {
      name: 'admission',
      settings: { jobs, pathsPerRequest, domains, rounds, admitConcurrency: concurrency ?? 'default' },
      one,
      two,
      scaling: Number((two.pathsPerSecond / one.pathsPerSecond).toFixed(2)),
      ...(baselineRoot
        ? {
            baseline: {
              root: baselineRoot,
              one: baselineOne,
              two: baselineTwo,
              scaling: Number((baselineTwo.pathsPerSecond / baselineOne.pathsPerSecond).toFixed(2)),
            },
          }
        : {}),
    };
  } finally {
    await emulator.close();
    await redis.stop();
  }
}
