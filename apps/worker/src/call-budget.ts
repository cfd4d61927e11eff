import type { TaskStore } from '@refreshq/store';

/**
 * Waits for one token of a per-second call budget shared by every worker (take-call-1.lua):
 * `describe` is DescribeVodRefreshTasks, spent by task tracking and the uncertain look-ups alike.
 */
export async function takeCallToken(tasks: TaskStore, scope: string, callsPerSecond: number): Promise<void> {
  for (;;) {
    const wait = await tasks.takeCall(scope, callsPerSecond);
    if (wait === 0) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
