import { type Settlement, settleCall } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  keyspace,
  QuotaGovernor,
  RedisClock,
  setClockOffset,
  type Grant,
  type Keyspace,
  type QuotaBudgets,
  type Redis,
} from '../src/index.js';

let redis: Redis;
let keys: Keyspace;
let namespace: string;

/** The settlement the domain's reaction table decides for a call refused with `code`. */
function refusedWith(code: string, backoffMs = 1000): Settlement {
  const backoff = { baseMs: backoffMs, maxMs: backoffMs };
  return settleCall({ kind: 'refused', code }, [{ attempts: 0 }], {
    backoff,
    breakerProbeMs: 60_000,
    random: () => 1,
  }).settlement;
}

const BASE: QuotaBudgets = {
  urlsPerDay: 1000,
  dirsPerDay: 100,
  urlsPerMinute: 10,
  dirsPerMinute: 5,
  callsPerSecond: 1000,
  highReservePercent: 0,
  utcOffsetMinutes: 480,
  clockMode: 'offset',
};

beforeEach(() => {
  namespace = testNamespace('quota');
  keys = keyspace(namespace);
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

const governor = (overrides: Partial<QuotaBudgets> = {}) =>
  new QuotaGovernor(redis, keys, new RedisClock(redis), { ...BASE, ...overrides });

/** Moves the governor's clock to `ms` (epoch). */
async function setNow(ms: number): Promise<void> {
  await setClockOffset(redis, keys, ms - (await new RedisClock(redis).read()));
}

async function advance(ms: number): Promise<void> {
  const current = Number((await redis.get(keys.clockOffset)) ?? 0);
  await setClockOffset(redis, keys, current + ms);
}

const MIN = 60_000;

describe('per-minute budget', () => {
  it('grants exactly the budget in a minute, partially, then says how long to wait', async () => {
    const g = governor();
    await setNow(Date.parse('2026-11-24T03:00:10Z'));
    expect((await g.take('File', 'normal', 4)).granted).toBe(4);
    expect((await g.take('File', 'normal', 4)).granted).toBe(4);
    expect((await g.take('File', 'normal', 4)).granted).toBe(2);
    const refusal = await g.take('File', 'normal', 4);
    expect(refusal).toMatchObject({ granted: 0, short: 'minute' });
    expect('waitMs' in refusal && refusal.waitMs).toBeGreaterThan(59_000);
    await advance(59_000);
    expect((await g.take('File', 'normal', 1)).granted).toBe(0);
    await advance(1_100);
    expect((await g.take('File', 'normal', 10)).granted).toBeGreaterThan(0);
  });

  it('never lets any 60-second window carry more than the budget, and a backlog uses at least 95% of it', async () => {
    const budget = 37;
    const g = governor({ urlsPerMinute: budget, urlsPerDay: 1_000_000 });
    const start = Date.parse('2026-11-24T03:00:00Z');
    await setNow(start);
    let now = start;
    // Recorded at the governor's own clock (the grant's `now`), which also moves in real time.
    const grants: Array<[number, number]> = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    while (now < start + 30 * MIN) {
      const result = await g.take('File', 'normal', 1 + Math.floor(random() * 12));
      const step = result.granted > 0 ? Math.floor(random() * 1500) : (result as { waitMs: number }).waitMs;
      if (result.granted > 0) grants.push([(result as Grant).now, result.granted]);
      now += step;
      await advance(step);
    }
    for (const [at] of grants) {
      const inWindow = grants
        .filter(([t]) => t > at - MIN && t <= at)
        .reduce((sum, [, units]) => sum + units, 0);
      expect(inWindow).toBeLessThanOrEqual(budget);
    }
    for (let minute = start; minute < start + 30 * MIN; minute += MIN) {
      const aligned = grants
        .filter(([t]) => t >= minute && t < minute + MIN)
        .reduce((sum, [, units]) => sum + units, 0);
      expect(aligned).toBeLessThanOrEqual(budget);
    }
    const total = grants.reduce((sum, [, units]) => sum + units, 0);
    expect(total / (30 * budget)).toBeGreaterThanOrEqual(0.95);
  });

  it('counts URLs and directories apart', async () => {
    const g = governor();
    await setNow(Date.parse('2026-11-24T03:00:10Z'));
    expect((await g.take('File', 'normal', 10)).granted).toBe(10);
    expect((await g.take('Directory', 'normal', 10)).granted).toBe(5);
  });
});

describe('daily budget', () => {
  it('resets at 00:00 UTC+8 (16:00 UTC), not at UTC midnight', async () => {
    const g = governor({ urlsPerMinute: 100_000, urlsPerDay: 30 });
    await setNow(Date.parse('2026-11-24T15:59:00Z'));
    expect((await g.take('File', 'normal', 1000)).granted).toBe(30);
    const refusal = await g.take('File', 'normal', 1);
    expect(refusal).toMatchObject({ granted: 0, short: 'day' });
    expect((refusal as { waitMs: number }).waitMs).toBeGreaterThan(59_000);
    expect((refusal as { waitMs: number }).waitMs).toBeLessThanOrEqual(60_000);
    await setNow(Date.parse('2026-11-24T15:59:59.900Z'));
    expect((await g.take('File', 'normal', 1)).granted).toBe(0);
    await setNow(Date.parse('2026-11-24T16:00:00.000Z'));
    expect((await g.take('File', 'normal', 1000)).granted).toBe(30);
  });

  it('keeps a share of the day for the high lane', async () => {
    const g = governor({ urlsPerMinute: 100_000, urlsPerDay: 100, highReservePercent: 10 });
    await setNow(Date.parse('2026-11-24T03:00:00Z'));
    expect((await g.take('File', 'normal', 1000)).granted).toBe(90);
    expect(await g.take('File', 'low', 1)).toMatchObject({ granted: 0, short: 'day-reserved-for-high' });
    expect((await g.take('File', 'high', 1000)).granted).toBe(10);
    expect(await g.take('File', 'high', 1)).toMatchObject({ granted: 0, short: 'day' });
  });

  it('respects what DescribeVodRefreshQuota reports: a smaller upstream quota and units spent elsewhere', async () => {
    const g = governor({ urlsPerMinute: 100_000, urlsPerDay: 2000 });
    await setNow(Date.parse('2026-11-24T03:00:00Z'));
    expect(await g.sync('File', 1500, 1400)).toBe(100);
    expect((await g.take('File', 'normal', 5000)).granted).toBe(1400);
    const state = await g.state();
    expect(state.byType.File).toMatchObject({ dayUsed: 1500, dayBudget: 1500 });
  });
});

describe('refunds and reactions', () => {
  it('gives back every unit of a refused call and the rest of a short batch', async () => {
    const g = governor();
    await setNow(Date.parse('2026-11-24T03:00:10Z'));
    const first = (await g.take('File', 'normal', 10)) as Grant;
    await g.settle('File', first, refusedWith('Throttling.User'));
    await redis.del(keys.callsHold);
    const second = (await g.take('File', 'normal', 10)) as Grant;
    expect(second.granted).toBe(10);
    await g.settle('File', second, { spent: 3, answer: 'unused' });
    expect((await g.state()).byType.File).toMatchObject({ minuteUsed: 3, dayUsed: 3 });
    expect((await g.take('File', 'normal', 10)).granted).toBe(7);
  });

  it('learns a lower per-minute budget from QuotaPerMinuteExceeded, holds to the next minute, and raises it slowly', async () => {
    const g = governor({ urlsPerMinute: 100 });
    await setNow(Date.parse('2026-11-24T03:00:30Z'));
    const grant = (await g.take('File', 'normal', 50)) as Grant;
    const learned = await g.settle('File', grant, refusedWith('QuotaPerMinuteExceeded.Refresh'));
    expect(learned).toBe(49);
    expect(await g.take('File', 'normal', 1)).toMatchObject({
      granted: 0,
      short: 'hold:QuotaPerMinuteExceeded.Refresh',
    });
    await setNow(Date.parse('2026-11-24T03:01:00.050Z'));
    const next = (await g.take('File', 'normal', 100)) as Grant;
    expect(next.granted).toBe(49);
    expect(await g.settle('File', next, { spent: 49, answer: 'success' })).toBe(50);
  });

  it('holds a type to the next quota day on QuotaExceeded', async () => {
    const g = governor();
    const since = performance.now();
    await setNow(Date.parse('2026-11-24T10:00:00Z'));
    const grant = (await g.take('Directory', 'normal', 1)) as Grant;
    await g.settle('Directory', grant, refusedWith('QuotaExceeded.Refresh'));
    const refusal = await g.take('Directory', 'normal', 1);
    // The governor's clock ran on meanwhile, as fast as ours (a loaded machine may take seconds).
    const elapsed = performance.now() - since;
    expect(refusal).toMatchObject({ granted: 0, short: 'hold:QuotaExceeded.Refresh' });
    const { waitMs } = refusal as { waitMs: number };
    expect(waitMs).toBeLessThanOrEqual(6 * 3600_000);
    expect(waitMs).toBeGreaterThan(6 * 3600_000 - elapsed - 50);
    expect((await g.take('File', 'normal', 1)).granted).toBe(1);
    await setNow(Date.parse('2026-11-24T16:00:00Z'));
    expect((await g.take('Directory', 'normal', 1)).granted).toBe(1);
  });

  it('halves the call rate and holds all calls on Throttling', async () => {
    const g = governor({ callsPerSecond: 4 });
    await setNow(Date.parse('2026-11-24T03:00:00Z'));
    const grant = (await g.take('File', 'normal', 1)) as Grant;
    await g.settle('File', grant, refusedWith('Throttling', 2000));
    expect(await g.take('Directory', 'normal', 1)).toMatchObject({ granted: 0, short: 'hold:Throttling' });
    await advance(2_100);
    expect((await g.take('File', 'normal', 1)).granted).toBe(1);
    expect((await g.take('File', 'normal', 1)).granted).toBe(1);
    expect(await g.take('File', 'normal', 1)).toMatchObject({ granted: 0, short: 'calls-per-second' });
  });
});

describe('re-sent calls (a reply lost on reconnect)', () => {
  it('a take under the same ticket returns the first grant, and a settle counts once', async () => {
    const g = governor();
    await setNow(Date.parse('2026-11-24T03:00:10Z'));
    const grant = (await g.take('File', 'normal', 4)) as Grant;
    const { takeQuota } = await import('../src/script-calls.js');
    const replay = (await takeQuota.raw(redis, keys, {
      objectType: 'File',
      lane: 'normal',
      want: 4,
      ticket: grant.ticket,
      dayBudget: 1000,
      minuteBudget: 10,
      callsPerSecond: 1000,
      highReservePercent: 0,
      utcOffsetMinutes: 480,
      clockMode: 'offset',
    })) as number[];
    expect(Number(replay[0])).toBe(4);
    expect((await g.state()).byType.File.minuteUsed).toBe(4);
    await g.settle('File', grant, { spent: 0, answer: 'unused' });
    await g.settle('File', grant, { spent: 0, answer: 'unused' });
    expect((await g.state()).byType.File).toMatchObject({ minuteUsed: 0, dayUsed: 0 });
  });
});
