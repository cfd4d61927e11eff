import { settleCall } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  type Grant,
  type Keyspace,
  keyspace,
  QuotaGovernor,
  type QuotaBudgets,
  type Redis,
  RedisClock,
  setClockOffset,
} from '../src/index.js';

let redis: Redis;
let keys: Keyspace;
let namespace: string;

const BASE: QuotaBudgets = {
  urlsPerDay: 100,
  dirsPerDay: 10,
  urlsPerMinute: 100,
  dirsPerMinute: 10,
  callsPerSecond: 1000,
  preloadsPerDay: 7,
  preloadsPerMinute: 7,
  preloadCallsPerSecond: 1000,
  mediaCallsPerSecond: 1000,
  highReservePercent: 0,
  utcOffsetMinutes: 480,
  clockMode: 'offset',
};

beforeEach(async () => {
  namespace = testNamespace('kinds');
  keys = keyspace(namespace);
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  await setClockOffset(
    redis,
    keys,
    Date.parse('2026-11-24T03:00:10Z') - (await new RedisClock(redis).read()),
  );
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

const governor = (overrides: Partial<QuotaBudgets> = {}) =>
  new QuotaGovernor(redis, keys, new RedisClock(redis), { ...BASE, ...overrides });

const settings = { backoff: { baseMs: 1000, maxMs: 1000 }, breakerProbeMs: 60_000, random: () => 1 };

describe('budgets per kind of work (work-kinds.ts)', () => {
  it('a preload spends the preload day only: exactly its budget, never the URL refresh budget', async () => {
    const g = governor();
    expect((await g.take('Preload', 'normal', 5)).granted).toBe(5);
    expect((await g.take('Media!preload', 'normal', 5)).granted).toBe(2);
    expect(await g.take('Preload', 'normal', 1)).toMatchObject({ granted: 0, short: 'day' });
    const state = await g.state();
    expect(state.byType.Preload).toMatchObject({ dayUsed: 7, dayBudget: 7 });
    expect(state.byType.File.dayUsed).toBe(0);
    expect((await g.take('File', 'normal', 3)).granted).toBe(3);
  });

  it('a forced file and a media refresh spend the URL refresh day; a forced directory the directory day', async () => {
    const g = governor({ urlsPerDay: 10 });
    expect((await g.take('File!force', 'normal', 4)).granted).toBe(4);
    expect((await g.take('Media', 'normal', 4)).granted).toBe(4);
    expect((await g.take('File', 'normal', 4)).granted).toBe(2);
    expect((await g.take('Directory!force', 'normal', 3)).granted).toBe(3);
    const state = await g.state();
    expect(state.byType.File.dayUsed).toBe(10);
    expect(state.byType.Directory.dayUsed).toBe(3);
  });

  it('counts calls per second per action: a busy refresh rate leaves media and preload calls alone', async () => {
    const g = governor({ callsPerSecond: 2, mediaCallsPerSecond: 1, preloadCallsPerSecond: 1 });
    await g.take('File', 'normal', 1);
    await g.take('Directory', 'normal', 1);
    expect(await g.take('File!force', 'normal', 1)).toMatchObject({ granted: 0, short: 'calls-per-second' });
    expect((await g.take('Media', 'normal', 1)).granted).toBe(1);
    expect(await g.take('Media!preload', 'normal', 1)).toMatchObject({ short: 'calls-per-second' });
    expect((await g.take('Preload', 'normal', 1)).granted).toBe(1);
  });

  it('throttling of one action holds that action only; a full preload queue holds the preload day', async () => {
    const g = governor();
    const media = (await g.take('Media', 'normal', 1)) as Grant;
    const throttled = settleCall({ kind: 'refused', code: 'Throttling' }, [{ attempts: 0 }], settings, {
      action: 'RefreshMediaPlayUrls',
      unitsPerItem: 1,
    });
    await g.settle('Media', media, throttled.settlement);
    expect(await g.take('Media!preload', 'normal', 1)).toMatchObject({
      granted: 0,
      short: 'hold:Throttling',
    });
    expect((await g.take('File', 'normal', 1)).granted).toBe(1);

    const preload = (await g.take('Preload', 'normal', 2)) as Grant;
    const full = settleCall({ kind: 'refused', code: 'PreloadQueueFull' }, [{ attempts: 0 }], settings, {
      action: 'PreloadVodObjectCaches',
      unitsPerItem: 1,
    });
    expect(full.settlement.hold).toMatchObject({ budget: 'type', until: { kind: 'next-quota-day' } });
    await g.settle('Preload', preload, full.settlement);
    const refusal = await g.take('Preload', 'normal', 1);
    expect(refusal).toMatchObject({ granted: 0, short: 'hold:PreloadQueueFull' });
    // To 00:00 UTC+8 (16:00 UTC).
    expect('waitMs' in refusal && refusal.waitMs).toBeGreaterThan(12 * 3600_000);
    expect((await g.state()).byType.Preload.dayUsed).toBe(0);
    expect((await g.take('File', 'normal', 1)).granted).toBe(1);
  });

  it('adjust charges what a media job really submitted and gives back what it did not; hold holds a type', async () => {
    const g = governor({ urlsPerDay: 20 });
    const grant = (await g.take('Media', 'normal', 8)) as Grant;
    await g.settle('Media', grant, { spent: 8, answer: 'success' });
    expect(await g.adjust('Media', 5)).toBe(13);
    expect(await g.adjust('Media', -20)).toBe(0);
    await g.hold('Media!preload', {
      budget: 'type',
      until: { kind: 'next-quota-day' },
      reason: 'PreloadQueueFull',
    });
    expect(await g.take('Preload', 'normal', 1)).toMatchObject({ short: 'hold:PreloadQueueFull' });
    expect((await g.take('Media', 'normal', 1)).granted).toBe(1);
  });

  it('syncs the preload family from DescribeVodRefreshQuota', async () => {
    const g = governor({ preloadsPerDay: 500 });
    expect(await g.sync('Preload', 300, 290)).toBe(10);
    expect((await g.state()).byType.Preload).toMatchObject({ dayBudget: 300, dayUsed: 10 });
  });
});
