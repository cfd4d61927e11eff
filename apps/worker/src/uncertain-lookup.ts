import type { WorkKind } from '@refreshq/domain';
import type { VodClient } from '@refreshq/vod-client';

/** The upstream keeps refresh tasks for 3 days; older calls cannot be looked up. */
const LOOKBACK_LIMIT_MS = 3 * 24 * 3600 * 1000 - 60_000;
/** Margin for clock skew between us and the upstream. */
const SKEW_MS = 60_000;

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * After a call that got no answer, the upstream may have accepted it. Before submitting such a
 * path again we ask DescribeVodRefreshTasks for a task on that exact path created since the
 * call; if there is one, that task is the outcome and no quota is spent twice.
 * Returns the task id found, or undefined when the path must be submitted.
 */
export async function findTaskSince(
  vod: VodClient,
  path: string,
  taskObjectType: WorkKind['taskObjectType'],
  sinceMs: number,
  nowMs: number,
): Promise<string | undefined> {
  if (nowMs - sinceMs > LOOKBACK_LIMIT_MS) return undefined;
  const page = await vod.describeRefreshTasks({
    objectPath: path,
    objectType: taskObjectType,
    startTime: isoSeconds(sinceMs - SKEW_MS),
    endTime: isoSeconds(nowMs + SKEW_MS),
    pageSize: 50,
  });
  const found = page.tasks.find(
    (task) => task.objectPath === path && Date.parse(task.creationTime) >= sinceMs - SKEW_MS,
  );
  return found?.taskId;
}
