import { domainError } from '../domains.js';
import { invalidParameter, missingParameter } from '../errors.js';
import {
  MEDIA_DEFINITIONS,
  MEDIA_FORMATS,
  type MediaJob,
  type MediaJobEntry,
  type PlayUrlFilter,
  STREAM_TYPES,
  selectPlayUrls,
} from '../media.js';
import { checkQuota, preloadFits, spend, spendPreloads } from '../quota.js';
import { assignTaskIds } from '../task-ids.js';
import { TASK_RETENTION_MS, taskFailure } from '../tasks.js';
import { isJsonObject, parseBoolean } from './preload.js';
import type { ActionContext, ActionResult } from './types.js';

export const MAX_MEDIA_IDS = 20;
const MAX_USER_DATA = 1024;

/**
 * RefreshMediaPlayUrls: a refresh or prefetch job for up to 20 media, by id. The parameters are
 * checked first (InvalidParameter names the one at fault); then each id is looked up: unknown ids
 * come back in NonExistMediaIds, forbidden ones in ForbiddenMediaIds, and the rest join the job.
 * Each media's play URLs (filtered by Formats, Definitions, StreamType, ResultType, SliceFlag and
 * SliceCount) are submitted as one task each, spending the URL refresh quota (TaskType Refresh)
 * or the preload quota (Preload); a media whose URLs do not fit fails in the job with the quota's
 * code, nothing spent for it. GetMediaRefreshJobs shows the job `Processing` for `mediaSubmitMs`.
 */
export function refreshMediaPlayUrls({ state, call, requestId }: ActionContext): ActionResult {
  const p = call.params;
  if (p.MediaIds === undefined) throw missingParameter('MediaIds');
  const ids = [...new Set(list(p.MediaIds))];
  if (ids.length === 0) throw missingParameter('MediaIds');
  if (ids.length > MAX_MEDIA_IDS) throw invalidParameter('MediaIds', `At most ${MAX_MEDIA_IDS} ids.`);
  if (p.TaskType === undefined) throw missingParameter('TaskType');
  if (p.TaskType !== 'Refresh' && p.TaskType !== 'Preload')
    throw invalidParameter('TaskType', 'It must be Refresh or Preload.');
  const taskType = p.TaskType;
  const formats = enumList(p.Formats, MEDIA_FORMATS, 'Formats', (v) => v.toLowerCase());
  const definitions = enumList(p.Definitions, MEDIA_DEFINITIONS, 'Definitions', (v) => v.toUpperCase());
  const streamTypes = enumList(p.StreamType, STREAM_TYPES, 'StreamType', (v) => v.toLowerCase());
  const resultType = p.ResultType ?? 'Single';
  if (resultType !== 'Single' && resultType !== 'Multiple')
    throw invalidParameter('ResultType', 'It must be Single or Multiple.');
  const sliceFlag = parseBoolean(p.SliceFlag, 'SliceFlag') ?? false;
  const sliceCount = p.SliceCount === undefined ? 5 : Number(p.SliceCount);
  if (!Number.isInteger(sliceCount) || sliceCount < 1 || sliceCount > 20)
    throw invalidParameter('SliceCount', 'It must be a whole number from 1 to 20.');
  const userData = p.UserData;
  if (userData !== undefined && (userData.length > MAX_USER_DATA || !isJsonObject(userData)))
    throw invalidParameter('UserData', `It must be a JSON object of at most ${MAX_USER_DATA} characters.`);

  const filter: PlayUrlFilter = {
    ...(formats && { formats }),
    ...(definitions && { definitions }),
    ...(streamTypes && { streamTypes }),
    resultType,
    sliceFlag,
    sliceCount,
  };
  const now = state.clock.now();
  const submittedAt = now + state.timing.mediaSubmitMs;
  const forbiddenMediaIds: string[] = [];
  const nonExistMediaIds: string[] = [];
  const entries: MediaJobEntry[] = [];
  state.tasks.prune(now);
  for (const mediaId of ids) {
    const record = state.media.get(mediaId);
    if (!record) {
      nonExistMediaIds.push(mediaId);
      continue;
    }
    if (record.forbidden) {
      forbiddenMediaIds.push(mediaId);
      continue;
    }
    entries.push(submitPlayUrls(state, mediaId, selectPlayUrls(record, filter), taskType, now, submittedAt));
  }

  const job: MediaJob = {
    mediaRefreshJobId: state.media.nextJobId(),
    requestId,
    createdAtMs: now,
    taskType,
    filterPolicy: JSON.stringify({
      Formats: formats?.join(',') ?? '',
      Definitions: definitions?.join(',') ?? '',
      StreamType: streamTypes?.join(',') ?? '',
      ResultType: resultType,
      SliceFlag: sliceFlag,
      SliceCount: sliceCount,
    }),
    ...(userData !== undefined && { userData }),
    entries,
    forbiddenMediaIds,
    nonExistMediaIds,
    paths: ids,
    answer: 'sent',
  };
  state.media.addJob(job);
  state.counts.mediaJobs++;
  return {
    body: {
      MediaRefreshJobId: job.mediaRefreshJobId,
      ForbiddenMediaIds: forbiddenMediaIds.join(','),
      NonExistMediaIds: nonExistMediaIds.join(','),
    },
    submission: job,
  };
}

/** Submits one media's play URLs, one task each, if their domains and the day's quota allow. */
function submitPlayUrls(
  state: ActionContext['state'],
  mediaId: string,
  urls: string[],
  taskType: 'Refresh' | 'Preload',
  now: number,
  submittedAt: number,
): MediaJobEntry {
  const fail = (errorCode: string, errorMessage: string): MediaJobEntry => ({
    mediaId,
    status: 'fail',
    playUrls: [],
    taskIds: [],
    errorCode,
    errorMessage,
  });
  const domains = urls.map((url) => new URL(url).hostname.toLowerCase());
  for (const domain of new Set(domains)) {
    const code = domainError(state.domains.stateOf(domain));
    if (code) return fail(code, `The domain ${domain} of a play URL cannot be refreshed.`);
  }
  const usage = state.usage;
  if (taskType === 'Refresh') {
    const refusal = checkQuota(state.limits, usage, 'url', urls.length);
    if (refusal) return fail(refusal, 'Your refresh quota does not cover the play URLs of this media.');
    state.usage = spend(usage, 'url', urls.length);
  } else {
    const limit = state.limits.preloadQueueLimit;
    const full =
      !preloadFits(state.limits, usage, urls.length) ||
      (limit !== null && queuedPreloads(state, now) + urls.length > limit);
    if (full) return fail('PreloadQueueFull', 'Preload queue is full, please try again later!');
    state.usage = spendPreloads(usage, urls.length);
  }
  // One URL per task: never merged.
  const objectType = taskType === 'Refresh' ? ('file' as const) : ('preload' as const);
  const assignment = assignTaskIds(
    state.taskIds,
    domains.map((domain) => ({ domain, objectType, kind: 'dir' as const })),
    submittedAt,
  );
  state.taskIds = assignment.state;
  urls.forEach((objectPath, i) => {
    const taskId = assignment.ids[i] ?? '';
    state.tasks.add({
      taskId,
      objectPath,
      objectType,
      domain: domains[i] ?? '',
      createdAtMs: submittedAt,
      failure: taskFailure(state.timing.seed, taskId, objectPath, state.timing.failureRate),
    });
  });
  state.counts.playUrlsSubmitted += urls.length;
  return { mediaId, status: 'success', playUrls: urls, taskIds: assignment.ids };
}

function queuedPreloads(state: ActionContext['state'], now: number): number {
  return state.tasks
    .query(
      { objectType: 'preload', fromMs: now - TASK_RETENTION_MS, toMs: Number.POSITIVE_INFINITY },
      now,
      state.timing,
    )
    .filter((task) => task.Status === 'Pending' || task.Status === 'Refreshing').length;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function enumList(
  value: string | undefined,
  allowed: readonly string[],
  name: string,
  normalise: (value: string) => string,
): string[] | undefined {
  if (value === undefined) return undefined;
  const values = list(value).map(normalise);
  if (values.length === 0) return undefined;
  const bad = values.find((item) => !allowed.includes(item));
  if (bad !== undefined) throw invalidParameter(name, `It must be one or more of ${allowed.join(', ')}.`);
  return [...new Set(values)];
}
