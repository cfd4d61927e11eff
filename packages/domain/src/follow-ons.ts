import type { Priority, RefreshRequest } from './refresh-types.js';
import { shortDigest } from './work-kinds.js';

/**
 * `"then": "preload"`: once a file's refresh task completes, the file is prefetched, spending
 * preload quota and never refresh quota. Each such file becomes a follow-on request of one path
 * (type Preload) whose id is derived from the parent's id and the path, so queueing it twice (a
 * tracker that died before recording the task) admits it once, and the parent's status finds it
 * without keeping a list.
 */
export const followOnId = (parentId: string, path: string): string =>
  `${parentId}~preload~${shortDigest(path)}`;

/** One (request, path) a refresh task covers, as the task's record holds it. */
export interface TaskEntry {
  requestId: string;
  path: string;
  /** The directory whose task this is when the path was covered by it; '' when submitted itself. */
  coveredBy: string;
}

/**
 * The entries of a task whose refresh the upstream reports complete: the task's own path, or for a
 * covered file, its directory's. `byPath` is what DescribeVodRefreshTasks listed, by submitted path.
 */
export function completedEntries(
  entries: readonly TaskEntry[],
  byPath: ReadonlyMap<string, { state: string }>,
): TaskEntry[] {
  return entries.filter((entry) => byPath.get(entry.coveredBy || entry.path)?.state === 'complete');
}

/** The follow-on preload of one file of a `then: "preload"` request. */
export function followOnRequest(
  parent: { id: string; priority: Priority },
  path: string,
  receivedAt: number,
): RefreshRequest {
  return {
    id: followOnId(parent.id, path),
    objectType: 'File',
    action: 'preload',
    priority: parent.priority,
    paths: [path],
    receivedAt,
    parent: parent.id,
  };
}
