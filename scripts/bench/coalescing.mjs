// Coalescing: how fast the admission step merges repeated paths, and how many upstream calls the
// merged backlog costs against the ideal ceil(distinct / per-call max) per domain.
import { randomUUID } from 'node:crypto';
import {
  createRedis,
  keyspace,
  PendingPool,
  RedisClock,
  RequestStore,
} from '../../packages/store/dist/index.js';
import { startRedisServer } from '../../packages/test-redis/dist/index.js';
import { startEmulator } from '../../apps/vod-emulator/dist/index.js';
import { startWorker, workerEnvSchema } from '../../apps/worker/dist/index.js';
import { createLogger } from '../../packages/telemetry/dist/index.js';

const KEY = { accessKeyId: 'LTAIbenchKey000001', accessKeySecret: 'bench-secret-000001' };

async function inParallel(count, limit, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await task(index);
      }
    }),
  );
}

export async function benchCoalescing({
  requests = 100_000,
  distinct = 5_000,
  domains = 1,
  maxPerCall = 1000,
} = {}) {
  const redisServer = await startRedisServer();
  const emulator = await startEmulator({
    credentials: [KEY],
    quotas: { urlsPerDay: 100_000_000 },
    silent: true,
  });
  const namespace = 'bench-coalescing';
  const keys = keyspace(namespace);
  const redis = createRedis(redisServer.url, 'consumer', 'bench');
  const store = new RequestStore(redis, keys);
  const windowMs = 1000;
  const settings = {
    windowMs,
    maxFilesPerCall: maxPerCall,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt: 0,
  };
  try {
    const urlOf = (i) => `https://d${i % domains}.bench.example/asset/${i % distinct}.png`;
    const started = performance.now();
    await inParallel(requests, 32, async (i) => {
      const path = urlOf(i);
      await store.admit(
        { id: randomUUID(), objectType: 'File', priority: 'normal', paths: [path], receivedAt: Date.now() },
        [new URL(path).hostname],
        settings,
      );
    });
    const admitSeconds = (performance.now() - started) / 1000;

    const env = workerEnvSchema.parse({
      REDIS_URL: redisServer.url,
      REFRESHQ_NAMESPACE: namespace,
      VOD_ENDPOINT: emulator.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
      COALESCE_WINDOW_MS: String(windowMs),
      MAX_URLS_PER_CALL: String(maxPerCall),
      WORKER_METRICS_PORT: '0',
      QUOTA_URLS_PER_DAY: '100000000',
      QUOTA_URLS_PER_MINUTE: '100000000',
      QUOTA_CALLS_PER_SECOND: '1000',
    });
    const drainStarted = performance.now();
    const worker = await startWorker(env, createLogger({ name: 'bench', level: 'silent' }));
    const pool = new PendingPool(redis, keys, new RedisClock(redis));
    for (;;) {
      const submitted = emulator.emulator.submissions().reduce((sum, s) => sum + s.paths.length, 0);
      if (submitted >= distinct && (await pool.inflightCount()) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    await worker.stop();
    const calls = emulator.emulator.submissions();
    const pathsSubmitted = calls.reduce((sum, s) => sum + s.paths.length, 0);
    const ideal = domains * Math.ceil(distinct / domains / maxPerCall);
    return {
      name: 'coalescing',
      settings: { requests, distinct, domains, maxPerCall, windowMs, admissionConcurrency: 32 },
      requestsMergedPerSecond: Math.round(requests / admitSeconds),
      duplicatesMerged: requests - distinct,
      admitSeconds: Number(admitSeconds.toFixed(2)),
      drainSeconds: Number(drainSeconds.toFixed(2)),
      pathsSubmitted,
      upstreamCalls: calls.length,
      idealCalls: ideal,
      callsPerDistinctPath: Number((calls.length / distinct).toFixed(4)),
      idealCallsPerDistinctPath: Number((ideal / distinct).toFixed(4)),
    };
  } finally {
    redis.disconnect();
    await emulator.close();
    await redisServer.stop();
  }
}
