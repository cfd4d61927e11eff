import type { TaskStore } from '@refreshq/store';

/**
 * Share of the DescribeVodRefreshTasks budget (TASK_POLL_CALLS_PER_SECOND) kept for the
 * uncertain look-ups: they hold up resubmitting a batch, while task tracking only moves states
 * along, so tracking stops taking tokens once the last second holds the rest of the budget.
 */
const LOOKUP_SHARE = 0.4;

/** Calls per second task tracking may take from the shared describe budget (at least 1). */
export function trackingCallsPerSecond(callsPerSecond: number): number {
  return Math.max(1, callsPerSecond - Math.max(1, Math.round(callsPerSecond * LOOKUP_SHARE)));
}

/**
 * Waits for one token of a per-second call budget shared by every worker (take-call-1.lua):
 * `describe` is DescribeVodRefreshTasks, spent by task tracking (up to
 * trackingCallsPerSecond) and the uncertain look-ups (up to the whole budget).
 */
export async function takeCallToken(tasks: TaskStore, scope: string, callsPerSecond: number): Promise<void> {
  for (;;) {
    const wait = await tasks.takeCall(scope, callsPerSecond);
    if (wait === 0) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
