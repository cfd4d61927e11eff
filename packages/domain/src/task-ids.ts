/** The upstream merges every 2,000 URL tasks under one id (shared/vod-api.md). */
export const TASKS_PER_ID = 2000;

/**
 * Maps each submitted path to its task id. RefreshTaskId may hold several ids separated by
 * commas; the k-th id covers paths [k·2000, (k+1)·2000). When the count of ids does not fit
 * that rule the whole string is kept for every path, so no id is ever invented.
 */
export function assignTaskIds(paths: readonly string[], refreshTaskId: string): string[] {
  const ids = refreshTaskId
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) return paths.map(() => refreshTaskId);
  if (ids.length === 1) return paths.map(() => ids[0] as string);
  if (ids.length === Math.ceil(paths.length / TASKS_PER_ID)) {
    return paths.map((_path, index) => ids[Math.floor(index / TASKS_PER_ID)] as string);
  }
  return paths.map(() => ids.join(','));
}
