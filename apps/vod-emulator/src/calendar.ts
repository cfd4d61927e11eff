/**
 * Pure calendar arithmetic over epoch milliseconds: seconds, minutes, quota days in a fixed
 * UTC offset, and Alibaba's timestamp format (`2014-11-27T08:23:22Z`, no milliseconds).
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Alibaba's quota day starts at 00:00 UTC+8. */
export const DEFAULT_QUOTA_UTC_OFFSET_MINUTES = 8 * 60;

export function secondStart(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

export function minuteStart(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

export function nextMinuteStart(ms: number): number {
  return minuteStart(ms) + MINUTE_MS;
}

/** Start (as epoch ms) of the calendar day containing `ms` in a zone `offsetMinutes` east of UTC. */
export function dayStart(ms: number, offsetMinutes: number): number {
  const shift = offsetMinutes * MINUTE_MS;
  return Math.floor((ms + shift) / DAY_MS) * DAY_MS - shift;
}

export function nextDayStart(ms: number, offsetMinutes: number): number {
  return dayStart(ms, offsetMinutes) + DAY_MS;
}

/** The calendar date (`YYYY-MM-DD`) of `ms` in a zone `offsetMinutes` east of UTC. */
export function dayKey(ms: number, offsetMinutes: number): string {
  return new Date(ms + offsetMinutes * MINUTE_MS).toISOString().slice(0, 10);
}

/** `2014-11-27T08:23:22Z` — Alibaba's UTC timestamp without milliseconds. */
export function formatAliTime(ms: number): string {
  return new Date(secondStart(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ALI_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?Z$/;

/**
 * Parses an ISO 8601 UTC time as Alibaba accepts it: `YYYY-MM-DDThh:mm:ssZ` (seconds may be
 * left out). Anything else — other offsets, milliseconds, impossible dates — gives `undefined`.
 */
export function parseAliTime(text: string): number | undefined {
  const m = ALI_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? '0'));
  const back = new Date(ms);
  // Reject roll-overs such as 2024-02-30 or 25:00.
  if (
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi)
  ) {
    return undefined;
  }
  return ms;
}

/** Parses `+08:00`, `-05:30`, `+0800`, `UTC+8`, `Z` into minutes east of UTC. */
export function parseUtcOffset(text: string): number | undefined {
  const t = text.trim().replace(/^UTC/i, '');
  if (t === '' || t === 'Z' || t === 'z') return 0;
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return undefined;
  const [, sign, hh, mm] = m;
  const hours = Number(hh);
  const minutes = Number(mm ?? '0');
  if (hours > 14 || minutes > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
}
