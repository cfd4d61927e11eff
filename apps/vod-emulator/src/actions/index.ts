import type { QuotaLimits } from '../quota.js';
import { describeVodRefreshQuota } from './describe-quota.js';
import { describeVodRefreshTasks } from './describe-tasks.js';
import { getMediaRefreshJobs } from './media-jobs.js';
import { refreshMediaPlayUrls } from './media-refresh.js';
import { preloadVodObjectCaches } from './preload.js';
import { refreshVodObjectCaches } from './refresh.js';
import type { ActionHandler } from './types.js';

export interface ActionSpec {
  handler: ActionHandler;
  /** Calls-per-second limit that applies (counted per action). */
  rateLimit: (limits: QuotaLimits) => number | null;
}

/** The actions the emulator serves; any other Action is InvalidAction.NotFound. */
export const ACTIONS: Readonly<Record<string, ActionSpec>> = {
  RefreshVodObjectCaches: { handler: refreshVodObjectCaches, rateLimit: (l) => l.callsPerSecond },
  DescribeVodRefreshTasks: { handler: describeVodRefreshTasks, rateLimit: (l) => l.describeCallsPerSecond },
  DescribeVodRefreshQuota: { handler: describeVodRefreshQuota, rateLimit: (l) => l.describeCallsPerSecond },
  PreloadVodObjectCaches: { handler: preloadVodObjectCaches, rateLimit: (l) => l.preloadCallsPerSecond },
  RefreshMediaPlayUrls: { handler: refreshMediaPlayUrls, rateLimit: (l) => l.mediaCallsPerSecond },
  GetMediaRefreshJobs: { handler: getMediaRefreshJobs, rateLimit: (l) => l.mediaJobCallsPerSecond },
};

export const ACTION_NAMES: ReadonlySet<string> = new Set(Object.keys(ACTIONS));

export type { ActionContext, ActionHandler, ActionResult } from './types.js';
