export const OBJECT_TYPES = ['File', 'Directory'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** What one accepted request asked for, as the intake queue carries it. */
export interface RefreshRequest {
  id: string;
  objectType: ObjectType;
  priority: Priority;
  /** Normalised, distinct paths. */
  paths: string[];
  receivedAt: number;
  /** Where to POST the request's result once every path has ended. */
  callbackUrl?: string;
}
