import { keyspace, setClockOffset, createRedis, RedisClock, type Redis } from '@refreshq/store';
import { startEmulator, type RunningEmulator, type Submission } from '@refreshq/vod-emulator';
import { afterEach, describe, expect, it } from 'vitest';
import { mapLimit, startApp, workerProcessEnv, type AppProcess } from './support/processes.js';
import {
  cleanNamespace,
  postJson,
  redisUrl,
  startTestIntake,
  TEST_KEY,
  type TestIntake,
} from './support/stack.js';

const MINUTE = 60_000;
const DAY_STARTS_AT = Date.parse('2026-11-24T16:00:00Z'); // 00:00 UTC+8
const START = DAY_STARTS_AT - 8 * MINUTE - 30_000; // 15:51:30 UTC, 8.5 minutes before the boundary

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

async function start(
  emulatorQuotas: Record<string, number | null>,
  workerEnv: Record<string, string>,
  workers = 4,
): Promise<Rig> {
  const emulator = await startEmulator({ credentials: [TEST_KEY], quotas: emulatorQuotas, silent: true });
  const intake = await startTestIntake();
  const redis = createRedis(redisUrl(), 'consumer', 'test-clock');
  const current: Rig = { emulator, intake, workers: [], redis };
  rig = current;
  await setEmulatedNow(current, START);
  for (let i = 0; i < workers; i += 1) {
    current.workers.push(
      startApp(
        'worker',
        workerProcessEnv(redisUrl(), intake.namespace, emulator.url, TEST_KEY, {
          COALESCE_WINDOW_MS: '50',
          COALESCE_QUIET_MS: '0',
          MAX_URLS_PER_CALL: '40',
          QUOTA_CLOCK: 'offset',
          QUOTA_SYNC_INTERVAL_MS: '0',
          // The governor's own drain: every file as a URL unit, none refreshed as its folder.
          DIRECTORY_PROMOTION: 'off',
          ...workerEnv,
        }),
      ),
    );
  }
  return current;
}

async function post(current: Rig, count: number): Promise<void> {
  const paths = Array.from({ length: count }, (_v, i) => `https://q${i % 3}.example.com/asset/${i}.png`);
  const chunks = Array.from({ length: Math.ceil(paths.length / 50) }, (_v, i) =>
    paths.slice(i * 50, i * 50 + 50),
  );
  await mapLimit(chunks, 8, async (chunk) => {
    expect((await postJson(`${current.intake.url}/v1/refreshes`, { paths: chunk })).status).toBe(202);
  });
}

const urls = (current: Rig) =>
  current.emulator.emulator.submissions().reduce((sum, s) => sum + s.paths.length, 0);

/** Waits until the workers stop submitting (the governor holds them), at most `maxMs`. */
async function settle(current: Rig, maxMs = 8000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const now = urls(current);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 700) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function perBucket(submissions: Submission[], bucketOf: (ms: number) => number): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of submissions)
    buckets.set(bucketOf(s.atMs), (buckets.get(bucketOf(s.atMs)) ?? 0) + s.paths.length);
  return buckets;
}

const quotaDay = (ms: number) => Math.floor((ms + 8 * 3600_000) / 86_400_000);

describe('quota governor with 4 worker processes against the emulator', () => {
  it('drains a backlog larger than a day: never over the per-minute or daily budget, no quota error, the day used to the last unit', async () => {
    const perDay = 300;
    const perMinute = 100;
    const current = await start(
      { urlsPerDay: perDay, urlsPerMinute: perMinute },
      { QUOTA_URLS_PER_DAY: String(perDay), QUOTA_URLS_PER_MINUTE: String(perMinute) },
    );
    const backlog = 450;
    await post(current, backlog);

    let emulated = START;
    for (let step = 0; step < 20 && urls(current) < backlog; step += 1) {
      await settle(current);
      emulated += MINUTE;
      await setEmulatedNow(current, emulated);
    }
    await settle(current);

    const submissions = current.emulator.emulator.submissions();
    const byMinute = perBucket(submissions, (ms) => Math.floor(ms / MINUTE));
    const byDay = perBucket(submissions, quotaDay);
    const calls = current.emulator.emulator.counts().calls.RefreshVodObjectCaches ?? {};
    process.stdout.write(
      `quota drain: ${urls(current)} URLs in ${submissions.length} calls; per minute ${JSON.stringify([...byMinute.values()])}; per day ${JSON.stringify([...byDay.values()])}; answers ${JSON.stringify(calls)}\n`,
    );

    expect(urls(current)).toBe(backlog);
    expect(new Set(submissions.flatMap((s) => s.paths)).size).toBe(backlog);
    for (const count of byMinute.values()) expect(count).toBeLessThanOrEqual(perMinute);
    expect(byDay.get(quotaDay(START))).toBe(perDay);
    expect(byDay.get(quotaDay(DAY_STARTS_AT))).toBe(backlog - perDay);
    expect(Object.keys(calls).filter((code) => code !== 'OK')).toEqual([]);
  }, 240_000);

  it('learns a per-minute limit lower than configured and keeps the share of refused calls small', async () => {
    const current = await start(
      { urlsPerDay: 100_000, urlsPerMinute: 60 },
      { QUOTA_URLS_PER_DAY: '100000', QUOTA_URLS_PER_MINUTE: '200' },
      2,
    );
    const backlog = 600;
    await post(current, backlog);
    let emulated = START;
    for (let step = 0; step < 14 && urls(current) < backlog; step += 1) {
      await settle(current, 5000);
      emulated += MINUTE;
      await setEmulatedNow(current, emulated);
    }
    await settle(current, 5000);
    const calls = current.emulator.emulator.counts().calls.RefreshVodObjectCaches ?? {};
    const refused = calls['QuotaPerMinuteExceeded.Refresh'] ?? 0;
    const total = Object.values(calls).reduce((sum, n) => sum + n, 0);
    const byMinute = perBucket(current.emulator.emulator.submissions(), (ms) => Math.floor(ms / MINUTE));
    process.stdout.write(
      `learned rate: ${urls(current)} URLs; ${refused} of ${total} calls refused (${((100 * refused) / total).toFixed(1)}%); per minute ${JSON.stringify([...byMinute.values()])}\n`,
    );
    expect(urls(current)).toBe(backlog);
    expect(refused / total).toBeLessThan(0.25);
    for (const count of byMinute.values()) expect(count).toBeLessThanOrEqual(60);
  }, 240_000);
});
