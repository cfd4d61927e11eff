// Quota governor: decisions per second of take-quota-9.lua, and quota utilisation (units used /
// units available) over simulated days, with the governor's test clock moved instead of waited.
import {
  createRedis,
  keyspace,
  QuotaGovernor,
  RedisClock,
  setClockOffset,
} from '../../packages/store/dist/index.js';
import { startRedisServer } from '../../packages/test-redis/dist/index.js';

const DAY = 86_400_000;

async function decisionsPerSecond(governor, { seconds, concurrency }) {
  let decisions = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await governor.take('File', 'normal', 10);
        decisions += 1;
      }
    }),
  );
  return Math.round(decisions / seconds);
}

/** A standing backlog against the governor for `days` simulated days; returns units used per type. */
async function simulate(redis, keys, budgets, days, seed) {
  const clock = new RedisClock(redis);
  const governor = new QuotaGovernor(redis, keys, clock, budgets);
  let random = seed;
  const next = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const realNow = await clock.read();
  const start = Math.ceil(realNow / DAY) * DAY - 8 * 3600_000 + DAY; // a quota-day start (UTC+8)
  let offset = start - realNow;
  await setClockOffset(redis, keys, offset);
  const used = { File: 0, Directory: 0 };
  let decisions = 0;
  const end = start + days * DAY;
  // The governor's clock also moves in real time: the loop follows it, not its own sum of steps.
  while ((await governor.now()) < end) {
    const type = next() < 0.8 ? 'File' : 'Directory';
    const want = 1 + Math.floor(next() * (type === 'File' ? 1000 : 100));
    const result = await governor.take(type, 'normal', want);
    decisions += 1;
    let step;
    if (result.ok) {
      if (result.now < end) used[type] += result.granted;
      step = Math.floor(next() * 3000);
    } else {
      // Both types refused at once is the only time the backlog truly waits.
      const other = await governor.take(type === 'File' ? 'Directory' : 'File', 'normal', 1000);
      decisions += 1;
      if (other.ok) {
        if (other.now < end) used[type === 'File' ? 'Directory' : 'File'] += other.granted;
        step = Math.floor(next() * 3000);
      } else {
        step = Math.min(result.waitMs, other.waitMs);
      }
    }
    offset += step;
    await setClockOffset(redis, keys, offset);
  }
  const minutes = days * 1440;
  const available = (type) => {
    const perDay = type === 'File' ? budgets.urlsPerDay : budgets.dirsPerDay;
    const perMinute = type === 'File' ? budgets.urlsPerMinute : budgets.dirsPerMinute;
    return Math.min(perDay * days, perMinute * minutes);
  };
  return {
    days,
    decisions,
    urls: {
      used: used.File,
      available: available('File'),
      utilisation: Number((used.File / available('File')).toFixed(4)),
    },
    dirs: {
      used: used.Directory,
      available: available('Directory'),
      utilisation: Number((used.Directory / available('Directory')).toFixed(4)),
    },
  };
}

export async function benchQuota({ seconds = 5 } = {}) {
  const server = await startRedisServer();
  const redis = createRedis(server.url, 'consumer', 'bench-quota');
  const clock = new RedisClock(redis);
  try {
    const base = { callsPerSecond: 1_000_000, highReservePercent: 0, utcOffsetMinutes: 480 };
    const grants = new QuotaGovernor(redis, keyspace('bench-grants'), clock, {
      ...base,
      urlsPerDay: 1e12,
      dirsPerDay: 1e12,
      urlsPerMinute: 1e12,
      dirsPerMinute: 1e12,
      clockMode: 'redis',
    });
    const grantRate = await decisionsPerSecond(grants, { seconds, concurrency: 32 });
    const refusals = new QuotaGovernor(redis, keyspace('bench-refusals'), clock, {
      ...base,
      urlsPerDay: 1,
      dirsPerDay: 1,
      urlsPerMinute: 1,
      dirsPerMinute: 1,
      clockMode: 'redis',
    });
    const refusalRate = await decisionsPerSecond(refusals, { seconds, concurrency: 32 });
    // The VOD defaults (2,000 URLs and 100 directories a day) with per-minute budgets that bind.
    const dayBound = await simulate(
      redis,
      keyspace('bench-day'),
      {
        ...base,
        urlsPerDay: 2000,
        dirsPerDay: 100,
        urlsPerMinute: 100,
        dirsPerMinute: 10,
        clockMode: 'offset',
      },
      2,
      11,
    );
    // Generous days, so the per-minute budget binds all day long.
    const minuteBound = await simulate(
      redis,
      keyspace('bench-minute'),
      {
        ...base,
        urlsPerDay: 1e9,
        dirsPerDay: 1e9,
        urlsPerMinute: 100,
        dirsPerMinute: 10,
        clockMode: 'offset',
      },
      1,
      12,
    );
    return {
      name: 'quota',
      settings: { seconds, concurrency: 32 },
      grantDecisionsPerSecond: grantRate,
      refusalDecisionsPerSecond: refusalRate,
      dayBound,
      minuteBound,
    };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
