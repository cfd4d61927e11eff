import { secondStart } from './calendar.js';

/** Calls admitted in the current calendar second (of the emulated clock). Pure. */
export interface RateWindow {
  second: number;
  count: number;
}

export const EMPTY_RATE_WINDOW: RateWindow = { second: Number.NEGATIVE_INFINITY, count: 0 };

/** Admits a call when fewer than `limit` were admitted this second; `null` = no limit. */
export function admitCall(
  window: RateWindow,
  nowMs: number,
  limit: number | null,
): { admitted: boolean; window: RateWindow } {
  const second = secondStart(nowMs);
  const count = window.second === second ? window.count : 0;
  if (limit !== null && count >= limit) return { admitted: false, window: { second, count } };
  return { admitted: true, window: { second, count: count + 1 } };
}
