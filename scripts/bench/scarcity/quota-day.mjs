// The bench must not cross a quota day: a new day would refill the budgets halfway through.

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A whole-hour UTC offset whose day has `nowMs` within half an hour of noon (hours from either end). */
export function middayOffsetMinutes(nowMs) {
  const utcMinute = Math.floor(nowMs / MINUTE_MS) % (DAY_MS / MINUTE_MS);
  return Math.round((12 * 60 - utcMinute) / 60) * 60 || 0;
}

/** The form QUOTA_UTC_OFFSET takes: `+08:00`, `-05:00`. */
export function formatOffset(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Which quota day `ms` falls in, days starting at 00:00 at the offset. */
export function quotaDayIndex(ms, offsetMinutes) {
  return Math.floor((ms + offsetMinutes * MINUTE_MS) / DAY_MS);
}
