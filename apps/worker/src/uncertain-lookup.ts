import {
  describeObjectType,
  type ListedTask,
  lookupWindow,
  matchUncertainTasks,
  type ObjectType,
  UPSTREAM_LOOKUP_WINDOW_MS,
  type UncertainPath,
} from '@refreshq/domain';
import type { VodClient } from '@refreshq/vod-client';

export interface LookupSettings {
  /** How far the upstream's clock may be from Redis' (UPSTREAM_CLOCK_SKEW_MS). */
  skewMs: number;
  /** Waits for a token of the DescribeVodRefreshTasks budget shared with task tracking. */
  takeCall: () => Promise<void>;
}

/** The upstream's page size maximum. */
const PAGE_SIZE = 50;
/** Pages read per domain look-up (5,000 tasks); past that the paths still unmatched are asked for one by one. */
const MAX_PAGES = 100;
/** A call older than the upstream's window cannot be looked up (a minute kept for the call itself). */
const LOOKBACK_LIMIT_MS = UPSTREAM_LOOKUP_WINDOW_MS - 60_000;

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * After calls that got no answer, the upstream may have accepted them. Before such paths (all of
 * one domain and type: one batch) are submitted again, one paged DescribeVodRefreshTasks by
 * domain, object type and the tightest time window lists what the upstream created, and each
 * path is matched locally (packages/domain/src/uncertain-match.ts). Returns path → task id for
 * the paths found; the others must be submitted. Paths whose call is older than the upstream's
 * window are never found. Throws when the upstream does not answer.
 */
export async function findUncertainTasks(
  vod: VodClient,
  query: { domain: string; objectType: ObjectType; paths: readonly UncertainPath[]; now: number },
  settings: LookupSettings,
): Promise<Map<string, string>> {
  const { domain, objectType, now } = query;
  const paths = query.paths.filter((entry) => now - entry.since <= LOOKBACK_LIMIT_MS);
  const found = new Map<string, string>();
  if (paths.length === 0) return found;
  const window = lookupWindow(paths, now, settings.skewMs);
  const tasks: ListedTask[] = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    await settings.takeCall();
    const result = await vod.describeRefreshTasks({
      domainName: domain,
      objectType: describeObjectType(objectType),
      startTime: isoSeconds(window.startMs),
      endTime: isoSeconds(window.endMs),
      pageNumber: page,
      pageSize: PAGE_SIZE,
    });
    tasks.push(...result.tasks);
    for (const [path, taskId] of matchUncertainTasks(paths, tasks, objectType, now, settings.skewMs))
      found.set(path, taskId);
    // Newest first: a task created while paging pushes older ones down a page (seen twice, never missed).
    const listedAll = page * PAGE_SIZE >= result.totalCount || result.tasks.length < PAGE_SIZE;
    if (listedAll || found.size === paths.length) return found;
  }
  // A domain busier than MAX_PAGES pages in the window: the rest are asked for by exact path.
  for (const entry of paths) {
    if (found.has(entry.path)) continue;
    await settings.takeCall();
    const result = await vod.describeRefreshTasks({
      objectPath: entry.path,
      objectType: describeObjectType(objectType),
      startTime: isoSeconds(window.startMs),
      endTime: isoSeconds(window.endMs),
      pageSize: PAGE_SIZE,
    });
    const taskId = matchUncertainTasks([entry], result.tasks, objectType, now, settings.skewMs).get(
      entry.path,
    );
    if (taskId) found.set(entry.path, taskId);
  }
  return found;
}
