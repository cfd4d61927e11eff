import { domainError } from '../domains.js';
import { ApiError, invalidParameter, missingParameter } from '../errors.js';
import {
  checkPath,
  isRefreshObjectType,
  quotaKindOf,
  splitObjectPath,
  taskObjectTypeOf,
  type RefreshObjectType,
} from '../paths.js';
import { checkQuota, spend, withinCallMaximum } from '../quota.js';
import type { Submission } from '../submissions.js';
import { assignTaskIds } from '../task-ids.js';
import { taskFailure, taskUnlisted } from '../tasks.js';
import type { ActionContext, ActionResult } from './types.js';

/**
 * RefreshVodObjectCaches. All or nothing: every path is checked first (shape, wildcard,
 * per-call maximum, domain state, quota); only when all pass are tasks created and quota spent.
 * Error messages do not say which path failed (Alibaba's do not either).
 */
export function refreshVodObjectCaches({ state, call, requestId }: ActionContext): ActionResult {
  const { params } = call;
  const rawPaths = params.ObjectPath;
  const paths = rawPaths === undefined ? [] : splitObjectPath(rawPaths);
  if (paths.length === 0) throw missingParameter('ObjectPath');

  const typeParam = params.ObjectType ?? 'File';
  if (!isRefreshObjectType(typeParam)) throw new ApiError('InvalidObjectType.ValueNotSupported');
  const objectType: RefreshObjectType = typeParam;
  const force = parseForce(params.Force);
  const kind = quotaKindOf(objectType);

  if (!withinCallMaximum(state.limits, kind, paths.length)) {
    const max = kind === 'url' ? state.limits.maxUrlsPerCall : state.limits.maxDirsPerCall;
    throw new ApiError(
      'InvalidObjectPath.ExceedLimit',
      `The number of ObjectPath entries exceeds the limit of ${max} ${kind === 'url' ? 'URLs' : 'directories'} per request.`,
    );
  }

  const domains: string[] = [];
  for (const path of paths) {
    const check = checkPath(path, objectType);
    if (!check.ok) throw new ApiError(check.code);
    domains.push(check.domain);
  }
  for (const domain of new Set(domains)) {
    const code = domainError(state.domains.stateOf(domain));
    if (code) throw new ApiError(code);
  }

  const now = state.clock.now();
  const usage = state.usage;
  const refusal = checkQuota(state.limits, usage, kind, paths.length);
  if (refusal) throw new ApiError(refusal);

  // Accepted: spend, allocate ids, record tasks and the submission.
  state.usage = spend(usage, kind, paths.length);
  const taskType = taskObjectTypeOf(objectType);
  const assignment = assignTaskIds(
    state.taskIds,
    domains.map((domain) => ({ domain, objectType: taskType, kind })),
    now,
  );
  state.taskIds = assignment.state;
  state.tasks.prune(now);
  paths.forEach((objectPath, i) => {
    const taskId = assignment.ids[i] ?? '';
    state.tasks.add({
      taskId,
      objectPath,
      objectType: taskType,
      domain: domains[i] ?? '',
      createdAtMs: now,
      failure: taskFailure(state.timing.seed, taskId, objectPath, state.timing.failureRate),
      unlisted: taskUnlisted(state.timing.seed, taskId, objectPath, state.timing.unlistedRate),
    });
  });
  const refreshTaskId = assignment.distinct.join(',');
  const submission: Submission = {
    at: new Date(now).toISOString(),
    atMs: now,
    requestId,
    accessKeyId: call.accessKeyId,
    objectType,
    force,
    paths,
    taskIds: assignment.ids,
    refreshTaskId,
    answer: 'sent',
  };
  state.submissions.add(submission);
  state.counts.submissions++;
  if (kind === 'url') state.counts.urlsAccepted += paths.length;
  else state.counts.dirsAccepted += paths.length;

  return { body: { RefreshTaskId: refreshTaskId }, submission };
}

/** `true`/`false` in any case; absent = false. Anything else (e.g. the string "undefined") is refused. */
function parseForce(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidParameter('Force', 'It must be true or false.');
}
