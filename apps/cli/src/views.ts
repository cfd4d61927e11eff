/** The API answers the CLI reads (the OpenAPI document at /openapi.json describes them all). */

export type Counts = Record<string, number>;

export interface PathStatus {
  path: string;
  state: string;
  taskId?: string;
  upstreamRequestId?: string;
  error?: { code: string; message: string };
  coveredBy?: string;
  submittedAt?: string;
  completedAt?: string;
}

export interface RequestStatus {
  id: string;
  state: string;
  objectType: string;
  priority: string;
  receivedAt: string;
  counts: Counts;
  paths: PathStatus[];
  estimatedSubmitAt?: string | null;
  paused?: boolean;
  retryOf?: string;
  retriedBy?: string[];
}

export interface Accepted {
  id: string;
  accepted: number;
  duplicates: number;
  replayed: boolean;
  retryOf?: string;
  paths?: string[];
}

/** The request states in which every path has ended. */
export const ENDED_REQUEST_STATES = new Set([
  'complete',
  'failed',
  'partially_failed',
  'unconfirmed',
  'cancelled',
]);
