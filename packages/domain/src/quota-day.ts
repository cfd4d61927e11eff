const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Parses a UTC offset like `+08:00`, `-05:30` or `Z` into minutes east of UTC. */
export function parseUtcOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (hours > 14 || minutes > 59) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  return sign * (hours * 60 + minutes);
}

/** Start (epoch ms) of the quota day after the one that holds `nowMs`; days begin at 00:00 in the offset's zone. */
export function nextQuotaDayStart(nowMs: number, offsetMinutes: number): number {
  return (quotaDayIndex(nowMs, offsetMinutes) + 1) * DAY_MS - offsetMinutes * MINUTE_MS;
}

/** Start (epoch ms) of the next calendar minute after `nowMs`. */
export function nextMinuteStart(nowMs: number): number {
  return Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
}

/** Index of the quota day that holds `nowMs` (days begin at 00:00 in the offset's zone). */
export function quotaDayIndex(nowMs: number, offsetMinutes: number): number {
  return Math.floor((nowMs + offsetMinutes * MINUTE_MS) / DAY_MS);
}

/**
 * The share of a day's budget a lane may spend: `high` all of it, the others all but the
 * reserve kept for `high`. take-quota.lua applies the same rule atomically.
 */
export function laneDayBudget(
  dayBudget: number,
  lane: 'high' | 'normal' | 'low',
  reservePercent: number,
): number {
  return lane === 'high' ? dayBudget : Math.floor((dayBudget * (100 - reservePercent)) / 100);
}
