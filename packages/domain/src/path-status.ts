export const PATH_STATES = [
  'queued',
  'submitted',
  'refreshing',
  'complete',
  'failed',
  'rejected',
  'unconfirmed',
  'cancelled',
] as const;
export type PathState = (typeof PATH_STATES)[number];

/** States a path does not leave: its outcome is recorded (or it was cancelled while queued). */
export const ENDED_PATH_STATES: ReadonlySet<PathState> = new Set([
  'complete',
  'failed',
  'rejected',
  'cancelled',
]);

/** States `POST /v1/refreshes/:id/retry` queues again. */
export const RETRYABLE_PATH_STATES: ReadonlySet<PathState> = new Set(['failed', 'rejected']);

export interface PathError {
  code: string;
  message: string;
}

/** What refreshq knows of one path of one request. */
export interface PathStatus {
  state: PathState;
  taskId?: string;
  /** The upstream's RequestId of the call that submitted (or refused) the path. */
  upstreamRequestId?: string;
  error?: PathError;
  /** Epoch ms of the last change. */
  updatedAt: number;
  submittedAt?: number;
  /** When its task was seen ended upstream (Complete or Failed). */
  completedAt?: number;
  /** The directory whose refresh covers this path (it was not submitted on its own). */
  coveredBy?: string;
  /** Why a directory nobody asked for covers it: the promotion's reason (docs/scarcity.md). */
  coverReason?: string;
}

export type RequestState =
  | 'queued'
  | 'in_progress'
  | 'submitted'
  | 'complete'
  | 'failed'
  | 'partially_failed'
  | 'unconfirmed'
  | 'cancelled';

/**
 * Final path states: nothing changes them any more, except that a late answer of the upstream
 * may still turn `unconfirmed` into `complete` or `failed`. `unconfirmed`: the upstream accepted
 * the path, but no end of its task was seen by the task deadline (TASK_DEADLINE_MS) or within
 * the upstream's 3-day look-up window.
 */
export const FINAL_PATH_STATES: ReadonlySet<PathState> = new Set([
  'complete',
  'failed',
  'rejected',
  'unconfirmed',
]);

export const REQUEST_STATES: readonly RequestState[] = [
  'queued',
  'in_progress',
  'submitted',
  'complete',
  'failed',
  'partially_failed',
  'unconfirmed',
  'cancelled',
];

const WAITING: ReadonlySet<PathState> = new Set(['queued']);
const UNSUCCESSFUL: ReadonlySet<PathState> = new Set(['failed', 'rejected']);

/**
 * A request's state follows from its paths': `queued` while none has left the queue,
 * `in_progress` while some have, `submitted` once all were accepted upstream, `complete` when
 * every task completed, `failed` when none succeeded, `partially_failed` when only some did,
 * and `unconfirmed` when every path ended, none unsuccessfully, but some task's end was never seen.
 * Cancelled paths do not count, unless every path was cancelled: then it is `cancelled`.
 */
export function requestState(all: readonly PathState[]): RequestState {
  const states = all.filter((state) => state !== 'cancelled');
  if (states.length === 0) return all.length > 0 ? 'cancelled' : 'queued';
  const waiting = states.filter((state) => WAITING.has(state)).length;
  if (waiting === states.length) return 'queued';
  if (waiting > 0) return 'in_progress';
  const unsuccessful = states.filter((state) => UNSUCCESSFUL.has(state)).length;
  if (unsuccessful === states.length) return 'failed';
  if (unsuccessful > 0) {
    const stillRunning = states.some((state) => state === 'submitted' || state === 'refreshing');
    return stillRunning ? 'in_progress' : 'partially_failed';
  }
  if (states.every((state) => state === 'complete')) return 'complete';
  return states.every((state) => FINAL_PATH_STATES.has(state)) ? 'unconfirmed' : 'submitted';
}
