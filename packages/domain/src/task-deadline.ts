/** The upstream lists a refresh task for 3 days (DescribeVodRefreshTasks: StartTime within the last 3 days). */
export const UPSTREAM_LOOKUP_WINDOW_MS = 3 * 24 * 3600 * 1000;

/** The last look is made this long before the window closes, so the upstream still lists the task. */
const WINDOW_MARGIN_MS = 60_000;

/** Why a task's paths ended `unconfirmed`. */
export type UnconfirmedReason = 'deadline' | 'lookup_window';

/**
 * When refreshq stops waiting for a task's end: `deadlineMs` after the accepting call, and never
 * later than the upstream's look-up window allows (past it nothing more can be learnt).
 */
export function taskGiveUpAt(
  submittedAt: number,
  deadlineMs: number,
): { at: number; reason: UnconfirmedReason } {
  const windowEnd = submittedAt + UPSTREAM_LOOKUP_WINDOW_MS - WINDOW_MARGIN_MS;
  const deadline = submittedAt + deadlineMs;
  return deadline < windowEnd
    ? { at: deadline, reason: 'deadline' }
    : { at: windowEnd, reason: 'lookup_window' };
}

/**
 * How long until a task still running is looked at again: young tasks often (half their age,
 * at least `minPollMs`), old ones at most every `maxPollMs`, and never past the give-up moment,
 * so the last look happens on time.
 */
export function nextTaskPollMs(
  now: number,
  submittedAt: number,
  giveUpAt: number,
  settings: { minPollMs: number; maxPollMs: number },
): number {
  const age = Math.max(0, now - submittedAt);
  const usual = Math.min(settings.maxPollMs, Math.max(settings.minPollMs, Math.round(age / 2)));
  return Math.max(0, Math.min(usual, giveUpAt - now));
}
