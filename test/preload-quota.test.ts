import { createRedis, keyspace, type Redis, RedisClock, setClockOffset } from '@refreshq/store';
import { type PreloadSubmission, type RunningEmulator, startEmulator } from '@refreshq/vod-emulator';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, mapLimit, startApp, workerProcessEnv } from './support/processes.js';
import {
  cleanNamespace,
  eventually,
  postJson,
  redisUrl,
  startTestIntake,
  TEST_KEY,
  type TestIntake,
} from './support/stack.js';

/**
 * The preload budget across worker processes (issue #16): exactly the budget a day, never more,
 * with several workers taking from it at once, and the day's use synced from DescribeVodRefreshQuota.
 * Needs the built worker (`npx pnpm build`).
 */

const MINUTE = 60_000;
const DAY_STARTS_AT = Date.parse('2026-11-24T16:00:00Z'); // 00:00 UTC+8
const START = DAY_STARTS_AT - 3 * MINUTE;
const quotaDay = (ms: number) => Math.floor((ms + 8 * 3600_000) / 86_400_000);

interface Rig {
  emulator: RunningEmulator;
  intake: TestIntake;
  workers: AppProcess[];
  redis: Redis;
}
let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  await Promise.all(rig.workers.map((worker) => worker.stop()));
  await rig.intake.close();
  await rig.emulator.close();
  rig.redis.disconnect();
  await cleanNamespace(rig.intake.namespace);
  rig = undefined;
});

/** Sets the emulator's clock and the governor's clock to the same emulated time. */
async function setEmulatedNow(current: Rig, ms: number): Promise<void> {
  current.emulator.emulator.setNow(ms);
  await setClockOffset(
    current.redis,
    keyspace(current.intake.namespace),
    ms - (await new RedisClock(current.redis).read()),
  );
}

async function start(perDay: number, usedBefore: number, workers: number): Promise<Rig> {
  const emulator = await startEmulator({
    credentials: [TEST_KEY],
    quotas: { preloadPerDay: perDay },
    tasks: { pendingMs: 50, completeAfterMs: 200 },
    silent: true,
  });
  const intake = await startTestIntake();
  const redis = createRedis(redisUrl(), 'consumer', 'test-clock');
  const current: Rig = { emulator, intake, workers: [], redis };
  rig = current;
  await setEmulatedNow(current, START);
  emulator.emulator.setQuota({ used: { preloadsToday: usedBefore } });
  for (let i = 0; i < workers; i += 1) {
    current.workers.push(
      startApp(
        'worker',
        workerProcessEnv(redisUrl(), intake.namespace, emulator.url, TEST_KEY, {
          COALESCE_WINDOW_MS: '50',
          COALESCE_QUIET_MS: '0',
          MAX_PRELOADS_PER_CALL: '7',
          QUOTA_PRELOADS_PER_DAY: String(perDay),
          QUOTA_PRELOADS_PER_MINUTE: '100000',
          QUOTA_CLOCK: 'offset',
          QUOTA_SYNC_INTERVAL_MS: '0',
          TASK_FIRST_POLL_MS: '200',
        }),
      ),
    );
  }
  // Every worker has read the quota (its start check) before anything is queued.
  await eventually(
    async () =>
      (emulator.emulator.counts().calls.DescribeVodRefreshQuota?.OK ?? 0) >= workers ? true : undefined,
    20_000,
    'the workers to start',
  );
  return current;
}

async function post(current: Rig, count: number): Promise<void> {
  const paths = Array.from({ length: count }, (_v, i) => `https://pq${i % 3}.example.com/warm/${i}.mp4`);
  const chunks = Array.from({ length: Math.ceil(paths.length / 10) }, (_v, i) =>
    paths.slice(i * 10, i * 10 + 10),
  );
  await mapLimit(chunks, 4, async (chunk) => {
    const answer = await postJson(`${current.intake.url}/v1/refreshes`, { paths: chunk, action: 'preload' });
    expect(answer.status).toBe(202);
  });
}

const preloaded = (current: Rig): PreloadSubmission[] => current.emulator.emulator.preloads();
const count = (current: Rig) => preloaded(current).reduce((sum, s) => sum + s.paths.length, 0);

/** Waits until the workers stop prefetching (the governor holds them), at most `maxMs`. */
async function settle(current: Rig, maxMs = 8000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const now = count(current);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 1000) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function perDay(current: Rig): Map<number, number> {
  const days = new Map<number, number>();
  for (const s of preloaded(current))
    days.set(quotaDay(s.atMs), (days.get(quotaDay(s.atMs)) ?? 0) + s.paths.length);
  return days;
}

describe('the preload budget with 4 worker processes against the emulator', () => {
  it('prefetches exactly the day’s budget, never more and without a refusal, and the rest the next day', async () => {
    const budget = 40;
    const current = await start(budget, 0, 4);
    await post(current, 65);
    await settle(current);
    expect(perDay(current).get(quotaDay(START))).toBe(budget);

    await setEmulatedNow(current, DAY_STARTS_AT + MINUTE);
    await settle(current);
    const days = perDay(current);
    const answers = current.emulator.emulator.counts().calls.PreloadVodObjectCaches ?? {};
    process.stdout.write(
      `preload quota: per day ${JSON.stringify([...days.values()])}; answers ${JSON.stringify(answers)}\n`,
    );
    expect(days.get(quotaDay(START))).toBe(budget);
    expect(days.get(quotaDay(DAY_STARTS_AT))).toBe(25);
    expect(new Set(preloaded(current).flatMap((s) => s.paths)).size).toBe(65);
    expect(Object.keys(answers).filter((code) => code !== 'OK')).toEqual([]);
    // Not a unit of the URL refresh quota was spent.
    expect(current.emulator.emulator.submissions()).toEqual([]);
  }, 120_000);

  it('counts preloads another tool made today (PreloadRemain) and takes only what is left', async () => {
    const current = await start(30, 12, 2);
    await post(current, 30);
    await settle(current);
    const answers = current.emulator.emulator.counts().calls.PreloadVodObjectCaches ?? {};
    expect(count(current)).toBe(18);
    expect(Object.keys(answers).filter((code) => code !== 'OK')).toEqual([]);
  }, 120_000);
});
