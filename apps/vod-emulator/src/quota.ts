import { dayKey, minuteStart } from './calendar.js';
import type { QuotaKind } from './paths.js';

/**
 * Pure quota arithmetic over plain data: the daily quota (counted per calendar day in the
 * quota zone, UTC+8 by default) and the per-minute limit (per calendar minute), each counted
 * apart for URLs and directories; the preload quota (per day, URLs only); plus the per-call maxima.
 */

export interface QuotaLimits {
  urlsPerDay: number;
  dirsPerDay: number;
  /** `null` = no per-minute limit. */
  urlsPerMinute: number | null;
  dirsPerMinute: number | null;
  maxUrlsPerCall: number;
  maxDirsPerCall: number;
  /** RefreshVodObjectCaches calls per calendar second; `null` = no limit. */
  callsPerSecond: number | null;
  /** DescribeVodRefreshTasks + DescribeVodRefreshQuota calls per second (each counted apart); `null` = no limit. */
  describeCallsPerSecond: number | null;
  /** URLs PreloadVodObjectCaches (and media TaskType=Preload) may prefetch per quota day. */
  preloadPerDay: number;
  /** Shown by DescribeVodRefreshQuota only (no block action). */
  blockPerDay: number;
  /** URLs in one PreloadVodObjectCaches call; more → InvalidObjectPath.Size.Malformed. */
  maxPreloadsPerCall: number;
  /** Preload tasks not yet ended (Pending or Refreshing) the queue holds; more → PreloadQueueFull. `null` = no limit. */
  preloadQueueLimit: number | null;
  /** PreloadVodObjectCaches calls per calendar second; `null` = no limit. */
  preloadCallsPerSecond: number | null;
  /** RefreshMediaPlayUrls calls per second (Alibaba: 50 per account); `null` = no limit. */
  mediaCallsPerSecond: number | null;
  /** GetMediaRefreshJobs calls per second (Alibaba: 50 per account); `null` = no limit. */
  mediaJobCallsPerSecond: number | null;
}

export const DEFAULT_QUOTA_LIMITS: QuotaLimits = {
  urlsPerDay: 2000,
  dirsPerDay: 100,
  urlsPerMinute: null,
  dirsPerMinute: null,
  maxUrlsPerCall: 1000,
  maxDirsPerCall: 100,
  callsPerSecond: null,
  describeCallsPerSecond: null,
  preloadPerDay: 500,
  blockPerDay: 500,
  maxPreloadsPerCall: 1000,
  preloadQueueLimit: null,
  preloadCallsPerSecond: null,
  mediaCallsPerSecond: 50,
  mediaJobCallsPerSecond: 50,
};

export interface QuotaUsage {
  /** Quota day (`YYYY-MM-DD` in the quota zone) the daily counters belong to. */
  day: string;
  urlsToday: number;
  dirsToday: number;
  /** Start (epoch ms) of the calendar minute the per-minute counters belong to. */
  minute: number;
  urlsThisMinute: number;
  dirsThisMinute: number;
  preloadsToday: number;
}

export function freshUsage(nowMs: number, offsetMinutes: number): QuotaUsage {
  return {
    day: dayKey(nowMs, offsetMinutes),
    urlsToday: 0,
    dirsToday: 0,
    minute: minuteStart(nowMs),
    urlsThisMinute: 0,
    dirsThisMinute: 0,
    preloadsToday: 0,
  };
}

/** The usage as seen at `nowMs`: counters of a past day or minute start again from zero. */
export function rollUsage(usage: QuotaUsage, nowMs: number, offsetMinutes: number): QuotaUsage {
  const day = dayKey(nowMs, offsetMinutes);
  const minute = minuteStart(nowMs);
  const sameDay = usage.day === day;
  const sameMinute = usage.minute === minute;
  if (sameDay && sameMinute) return usage;
  return {
    day,
    urlsToday: sameDay ? usage.urlsToday : 0,
    dirsToday: sameDay ? usage.dirsToday : 0,
    minute,
    urlsThisMinute: sameMinute ? usage.urlsThisMinute : 0,
    dirsThisMinute: sameMinute ? usage.dirsThisMinute : 0,
    preloadsToday: sameDay ? usage.preloadsToday : 0,
  };
}

export type QuotaRefusal = 'QuotaExceeded.Refresh' | 'QuotaPerMinuteExceeded.Refresh';

/** Whether `count` more items of `kind` fit: the daily quota first, then the per-minute limit. */
export function checkQuota(
  limits: QuotaLimits,
  usage: QuotaUsage,
  kind: QuotaKind,
  count: number,
): QuotaRefusal | undefined {
  const perDay = kind === 'url' ? limits.urlsPerDay : limits.dirsPerDay;
  const today = kind === 'url' ? usage.urlsToday : usage.dirsToday;
  if (today + count > perDay) return 'QuotaExceeded.Refresh';
  const perMinute = kind === 'url' ? limits.urlsPerMinute : limits.dirsPerMinute;
  const thisMinute = kind === 'url' ? usage.urlsThisMinute : usage.dirsThisMinute;
  if (perMinute !== null && thisMinute + count > perMinute) return 'QuotaPerMinuteExceeded.Refresh';
  return undefined;
}

/** Whether one call may carry `count` items of `kind`. */
export function withinCallMaximum(limits: QuotaLimits, kind: QuotaKind, count: number): boolean {
  return count <= (kind === 'url' ? limits.maxUrlsPerCall : limits.maxDirsPerCall);
}

export function spend(usage: QuotaUsage, kind: QuotaKind, count: number): QuotaUsage {
  return kind === 'url'
    ? { ...usage, urlsToday: usage.urlsToday + count, urlsThisMinute: usage.urlsThisMinute + count }
    : { ...usage, dirsToday: usage.dirsToday + count, dirsThisMinute: usage.dirsThisMinute + count };
}

/** Whether `count` more preloads fit today; a spent day is reported as a full queue (PreloadQueueFull). */
export function preloadFits(limits: QuotaLimits, usage: QuotaUsage, count: number): boolean {
  return usage.preloadsToday + count <= limits.preloadPerDay;
}

export function spendPreloads(usage: QuotaUsage, count: number): QuotaUsage {
  return { ...usage, preloadsToday: usage.preloadsToday + count };
}

export interface QuotaRemaining {
  urlsToday: number;
  dirsToday: number;
  preloadsToday: number;
  urlsThisMinute: number | null;
  dirsThisMinute: number | null;
}

export function remaining(limits: QuotaLimits, usage: QuotaUsage): QuotaRemaining {
  return {
    urlsToday: Math.max(0, limits.urlsPerDay - usage.urlsToday),
    dirsToday: Math.max(0, limits.dirsPerDay - usage.dirsToday),
    preloadsToday: Math.max(0, limits.preloadPerDay - usage.preloadsToday),
    urlsThisMinute:
      limits.urlsPerMinute === null ? null : Math.max(0, limits.urlsPerMinute - usage.urlsThisMinute),
    dirsThisMinute:
      limits.dirsPerMinute === null ? null : Math.max(0, limits.dirsPerMinute - usage.dirsThisMinute),
  };
}
