const MINUTE = 60_000;
const DAY = 86_400_000;

export interface BudgetView {
  now: number;
  /** Units waiting ahead of (and including) the path in question. */
  ahead: number;
  minuteBudget: number;
  /** Units still grantable in the current 60-second window. */
  minuteLeft: number;
  dayBudget: number;
  /** Units still grantable today (for this lane). */
  dayLeft: number;
  nextDayStart: number;
  /** A hold in force (quota error, throttling) until this time. */
  holdUntil?: number;
}

/**
 * When `ahead` units will have been submitted at the current budgets: today's remaining units
 * at the per-minute rate, then whole days from the next quota day on. An estimate, not a
 * promise: it assumes nothing else joins ahead and the budgets stay as they are.
 */
export function estimateSubmitAt(view: BudgetView): number {
  const start = Math.max(view.now, view.holdUntil ?? view.now);
  if (view.ahead <= 0) return start;
  if (view.minuteBudget <= 0 || view.dayBudget <= 0) return Number.POSITIVE_INFINITY;
  const minutesFor = (units: number, firstMinuteLeft: number) =>
    units <= firstMinuteLeft ? 0 : Math.ceil((units - firstMinuteLeft) / view.minuteBudget) * MINUTE;
  const today = Math.max(0, view.dayLeft);
  if (view.ahead <= today) return start + minutesFor(view.ahead, Math.max(0, view.minuteLeft));
  const rest = view.ahead - today;
  const fullDays = Math.floor((rest - 1) / view.dayBudget);
  const lastDayUnits = rest - fullDays * view.dayBudget;
  return Math.max(start, view.nextDayStart) + fullDays * DAY + minutesFor(lastDayUnits, view.minuteBudget);
}
