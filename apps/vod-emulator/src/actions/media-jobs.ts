import { formatAliTime } from '../calendar.js';
import { ApiError, missingParameter } from '../errors.js';
import type { ActionContext, ActionResult } from './types.js';

/** GetMediaRefreshJobs: per media of a job, Processing until its play URLs are submitted, then the outcome. */
export function getMediaRefreshJobs({ state, call }: ActionContext): ActionResult {
  const p = call.params;
  if (p.MediaRefreshJobId === undefined) throw missingParameter('MediaRefreshJobId');
  const job = state.media.job(p.MediaRefreshJobId);
  if (!job) throw new ApiError('InvalidMediaRefreshJobId.NotFound');
  const now = state.clock.now();
  const submitted = now >= job.createdAtMs + state.timing.mediaSubmitMs;
  const gmtModified = formatAliTime(
    submitted ? job.createdAtMs + state.timing.mediaSubmitMs : job.createdAtMs,
  );
  return {
    body: {
      MediaRefreshJobs: job.entries
        .filter((entry) => p.MediaId === undefined || entry.mediaId === p.MediaId)
        .map((entry) => ({
          MediaRefreshJobId: job.mediaRefreshJobId,
          MediaId: entry.mediaId,
          TaskType: job.taskType,
          Status: submitted ? entry.status : 'Processing',
          SuccessPlayUrls: submitted ? entry.playUrls.join(',') : '',
          TaskIds: submitted ? entry.taskIds.join(',') : '',
          ErrorCode: submitted ? (entry.errorCode ?? '') : '',
          ErrorMessage: submitted ? (entry.errorMessage ?? '') : '',
          FilterPolicy: job.filterPolicy,
          UserData: job.userData ?? '',
          GmtCreate: formatAliTime(job.createdAtMs),
          GmtModified: gmtModified,
        })),
    },
  };
}
