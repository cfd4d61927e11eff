import {
  mediaItemKey,
  PATH_STATES,
  type PathState,
  type PathStatus,
  type RefreshRequest,
  type RequestState,
  requestState,
  workTypeOf,
} from '@refreshq/domain';
import type { QuotaEstimates } from './quota-estimates.js';
import type { PathHistory } from './request-index.js';
import type { RequestMeta, Retry, StoredRequest } from './request-record.js';
import { MEDIA_JOB_PREFIX } from './task-store.js';

/** What refreshq knows of one step of a path's work (a refresh, or its follow-on preload). */
interface StepView {
  state: PathState;
  taskId?: string;
  /** The upstream's RequestId of the call that submitted or refused the path. */
  upstreamRequestId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  completedAt?: string;
  updatedAt: string;
}

export interface PathView extends StepView {
  path: string;
  coveredBy?: string;
  /** Why a directory nobody asked for covers it: the promotion's reason (docs/scarcity.md). */
  coverReason?: string;
  /** The latest request that retried this path (POST /v1/refreshes/:id/retry). */
  retriedBy?: string;
  /** `then: "preload"`: the prefetch queued once this path's refresh completed. */
  preload?: StepView;
}

export interface PlayUrlView {
  url: string;
  taskId?: string;
  state: string;
  error?: { code: string; message: string };
}

/** One media id of a request by media ids: its job, then its play URLs and their tasks. */
export interface MediaView extends Omit<StepView, 'taskId'> {
  mediaId: string;
  mediaRefreshJobId?: string;
  playUrls: PlayUrlView[];
}

/** A request without its paths: an entry of GET /v1/refreshes. */
export interface RequestSummaryView {
  id: string;
  state: RequestState;
  /** Absent for a request by media ids. */
  objectType?: string;
  priority: string;
  /** `refresh` or `preload`. */
  action: string;
  force?: boolean;
  then?: string;
  receivedAt: string;
  counts: Record<PathState, number>;
  /** The request this one retried. */
  retryOf?: string;
  /** Requests that retried this one's failed paths. */
  retriedBy?: string[];
}

/** The public JSON of a request: GET /v1/refreshes/:id, and the body of its completion callback. */
export interface RequestView extends RequestSummaryView {
  /** For a request with queued paths: when they should be submitted at the current budgets (ISO), or null if no budget is left. */
  estimatedSubmitAt?: string | null;
  /** True while the request's type is under pressure: today cannot grant all that is pending (docs/scarcity.md). */
  pressure?: boolean;
  paths: PathView[];
  /** A request by media ids: one entry per id (`paths` is then empty). */
  media?: MediaView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

function stepView(status: PathStatus): StepView {
  return {
    state: status.state,
    ...(status.taskId ? { taskId: status.taskId } : {}),
    ...(status.upstreamRequestId ? { upstreamRequestId: status.upstreamRequestId } : {}),
    ...(status.error ? { error: status.error } : {}),
    ...(status.submittedAt ? { submittedAt: iso(status.submittedAt) } : {}),
    ...(status.completedAt ? { completedAt: iso(status.completedAt) } : {}),
    updatedAt: iso(status.updatedAt),
  };
}

function pathView(path: string, status: PathStatus, followOn?: PathStatus, retriedBy?: string): PathView {
  const { updatedAt, ...step } = stepView(status);
  return {
    path,
    ...step,
    ...(status.coveredBy ? { coveredBy: status.coveredBy } : {}),
    ...(status.coverReason ? { coverReason: status.coverReason } : {}),
    ...(retriedBy ? { retriedBy } : {}),
    updatedAt,
    ...(followOn ? { preload: stepView(followOn) } : {}),
  };
}

/** A media item's status as finish-batch and finish-media-job wrote it (play URLs as Lua left them). */
type MediaStatus = PathStatus & { playUrls?: unknown };

function mediaView(mediaId: string, status: MediaStatus): MediaView {
  const { taskId, ...step } = stepView(status);
  // Lua's cjson writes an empty array as {}.
  const playUrls = Array.isArray(status.playUrls) ? (status.playUrls as PlayUrlView[]) : [];
  return {
    mediaId,
    ...step,
    ...(taskId?.startsWith(MEDIA_JOB_PREFIX)
      ? { mediaRefreshJobId: taskId.slice(MEDIA_JOB_PREFIX.length) }
      : {}),
    playUrls: playUrls.map((entry) => ({
      url: entry.url,
      ...(entry.taskId ? { taskId: entry.taskId } : {}),
      state: entry.state,
      ...((entry as { description?: string }).description
        ? { error: { code: 'TaskFailed', message: (entry as { description?: string }).description ?? '' } }
        : {}),
    })),
  };
}

type ViewedRequest = Pick<
  RefreshRequest,
  'id' | 'objectType' | 'priority' | 'receivedAt' | 'action' | 'force' | 'then' | 'media' | 'retryOf'
>;

/**
 * `counted`: the state of each path (or media id); `rest`: the states of the follow-on preloads,
 * which are the rest of their paths' work: the request ends when they do.
 */
function summary(
  request: ViewedRequest,
  counted: readonly PathState[],
  rest: readonly PathState[],
  retries: Retry[] = [],
): RequestSummaryView {
  const retriedBy = retries.map((retry) => retry.id);
  const counts = Object.fromEntries(PATH_STATES.map((state) => [state, 0])) as Record<PathState, number>;
  for (const state of counted) counts[state] += 1;
  return {
    id: request.id,
    state: requestState([...counted, ...rest]),
    ...(request.media ? {} : { objectType: request.objectType }),
    priority: request.priority,
    action: request.action ?? 'refresh',
    ...(request.force ? { force: true } : {}),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    ...(request.then ? { then: request.then } : {}),
    receivedAt: iso(request.receivedAt),
    counts,
    ...(request.retryOf ? { retryOf: request.retryOf } : {}),
    ...(retriedBy.length > 0 ? { retriedBy } : {}),
  };
}

function view(
  request: ViewedRequest,
  paths: PathView[],
  media: MediaView[] | undefined,
  estimates?: QuotaEstimates,
  retries: Retry[] = [],
): RequestView {
  const result: RequestView = {
    ...summary(
      request,
      [...paths, ...(media ?? [])].map((entry) => entry.state),
      paths.flatMap((path) => (path.preload ? [path.preload.state] : [])),
      retries,
    ),
    paths,
    ...(media ? { media } : {}),
  };
  const lane = estimates?.byType[workTypeOf(request)]?.[request.priority];
  if (result.counts.queued > 0 && lane)
    result.estimatedSubmitAt = lane.estimatedSubmitAt === null ? null : iso(lane.estimatedSubmitAt);
  const pressure = estimates?.pressure?.[request.objectType];
  if (pressure !== undefined) result.pressure = pressure;
  return result;
}

function mediaViews(meta: Pick<RequestMeta, 'media'>, status: (key: string) => MediaStatus): MediaView[] {
  const { ids, options } = meta.media ?? { ids: [], options: { taskType: 'Refresh' } };
  return ids.map((id) => mediaView(id, status(mediaItemKey(id, options))));
}

const storedStatus =
  (stored: StoredRequest) =>
  (key: string): MediaStatus =>
    stored.paths.get(key) ?? { state: 'queued', updatedAt: stored.meta.receivedAt };

/** The status of a request the workers have admitted. */
export function storedRequestView(stored: StoredRequest, estimates?: QuotaEstimates): RequestView {
  const { meta } = stored;
  if (meta.media) return view(meta, [], mediaViews(meta, storedStatus(stored)), estimates, stored.retriedBy);
  const lastRetry = new Map<string, string>();
  for (const retry of stored.retriedBy) for (const path of retry.paths) lastRetry.set(path, retry.id);
  const paths = [...stored.paths].map(([path, status]) =>
    pathView(path, status, stored.followOns?.get(path), lastRetry.get(path)),
  );
  return view(meta, paths, undefined, estimates, stored.retriedBy);
}

/** The status of a request still waiting in the intake queue: every path (or media id) queued. */
export function queuedRequestView(request: RefreshRequest, estimates?: QuotaEstimates): RequestView {
  const queued: PathStatus = { state: 'queued', updatedAt: request.receivedAt };
  if (request.media)
    return view(
      request,
      [],
      mediaViews(request, () => queued),
      estimates,
    );
  const paths = request.paths.map((path) => pathView(path, queued));
  return view(request, paths, undefined, estimates);
}

/**
 * A request's entry in GET /v1/refreshes: its state and counts, without its paths. The listing
 * reads no follow-on preloads: a `then: "preload"` request is counted by its refreshes there.
 */
export function requestSummaryView(stored: StoredRequest): RequestSummaryView {
  const { meta } = stored;
  const counted = meta.media
    ? mediaViews(meta, storedStatus(stored)).map((entry) => entry.state)
    : [...stored.paths.values()].map((status) => status.state);
  const rest = [...(stored.followOns?.values() ?? [])].map((status) => status.state);
  return summary(meta, counted, rest, stored.retriedBy);
}

/** The answer of GET /v1/paths: a path now, its last submission and end, and who asked for it. */
export interface PathLookupView {
  path: string;
  objectType: string;
  /** Its state on the newest request that asked for it (what happens to it next). */
  state: PathState;
  /** That newest request. */
  requestId?: string;
  coveredBy?: string;
  taskId?: string;
  lastSubmission: {
    at: string;
    requestId: string;
    taskId?: string;
    upstreamRequestId?: string;
    coveredBy?: string;
  } | null;
  lastCompletion: {
    state: 'complete' | 'failed' | 'rejected';
    at: string;
    requestId: string;
    taskId?: string;
    error?: { code: string; message: string };
    coveredBy?: string;
  } | null;
  requests: { id: string; receivedAt: string; state: PathState }[];
}

export function pathLookupView(history: PathHistory): PathLookupView {
  const newest = history.requests[0];
  const { lastSubmission: sent, lastCompletion: ended } = history;
  // Without a kept request, the latest thing remembered: its end if it came after its submission.
  const fallback: PathState = ended && (!sent || ended.at >= sent.at) ? ended.state : 'submitted';
  const status = newest?.status;
  return {
    path: history.path,
    objectType: history.objectType,
    state: status?.state ?? fallback,
    ...(newest ? { requestId: newest.id } : {}),
    ...(status?.coveredBy ? { coveredBy: status.coveredBy } : {}),
    ...(status?.taskId ? { taskId: status.taskId } : {}),
    lastSubmission: sent
      ? {
          at: iso(sent.at),
          requestId: sent.requestId,
          ...(sent.taskId ? { taskId: sent.taskId } : {}),
          ...(sent.upstreamRequestId ? { upstreamRequestId: sent.upstreamRequestId } : {}),
          ...(sent.coveredBy ? { coveredBy: sent.coveredBy } : {}),
        }
      : null,
    lastCompletion: ended
      ? {
          state: ended.state,
          at: iso(ended.at),
          requestId: ended.requestId,
          ...(ended.taskId ? { taskId: ended.taskId } : {}),
          ...(ended.error ? { error: ended.error } : {}),
          ...(ended.coveredBy ? { coveredBy: ended.coveredBy } : {}),
        }
      : null,
    requests: history.requests.map((request) => ({
      id: request.id,
      receivedAt: iso(request.receivedAt),
      state: request.status.state,
    })),
  };
}
