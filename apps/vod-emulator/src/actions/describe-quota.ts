import { remaining } from '../quota.js';
import type { ActionContext, ActionResult } from './types.js';

/** DescribeVodRefreshQuota: every value a string; note the lower-case `blockRemain`. */
export function describeVodRefreshQuota({ state }: ActionContext): ActionResult {
  const { limits } = state;
  const left = remaining(limits, state.usage);
  return {
    body: {
      UrlQuota: String(limits.urlsPerDay),
      UrlRemain: String(left.urlsToday),
      DirQuota: String(limits.dirsPerDay),
      DirRemain: String(left.dirsToday),
      PreloadQuota: String(limits.preloadPerDay),
      PreloadRemain: String(left.preloadsToday),
      BlockQuota: String(limits.blockPerDay),
      blockRemain: String(limits.blockPerDay),
    },
  };
}
