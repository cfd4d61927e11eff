import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayKey, nextDayStart } from '../src/calendar.js';
import { checkQuota, freshUsage, rollUsage, spend } from '../src/quota.js';
import { DEFAULT_QUOTA_LIMITS } from '../src/index.js';
import { expectApiError, popClient, popError, start, urls } from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';
const UTC8 = 480;

describe('quota arithmetic (pure)', () => {
  it('puts 15:59:59 UTC and 16:00:00 UTC on different UTC+8 quota days', () => {
    const before = Date.parse('2024-03-01T15:59:59.999Z');
    const after = Date.parse('2024-03-01T16:00:00.000Z');
    expect(dayKey(before, UTC8)).toBe('2024-03-01');
    expect(dayKey(after, UTC8)).toBe('2024-03-02');
    expect(nextDayStart(before, UTC8)).toBe(after);
  });

  it('rolls daily counters at the day boundary and minute counters at the minute boundary', () => {
    const t0 = Date.parse('2024-03-01T15:59:30.000Z');
    let usage = spend(freshUsage(t0, UTC8), 'url', 7);
    usage = rollUsage(usage, t0 + 29_000, UTC8);
    expect(usage).toMatchObject({ urlsToday: 7, urlsThisMinute: 7 });
    usage = rollUsage(usage, t0 + 30_000, UTC8);
    expect(usage).toMatchObject({ urlsToday: 0, urlsThisMinute: 0, day: '2024-03-02' });
  });

  it('checks the daily quota before the per-minute limit, URLs and directories apart', () => {
    const limits = { ...DEFAULT_QUOTA_LIMITS, urlsPerDay: 10, dirsPerDay: 2, urlsPerMinute: 4 };
    const usage = spend(freshUsage(0, UTC8), 'url', 4);
    expect(checkQuota(limits, usage, 'url', 1)).toBe('QuotaPerMinuteExceeded.Refresh');
    expect(checkQuota(limits, usage, 'url', 7)).toBe('QuotaExceeded.Refresh');
    expect(checkQuota(limits, usage, 'dir', 2)).toBeUndefined();
    expect(checkQuota(limits, usage, 'dir', 3)).toBe('QuotaExceeded.Refresh');
  });

  it('never lets accepted items exceed the daily or per-minute limit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
        fc.array(
          fc.record({ size: fc.integer({ min: 1, max: 15 }), gapMs: fc.integer({ min: 0, max: 90_000 }) }),
          { maxLength: 60 },
        ),
        (perDay, perMinute, calls) => {
          const limits = { ...DEFAULT_QUOTA_LIMITS, urlsPerDay: perDay, urlsPerMinute: perMinute };
          let now = Date.parse('2024-03-01T15:55:00.000Z');
          let usage = freshUsage(now, UTC8);
          const perDayAccepted = new Map<string, number>();
          const perMinuteAccepted = new Map<number, number>();
          for (const call of calls) {
            now += call.gapMs;
            usage = rollUsage(usage, now, UTC8);
            const before = usage;
            if (checkQuota(limits, usage, 'url', call.size) === undefined) {
              usage = spend(usage, 'url', call.size);
              const day = dayKey(now, UTC8);
              const minute = Math.floor(now / 60_000);
              perDayAccepted.set(day, (perDayAccepted.get(day) ?? 0) + call.size);
              perMinuteAccepted.set(minute, (perMinuteAccepted.get(minute) ?? 0) + call.size);
            } else {
              expect(usage).toBe(before);
            }
          }
          for (const n of perDayAccepted.values()) expect(n).toBeLessThanOrEqual(perDay);
          if (perMinute !== null)
            for (const n of perMinuteAccepted.values()) expect(n).toBeLessThanOrEqual(perMinute);
        },
      ),
    );
  });
});

describe('quota through the API (real pop-core, emulated clock)', () => {
  it('accepts exactly urlsPerMinute URLs in a minute, refuses the next, accepts again next minute', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerMinute: 5 },
      frozenAt: '2024-03-01T10:00:10.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {});
    await client.request(REFRESH, { ObjectPath: urls(2, 'cdn.example.com', 'g').join('\n') }, {});
    emulator.advanceClock(49_000); // 10:00:59 — same minute
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1, 'cdn.example.com', 'h')[0] }, {})),
      'QuotaPerMinuteExceeded.Refresh',
      400,
    );
    expect(emulator.quota().used).toMatchObject({ urlsThisMinute: 5, urlsToday: 5 });
    emulator.toNextMinute();
    await client.request(REFRESH, { ObjectPath: urls(5, 'cdn.example.com', 'i').join('\n') }, {});
    expect(emulator.quota().used).toMatchObject({ urlsThisMinute: 5, urlsToday: 10 });
  });

  it('refuses a call that would cross the per-minute limit as a whole', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerMinute: 5 },
      frozenAt: '2024-03-01T10:00:10.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(4).join('\n') }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(2).join('\n') }, {})),
      'QuotaPerMinuteExceeded.Refresh',
      400,
    );
    await client.request(REFRESH, { ObjectPath: urls(1).join('\n') }, {});
    expect(emulator.quota().remaining.urlsThisMinute).toBe(0);
  });

  it('counts directories per minute apart from URLs', async () => {
    const { url } = await start({
      quotas: { urlsPerMinute: 1, dirsPerMinute: 2 },
      frozenAt: '2024-03-01T10:00:10.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    const dirs = ['https://cdn.example.com/a/', 'https://cdn.example.com/b/'];
    await client.request(REFRESH, { ObjectPath: dirs.join('\n'), ObjectType: 'Directory' }, {});
    expectApiError(
      await popError(
        client.request(REFRESH, { ObjectPath: 'https://cdn.example.com/c/', ObjectType: 'Directory' }, {}),
      ),
      'QuotaPerMinuteExceeded.Refresh',
      400,
    );
  });

  it('accepts exactly the daily URL quota, refuses the next URL, and resets at the next UTC+8 day', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerDay: 2000 },
      frozenAt: '2024-03-01T02:00:00.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1000).join('\n') }, { method: 'POST' });
    emulator.advanceClock(3600_000);
    await client.request(
      REFRESH,
      { ObjectPath: urls(1000, 'cdn.example.com', 'g').join('\n') },
      { method: 'POST' },
    );
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1, 'cdn.example.com', 'h')[0] }, {})),
      'QuotaExceeded.Refresh',
      400,
    );
    expect(emulator.quota().remaining.urlsToday).toBe(0);
    emulator.toNextDay();
    expect(new Date(emulator.now()).toISOString()).toBe('2024-03-01T16:00:00.000Z');
    await expect(
      client.request(REFRESH, { ObjectPath: urls(1, 'cdn.example.com', 'h')[0] }, {}),
    ).resolves.toHaveProperty('RefreshTaskId');
    expect(emulator.quota().used.urlsToday).toBe(1);
  });

  it('accepts exactly the daily directory quota (default 100) apart from URLs', async () => {
    const { url } = await start({ quotas: { urlsPerDay: 1 }, frozenAt: '2024-03-01T02:00:00.000Z' });
    const client = popClient(url);
    const dirs = Array.from({ length: 100 }, (_, i) => `https://cdn.example.com/d${i}/`);
    await client.request(
      REFRESH,
      { ObjectPath: dirs.join('\n'), ObjectType: 'Directory' },
      { method: 'POST' },
    );
    expectApiError(
      await popError(
        client.request(REFRESH, { ObjectPath: 'https://cdn.example.com/x/', ObjectType: 'Directory' }, {}),
      ),
      'QuotaExceeded.Refresh',
      400,
    );
    await expect(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
  });

  it('puts a call at 15:59:59 UTC and one at 16:00:00 UTC on different quota days', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerDay: 1 },
      frozenAt: '2024-03-01T15:59:59.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    emulator.advanceClock(999); // 15:59:59.999 — still the same day
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'QuotaExceeded.Refresh',
      400,
    );
    emulator.advanceClock(1); // 16:00:00.000 UTC = 00:00 UTC+8
    await expect(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
    expect(emulator.quota().used.day).toBe('2024-03-02');
  });

  it('honours a different quota zone when configured', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerDay: 1 },
      quotaUtcOffsetMinutes: 0,
      frozenAt: '2024-03-01T23:59:59.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    emulator.toNextDay();
    expect(new Date(emulator.now()).toISOString()).toBe('2024-03-02T00:00:00.000Z');
    await expect(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
  });

  it('spends nothing on refused calls', async () => {
    const { url, emulator } = await start({ quotas: { urlsPerDay: 3 } });
    const client = popClient(url);
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(4).join('\n') }, {})),
      'QuotaExceeded.Refresh',
      400,
    );
    await client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {});
    expect(emulator.quota().used.urlsToday).toBe(3);
  });

  it('can read and set quotas and usage at run time', async () => {
    const { url, emulator } = await start();
    emulator.setQuota({ limits: { urlsPerDay: 10 }, used: { urlsToday: 9 } });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'QuotaExceeded.Refresh',
      400,
    );
  });
});
