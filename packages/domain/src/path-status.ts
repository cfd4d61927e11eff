export const PATH_STATES = ['queued', 'submitted', 'refreshing', 'complete', 'failed', 'rejected'] as const;
export type PathState = (typeof PATH_STATES)[number];

export interface PathError {
  code: string;
  message: string;
}

/** What refreshq knows of one path of one request. */
export interface PathStatus {
  state: PathState;
  taskId?: string;
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
  | 'partially_failed';

const WAITING: ReadonlySet<PathState> = new Set(['queued']);
const UNSUCCESSFUL: ReadonlySet<PathState> = new Set(['failed', 'rejected']);

/**
 * A request's state follows from its paths': `queued` while none has left the queue,
 * `in_progress` while some have, `submitted` once all were accepted upstream, `complete` when
 * every task completed, `failed` when none succeeded, `partially_failed` when only some did.
 */
export function requestState(states: readonly PathState[]): RequestState {
  if (states.length === 0) return 'queued';
  const waiting = states.filter((state) => WAITING.has(state)).length;
  if (waiting === states.length) return 'queued';
  if (waiting > 0) return 'in_progress';
  const unsuccessful = states.filter((state) => UNSUCCESSFUL.has(state)).length;
  if (unsuccessful === states.length) return 'failed';
  if (unsuccessful > 0) {
    const stillRunning = states.some((state) => state === 'submitted' || state === 'refreshing');
    return stillRunning ? 'in_progress' : 'partially_failed';
  }
  return states.every((state) => state === 'complete') ? 'complete' : 'submitted';
}
