import type { MediaOptions, WorkAction } from './work-kinds.js';

export const OBJECT_TYPES = ['File', 'Directory'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** Lanes, highest first: a higher lane is claimed before any lower one. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

const LANE_RANK: Record<Priority, number> = { high: 3, normal: 2, low: 1 };

/** The higher of two lanes (a path asked for in both goes in the higher). */
export const higherLane = (a: Priority, b: Priority): Priority => (LANE_RANK[a] >= LANE_RANK[b] ? a : b);

/** The lanes claimed before or with `lane`: its own and every higher one. */
export const lanesAtOrAbove = (lane: Priority): Priority[] =>
  PRIORITIES.filter((other) => LANE_RANK[other] >= LANE_RANK[lane]);

/** What one accepted request asked for, as the intake queue carries it. */
export interface RefreshRequest {
  id: string;
  objectType: ObjectType;
  priority: Priority;
  /** Normalised, distinct paths. */
  paths: string[];
  receivedAt: number;
  /** The domain of each path, as intake computed it while checking (same order as paths). */
  domains?: string[];
  /** Where to POST the request's result once every path has ended. */
  callbackUrl?: string;
  /** The request whose failed and rejected paths this one queues again. */
  retryOf?: string;
  /** `refresh` (the default) or `preload` (PreloadVodObjectCaches, or media TaskType=Preload). */
  action?: WorkAction;
  /** RefreshVodObjectCaches' Force: fetch everything again instead of revalidating. */
  force?: boolean;
  /** Prefetch each file once its refresh task completes (follow-on preloads, preload quota). */
  then?: 'preload';
  /** A request by media ids (RefreshMediaPlayUrls): `paths` is empty, these are its items. */
  media?: { ids: string[]; options: MediaOptions };
  /** Set on a follow-on preload: the `then: "preload"` request it continues. */
  parent?: string;
}
