import { PATH_STATES, requestState, type PathState, type PathStatus, type RefreshRequest } from '@refreshq/domain';
import type { StoredRequest } from '@refreshq/store';

export interface PathView {
  path: string;
  state: PathState;
  taskId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  coveredBy?: string;
  updatedAt: string;
}

export interface RequestView {
  id: string;
  state: ReturnType<typeof requestState>;
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
    ...(status.coveredBy ? { coveredBy: status.coveredBy } : {}),
    updatedAt: iso(status.updatedAt),
  };
}

function view(id: string, objectType: string, priority: string, receivedAt: number, paths: PathView[]): RequestView {
  const counts = Object.fromEntries(PATH_STATES.map((state) => [state, 0])) as Record<PathState, number>;
  for (const path of paths) counts[path.state] += 1;
  return { id, state: requestState(paths.map((path) => path.state)), objectType, priority, receivedAt: iso(receivedAt), counts, paths };
}

/** The status of a request the workers have admitted. */
export function storedRequestView(stored: StoredRequest): RequestView {
  const { meta } = stored;
  const paths = [...stored.paths].map(([path, status]) => pathView(path, status));
  return view(meta.id, meta.objectType, meta.priority, meta.receivedAt, paths);
}

/** The status of a request still waiting in the intake queue: every path queued. */
export function queuedRequestView(request: RefreshRequest): RequestView {
  const paths = request.paths.map((path) => pathView(path, { state: 'queued', updatedAt: request.receivedAt }));
  return view(request.id, request.objectType, request.priority, request.receivedAt, paths);
}
