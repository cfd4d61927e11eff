import {
  mediaItemKey,
  PATH_STATES,
  type PathState,
  type PathStatus,
  type RefreshRequest,
  requestState,
  workTypeOf,
} from '@refreshq/domain';
import type { QuotaEstimates } from './quota-estimates.js';
import type { RequestMeta, StoredRequest } from './request-store.js';
import { MEDIA_JOB_PREFIX } from './task-store.js';

/** What refreshq knows of one step of a path's work (a refresh, or its follow-on preload). */
interface StepView {
  state: PathState;
  taskId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  completedAt?: string;
  updatedAt: string;
}

export interface PathView extends StepView {
  path: string;
  coveredBy?: string;
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

/** The public JSON of a request: GET /v1/refreshes/:id, and the body of its completion callback. */
export interface RequestView {
  id: string;
  state: ReturnType<typeof requestState>;
  /** For a request with queued paths: when they should be submitted at the current budgets (ISO), or null if no budget is left. */
  estimatedSubmitAt?: string | null;
  /** True while the request's type is under pressure: today cannot grant all that is pending (docs/scarcity.md). */
  pressure?: boolean;
  /** Absent for a request by media ids. */
  objectType?: string;
  priority: string;
  /** `refresh` or `preload`. */
  action: string;
  force?: boolean;
  then?: string;
  receivedAt: string;
  counts: Record<PathState, number>;
  paths: PathView[];
  /** A request by media ids: one entry per id (`paths` is then empty). */
  media?: MediaView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

function stepView(status: PathStatus): StepView {
  return {
    state: status.state,
    ...(status.taskId ? { taskId: status.taskId } : {}),
    ...(status.error ? { error: status.error } : {}),
    ...(status.submittedAt ? { submittedAt: iso(status.submittedAt) } : {}),
    ...(status.completedAt ? { completedAt: iso(status.completedAt) } : {}),
    updatedAt: iso(status.updatedAt),
  };
}

function pathView(path: string, status: PathStatus, followOn?: PathStatus): PathView {
  const { updatedAt, ...step } = stepView(status);
  return {
    path,
    ...step,
    ...(status.coveredBy ? { coveredBy: status.coveredBy } : {}),
    ...(status.coverReason ? { coverReason: status.coverReason } : {}),
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
  'id' | 'objectType' | 'priority' | 'receivedAt' | 'action' | 'force' | 'then' | 'media'
>;

function view(
  request: ViewedRequest,
  paths: PathView[],
  media: MediaView[] | undefined,
  estimates?: QuotaEstimates,
): RequestView {
  const counts = Object.fromEntries(PATH_STATES.map((state) => [state, 0])) as Record<PathState, number>;
  // A follow-on preload is the rest of its path's work: the request ends when it does.
  const states = [
    ...paths.flatMap((path) => (path.preload ? [path.state, path.preload.state] : [path.state])),
    ...(media ?? []).map((entry) => entry.state),
  ];
  for (const entry of [...paths, ...(media ?? [])]) counts[entry.state] += 1;
  const result: RequestView = {
    id: request.id,
    state: requestState(states),
    ...(request.media ? {} : { objectType: request.objectType }),
    priority: request.priority,
    action: request.action ?? 'refresh',
    ...(request.force ? { force: true } : {}),
    // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
    ...(request.then ? { then: request.then } : {}),
    receivedAt: iso(request.receivedAt),
    counts,
    paths,
    ...(media ? { media } : {}),
  };
  const lane = estimates?.byType[workTypeOf(request)]?.[request.priority];
  if (counts.queued > 0 && lane)
    result.estimatedSubmitAt = lane.estimatedSubmitAt === null ? null : iso(lane.estimatedSubmitAt);
  const pressure = estimates?.pressure?.[request.objectType];
  if (pressure !== undefined) result.pressure = pressure;
  return result;
}

function mediaViews(meta: Pick<RequestMeta, 'media'>, status: (key: string) => MediaStatus): MediaView[] {
  const { ids, options } = meta.media ?? { ids: [], options: { taskType: 'Refresh' } };
  return ids.map((id) => mediaView(id, status(mediaItemKey(id, options))));
}

/** The status of a request the workers have admitted. */
export function storedRequestView(stored: StoredRequest, estimates?: QuotaEstimates): RequestView {
  const { meta } = stored;
  if (meta.media) {
    const status = (key: string): MediaStatus =>
      stored.paths.get(key) ?? { state: 'queued', updatedAt: meta.receivedAt };
    return view(meta, [], mediaViews(meta, status), estimates);
  }
  const paths = [...stored.paths].map(([path, status]) =>
    pathView(path, status, stored.followOns?.get(path)),
  );
  return view(meta, paths, undefined, estimates);
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
