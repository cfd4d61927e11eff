import { domainError } from '../domains.js';
import { ApiError, invalidParameter, missingParameter } from '../errors.js';
import { checkPath, splitObjectPath } from '../paths.js';
import { preloadFits, spendPreloads } from '../quota.js';
import type { PreloadSubmission } from '../submissions.js';
import { assignTaskIds } from '../task-ids.js';
import { TASK_RETENTION_MS, taskFailure } from '../tasks.js';
import type { ActionContext, ActionResult } from './types.js';

/**
 * PreloadVodObjectCaches: prefetch URLs onto the edge. All or nothing like the refresh: every
 * path is checked first (count, shape, wildcard, domain state), then the day's preload quota and
 * the queue; a spent day is answered as a full queue (`PreloadQueueFull`), as Alibaba's is. No
 * directories: ObjectType does not exist here, and every path is a URL. Tasks are listed by
 * DescribeVodRefreshTasks with ObjectType `preload`; URL tasks of one domain in one second share
 * an id, as refresh tasks do.
 */
export function preloadVodObjectCaches({ state, call, requestId }: ActionContext): ActionResult {
  const { params } = call;
  const paths = params.ObjectPath === undefined ? [] : splitObjectPath(params.ObjectPath);
  if (paths.length === 0) throw missingParameter('ObjectPath');
  const area = params.Area;
  if (area !== undefined && area !== 'domestic' && area !== 'overseas')
    throw invalidParameter('Area', 'It must be domestic or overseas.');
  const l2Preload = parseBoolean(params.L2Preload, 'L2Preload');
  const withHeader = params.WithHeader;
  if (withHeader !== undefined && !isJsonObject(withHeader))
    throw invalidParameter('WithHeader', 'It must be a JSON object.');
  if (paths.length > state.limits.maxPreloadsPerCall) throw new ApiError('InvalidObjectPath.Size.Malformed');

  const domains: string[] = [];
  for (const path of paths) {
    const check = checkPath(path, 'File');
    if (!check.ok) throw new ApiError(check.code);
    domains.push(check.domain);
  }
  for (const domain of new Set(domains)) {
    const code = domainError(state.domains.stateOf(domain));
    if (code) throw new ApiError(code);
  }

  const now = state.clock.now();
  const usage = state.usage;
  if (!preloadFits(state.limits, usage, paths.length)) throw new ApiError('PreloadQueueFull');
  const queueLimit = state.limits.preloadQueueLimit;
  if (queueLimit !== null && queued(state, now) + paths.length > queueLimit)
    throw new ApiError('PreloadQueueFull');

  state.usage = spendPreloads(usage, paths.length);
  const assignment = assignTaskIds(
    state.taskIds,
    domains.map((domain) => ({ domain, objectType: 'preload' as const, kind: 'url' as const })),
    now,
  );
  state.taskIds = assignment.state;
  state.tasks.prune(now);
  paths.forEach((objectPath, i) => {
    const taskId = assignment.ids[i] ?? '';
    state.tasks.add({
      taskId,
      objectPath,
      objectType: 'preload',
      domain: domains[i] ?? '',
      createdAtMs: now,
      failure: taskFailure(state.timing.seed, taskId, objectPath, state.timing.failureRate),
    });
  });
  const preloadTaskId = assignment.distinct.join(',');
  const submission: PreloadSubmission = {
    at: new Date(now).toISOString(),
    atMs: now,
    requestId,
    accessKeyId: call.accessKeyId,
    paths,
    taskIds: assignment.ids,
    preloadTaskId,
    ...(area !== undefined && { area }),
    ...(l2Preload !== undefined && { l2Preload }),
    ...(withHeader !== undefined && { withHeader }),
    answer: 'sent',
  };
  state.preloads.add(submission);
  state.counts.preloadsAccepted += paths.length;
  return { body: { PreloadTaskId: preloadTaskId }, submission };
}

/** Preload tasks still Pending or Refreshing: what the queue holds. */
function queued(state: ActionContext['state'], now: number): number {
  return state.tasks
    .query(
      { objectType: 'preload', fromMs: now - TASK_RETENTION_MS, toMs: Number.POSITIVE_INFINITY },
      now,
      state.timing,
    )
    .filter((task) => task.Status === 'Pending' || task.Status === 'Refreshing').length;
}

/** `true`/`false` in any case; absent = undefined. Anything else (pop-core's "undefined") is refused. */
export function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidParameter(name, 'It must be true or false.');
}

export function isJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
