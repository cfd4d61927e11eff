import {
  PATH_STATES,
  requestState,
  type PathState,
  type PathStatus,
  type RefreshRequest,
} from '@refreshq/domain';
import type { QuotaEstimates } from './quota-estimates.js';
import type { StoredRequest } from './request-store.js';

export interface PathView {
  path: string;
  state: PathState;
  taskId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  completedAt?: string;
  coveredBy?: string;
  coverReason?: string;
  updatedAt: string;
}

/** The public JSON of a request: GET /v1/refreshes/:id, and the body of its completion callback. */
export interface RequestView {
  id: string;
  state: ReturnType<typeof requestState>;
  /** For a request with queued paths: when they should be submitted at the current budgets (ISO), or null if no budget is left. */
  estimatedSubmitAt?: string | null;
  /** True while the request's type is under pressure: today cannot grant all that is pending (docs/scarcity.md). */
  pressure?: boolean;
  objectType: string;
  priority: string;
  receivedAt: string;
  counts: Record<PathState, number>;
  paths: PathView[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

function pathView(path: string, status: PathStatus): PathView {
  return {
    path,
    state: status.state,
    ...(status.taskId ? { taskId: status.taskId } : {}),
    ...(status.error ? { error: status.error } : {}),
    ...(status.submittedAt ? { submittedAt: iso(status.submittedAt) } : {}),
    ...(status.completedAt ? { completedAt: iso(status.completedAt) } : {}),
    ...(status.coveredBy ? { coveredBy: status.coveredBy } : {}),
    ...(status.coverReason ? { coverReason: status.coverReason } : {}),
    updatedAt: iso(status.updatedAt),
  };
}

function view(
  request: Pick<RefreshRequest, 'id' | 'objectType' | 'priority' | 'receivedAt'>,
  paths: PathView[],
  estimates?: QuotaEstimates,
): RequestView {
  const counts = Object.fromEntries(PATH_STATES.map((state) => [state, 0])) as Record<PathState, number>;
  for (const path of paths) counts[path.state] += 1;
  const result: RequestView = {
    id: request.id,
    state: requestState(paths.map((path) => path.state)),
    objectType: request.objectType,
    priority: request.priority,
    receivedAt: iso(request.receivedAt),
    counts,
    paths,
  };
  const lane = estimates?.byType[request.objectType]?.[request.priority];
  if (counts.queued > 0 && lane)
    result.estimatedSubmitAt = lane.estimatedSubmitAt === null ? null : iso(lane.estimatedSubmitAt);
  const pressure = estimates?.pressure?.[request.objectType];
  if (pressure !== undefined) result.pressure = pressure;
  return result;
}

/** The status of a request the workers have admitted. */
export function storedRequestView(stored: StoredRequest, estimates?: QuotaEstimates): RequestView {
  const paths = [...stored.paths].map(([path, status]) => pathView(path, status));
  return view(stored.meta, paths, estimates);
}

/** The status of a request still waiting in the intake queue: every path queued. */
export function queuedRequestView(request: RefreshRequest, estimates?: QuotaEstimates): RequestView {
  const paths = request.paths.map((path) =>
    pathView(path, { state: 'queued', updatedAt: request.receivedAt }),
  );
  return view(request, paths, estimates);
}
