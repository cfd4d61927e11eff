import {
  PATH_STATES,
  requestState,
  type PathState,
  type PathStatus,
  type RefreshRequest,
  type RequestState,
} from '@refreshq/domain';
import type { QuotaEstimates } from './quota-estimates.js';
import type { PathHistory } from './request-index.js';
import type { RequestMeta, Retry, StoredRequest } from './request-record.js';

export interface PathView {
  path: string;
  state: PathState;
  taskId?: string;
  /** The upstream's RequestId of the call that submitted or refused the path. */
  upstreamRequestId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  completedAt?: string;
  coveredBy?: string;
  /** The latest request that retried this path (POST /v1/refreshes/:id/retry). */
  retriedBy?: string;
  updatedAt: string;
}

/** A request without its paths: an entry of GET /v1/refreshes. */
export interface RequestSummaryView {
  id: string;
  state: RequestState;
  objectType: string;
  priority: string;
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
  paths: PathView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

function pathView(path: string, status: PathStatus, retriedBy?: string): PathView {
  return {
    path,
    state: status.state,
    ...(status.taskId ? { taskId: status.taskId } : {}),
    ...(status.upstreamRequestId ? { upstreamRequestId: status.upstreamRequestId } : {}),
    ...(status.error ? { error: status.error } : {}),
    ...(status.submittedAt ? { submittedAt: iso(status.submittedAt) } : {}),
    ...(status.completedAt ? { completedAt: iso(status.completedAt) } : {}),
    ...(status.coveredBy ? { coveredBy: status.coveredBy } : {}),
    ...(retriedBy ? { retriedBy } : {}),
    updatedAt: iso(status.updatedAt),
  };
}

type RequestHead = Pick<RefreshRequest, 'id' | 'objectType' | 'priority' | 'receivedAt'> &
  Pick<RequestMeta, 'retryOf'>;

function summary(
  request: RequestHead,
  states: readonly PathState[],
  retries: Retry[] = [],
): RequestSummaryView {
  const retriedBy = retries.map((retry) => retry.id);
  const counts = Object.fromEntries(PATH_STATES.map((state) => [state, 0])) as Record<PathState, number>;
  for (const state of states) counts[state] += 1;
  return {
    id: request.id,
    state: requestState(states),
    objectType: request.objectType,
    priority: request.priority,
    receivedAt: iso(request.receivedAt),
    counts,
    ...(request.retryOf ? { retryOf: request.retryOf } : {}),
    ...(retriedBy.length > 0 ? { retriedBy } : {}),
  };
}

function view(
  request: RequestHead,
  paths: PathView[],
  estimates?: QuotaEstimates,
  retries: Retry[] = [],
): RequestView {
  const result: RequestView = {
    ...summary(
      request,
      paths.map((path) => path.state),
      retries,
    ),
    paths,
  };
  const lane = estimates?.byType[request.objectType]?.[request.priority];
  if (result.counts.queued > 0 && lane)
    result.estimatedSubmitAt = lane.estimatedSubmitAt === null ? null : iso(lane.estimatedSubmitAt);
  return result;
}

/** The status of a request the workers have admitted. */
export function storedRequestView(stored: StoredRequest, estimates?: QuotaEstimates): RequestView {
  const lastRetry = new Map<string, string>();
  for (const retry of stored.retriedBy) for (const path of retry.paths) lastRetry.set(path, retry.id);
  const paths = [...stored.paths].map(([path, status]) => pathView(path, status, lastRetry.get(path)));
  return view(stored.meta, paths, estimates, stored.retriedBy);
}

/** The status of a request still waiting in the intake queue: every path queued. */
export function queuedRequestView(request: RefreshRequest, estimates?: QuotaEstimates): RequestView {
  const paths = request.paths.map((path) =>
    pathView(path, { state: 'queued', updatedAt: request.receivedAt }),
  );
  return view(request, paths, estimates);
}

/** A request's entry in GET /v1/refreshes: its state and counts, without its paths. */
export function requestSummaryView(stored: StoredRequest): RequestSummaryView {
  return summary(
    stored.meta,
    [...stored.paths.values()].map((status) => status.state),
    stored.retriedBy,
  );
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
