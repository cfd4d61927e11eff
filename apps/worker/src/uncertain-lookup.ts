import {
  type ListedTask,
  lookupWindow,
  matchUncertainTasks,
  UPSTREAM_LOOKUP_WINDOW_MS,
  type UncertainPath,
  type WorkKind,
} from '@refreshq/domain';
import { type DescribeTasksQuery, type TaskPage, UpstreamError, type VodClient } from '@refreshq/vod-client';

/**
 * Look-ups are not held to TASK_POLL_CALLS_PER_SECOND: they stand between a batch and its
 * resubmission, they come only after faults or a dead worker, and a Throttling answer is retried
 * like any transient failure. (Measured: holding them to tracking's budget doubled the drain
 * after worker kills.)
 */
export interface LookupSettings {
  /** How far the upstream's clock may be from Redis' (UPSTREAM_CLOCK_SKEW_MS). */
  skewMs: number;
  /** Pause before a page is asked for again (tests shorten it). */
  pageRetryMs?: number;
}

/** What a look-up learnt: the task of each path found, and why the listing stopped short, if it did. */
export interface LookupResult {
  found: Map<string, string>;
  /** Set when not every page could be read: paths not in `found` may still have a task. */
  failure?: unknown;
}

/** The upstream's page size maximum. */
const PAGE_SIZE = 50;
/** Pages read per domain look-up (5,000 tasks); past that the paths still unmatched are asked for one by one. */
const MAX_PAGES = 100;
/** Tries per page: a look-up of several pages would otherwise rarely get through a flaky upstream. */
const PAGE_ATTEMPTS = 3;
const PAGE_RETRY_MS = 250;
/** A call older than the upstream's window cannot be looked up (a minute kept for the call itself). */
const LOOKBACK_LIMIT_MS = UPSTREAM_LOOKUP_WINDOW_MS - 60_000;

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A describe call worth trying again: no answer, not sent, or throttled. Any other code will not change. */
const transient = (error: unknown): boolean =>
  error instanceof UpstreamError &&
  (error.delivery !== 'refused' || error.code === 'Throttling' || error.code.startsWith('Throttling.'));

/**
 * After calls that got no answer, the upstream may have accepted them. Before such paths (all of
 * one domain and type: one batch) are submitted again, one paged DescribeVodRefreshTasks by
 * domain, object type and the tightest time window lists what the upstream created, and each
 * path is matched locally (packages/domain/src/uncertain-match.ts). Each page is tried up to
 * three times. Paths whose call is older than the upstream's window are never found. When a
 * page cannot be read, what the pages read so far matched is still returned, with the failure.
 */
export async function findUncertainTasks(
  vod: VodClient,
  query: {
    domain: string;
    taskObjectType: WorkKind['taskObjectType'];
    paths: readonly UncertainPath[];
    now: number;
  },
  settings: LookupSettings,
): Promise<LookupResult> {
  const { domain, taskObjectType, now } = query;
  const paths = query.paths.filter((entry) => now - entry.since <= LOOKBACK_LIMIT_MS);
  const found = new Map<string, string>();
  if (paths.length === 0) return { found };
  const window = lookupWindow(paths, now, settings.skewMs);
  const base = {
    objectType: taskObjectType,
    startTime: isoSeconds(window.startMs),
    endTime: isoSeconds(window.endMs),
    pageSize: PAGE_SIZE,
  } as const;
  const read = async (params: DescribeTasksQuery): Promise<TaskPage> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await vod.describeRefreshTasks(params);
      } catch (error) {
        if (attempt >= PAGE_ATTEMPTS || !transient(error)) throw error;
        const pause = (settings.pageRetryMs ?? PAGE_RETRY_MS) * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  };
  const match = (tasks: readonly ListedTask[], among: readonly UncertainPath[]) => {
    for (const [path, taskId] of matchUncertainTasks(among, tasks, taskObjectType, now, settings.skewMs))
      found.set(path, taskId);
  };
  try {
    const tasks: ListedTask[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const result = await read({ ...base, domainName: domain, pageNumber: page });
      tasks.push(...result.tasks);
      match(tasks, paths);
      // Newest first: a task created while paging pushes older ones down a page (seen twice, never missed).
      const listedAll = page * PAGE_SIZE >= result.totalCount || result.tasks.length < PAGE_SIZE;
      if (listedAll || found.size === paths.length) return { found };
    }
    // A domain busier than MAX_PAGES pages in the window: the rest are asked for by exact path.
    for (const entry of paths) {
      if (found.has(entry.path)) continue;
      match((await read({ ...base, objectPath: entry.path })).tasks, [entry]);
    }
    return { found };
  } catch (failure) {
    return { found, failure };
  }
}
