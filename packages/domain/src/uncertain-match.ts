import type { WorkKind } from './work-kinds.js';

/**
 * Matching the tasks the upstream lists against paths whose call got no answer (uncertain).
 * refreshq asks DescribeVodRefreshTasks once per domain and time window and matches here, path
 * by path. Only a task refreshq's own call could have made counts: the same path and object
 * type, created no earlier than that path's uncertain call started and no later than it ended
 * (the client gave up, or the batch was taken back from a dead holder; now, if unknown), each
 * widened by the allowed clock skew between Redis and the upstream.
 */

/** A path of one domain whose earlier call may have been accepted without an answer. */
export interface UncertainPath {
  path: string;
  /** When the uncertain call (or the claim of a batch whose holder died) started, Redis clock. */
  since: number;
  /** When the last uncertain call ended (or the batch was taken back); now when unknown. */
  until?: number;
}

/** A task as DescribeVodRefreshTasks lists it. */
export interface ListedTask {
  taskId: string;
  objectPath: string;
  /** `file`, `directory`, `preload` (the upstream's lower-case names). */
  objectType: string;
  /** `2014-11-27T08:23:22Z`: whole seconds, the upstream's clock. */
  creationTime: string;
}

const SECOND = 1000;

/** The end of a path's own window: when its uncertain calls ended, never later than now. */
const untilOf = (entry: UncertainPath, now: number): number => Math.min(entry.until ?? now, now);

/**
 * The one window to ask for: from the earliest uncertain call less the skew to the latest end
 * plus the skew, in the whole seconds the upstream's StartTime and EndTime take. Tasks created
 * after that (the domain's later traffic) are not even listed.
 */
export function lookupWindow(
  paths: readonly UncertainPath[],
  now: number,
  skewMs: number,
): { startMs: number; endMs: number } {
  const since = Math.min(...paths.map((entry) => entry.since));
  const until = Math.max(...paths.map((entry) => untilOf(entry, now)));
  return {
    startMs: Math.floor((since - skewMs) / SECOND) * SECOND,
    endMs: Math.ceil((until + skewMs) / SECOND) * SECOND,
  };
}

/**
 * Per path, the task found for it: the earliest one on that exact path and type inside its own
 * window (the first task after our call is the one our call made; a later one is someone's
 * later refresh). Paths without one are absent from the result.
 */
export function matchUncertainTasks(
  paths: readonly UncertainPath[],
  tasks: readonly ListedTask[],
  /** The upstream's lower-case object type of the tasks sought (the work kind's taskObjectType). */
  type: WorkKind['taskObjectType'],
  now: number,
  skewMs: number,
): Map<string, string> {
  const candidates = new Map<string, { taskId: string; created: number }[]>();
  for (const task of tasks) {
    const created = Date.parse(task.creationTime);
    if (task.objectType.toLowerCase() !== type || !Number.isFinite(created) || task.taskId === '') continue;
    const list = candidates.get(task.objectPath) ?? [];
    list.push({ taskId: task.taskId, created });
    candidates.set(task.objectPath, list);
  }
  const found = new Map<string, string>();
  for (const entry of paths) {
    const { path, since } = entry;
    const earliest = Math.floor((since - skewMs) / SECOND) * SECOND;
    const latest = untilOf(entry, now) + skewMs;
    const first = (candidates.get(path) ?? [])
      .filter((task) => task.created >= earliest && task.created <= latest)
      .sort((a, b) => a.created - b.created)[0];
    if (first) found.set(path, first.taskId);
  }
  return found;
}
