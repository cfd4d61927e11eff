import type { PathError, PathState } from './path-status.js';

/**
 * Where a media refresh job stands, per media, as refreshq follows it: GetMediaRefreshJobs until
 * its play URLs are submitted (Status success or fail), then DescribeVodRefreshTasks for the task
 * of each play URL (one URL per task). Plain data, changed by pure functions; the follower in the
 * worker makes the calls and the store keeps the progress with the job.
 */

export type PlayUrlState = 'submitted' | 'refreshing' | 'complete' | 'failed';

export interface PlayUrlProgress {
  url: string;
  taskId?: string;
  state: PlayUrlState;
  /** The upstream's description of a failed task. */
  description?: string;
}

export interface MediaProgress {
  /** GetMediaRefreshJobs' Status: `success` and `fail` are final; anything else: still submitting. */
  status: 'processing' | 'success' | 'fail';
  errorCode?: string;
  errorMessage?: string;
  urls: PlayUrlProgress[];
  /** Task ids not yet seen ended. */
  openTasks: string[];
  /** Whether the quota governor has been told how many play URLs the media really cost. */
  charged?: boolean;
}

/** One media of a GetMediaRefreshJobs answer. */
export interface MediaJobReport {
  mediaId: string;
  status: string;
  successPlayUrls: string[];
  taskIds: string[];
  errorCode?: string;
  errorMessage?: string;
}

export const initialMediaProgress = (): MediaProgress => ({ status: 'processing', urls: [], openTasks: [] });

/** Folds in what GetMediaRefreshJobs said of one media; a media already final is left as it is. */
export function applyJobReport(progress: MediaProgress, report: MediaJobReport): MediaProgress {
  if (progress.status !== 'processing') return progress;
  const status = report.status.toLowerCase();
  if (status === 'fail' || status === 'failed') {
    return {
      ...progress,
      status: 'fail',
      ...(report.errorCode ? { errorCode: report.errorCode } : {}),
      ...(report.errorMessage ? { errorMessage: report.errorMessage } : {}),
    };
  }
  if (status !== 'success') return progress;
  // One task per URL: in the same order when the counts agree; otherwise tasks are matched to
  // URLs by the ObjectPath DescribeVodRefreshTasks lists for them.
  const paired = report.taskIds.length === report.successPlayUrls.length;
  return {
    ...progress,
    status: 'success',
    urls: report.successPlayUrls.map((url, index) => ({
      url,
      state: 'submitted',
      ...(paired && report.taskIds[index] ? { taskId: report.taskIds[index] } : {}),
    })),
    openTasks: [...new Set(report.taskIds.filter((id) => id !== ''))],
  };
}

/** A task row of DescribeVodRefreshTasks, as much as following needs. */
export interface TaskRow {
  objectPath: string;
  status: string;
  description?: string;
}

const urlState = (status: string): PlayUrlState =>
  status === 'Complete' ? 'complete' : status === 'Failed' ? 'failed' : 'refreshing';

/** Folds in the rows DescribeVodRefreshTasks listed for one task id of the media. */
export function applyTaskRows(
  progress: MediaProgress,
  taskId: string,
  rows: readonly TaskRow[],
): MediaProgress {
  if (!progress.openTasks.includes(taskId) || rows.length === 0) return progress;
  const urls = progress.urls.map((entry) => {
    const row = rows.find((candidate) => candidate.objectPath === entry.url);
    if (!row && entry.taskId !== taskId) return entry;
    const seen = row ?? rows[0];
    if (!seen) return entry;
    const state = urlState(seen.status);
    return {
      ...entry,
      taskId,
      state,
      ...(state === 'failed' && seen.description ? { description: seen.description } : {}),
    };
  });
  const ended = rows.every((row) => row.status === 'Complete' || row.status === 'Failed');
  return {
    ...progress,
    urls,
    openTasks: ended ? progress.openTasks.filter((id) => id !== taskId) : progress.openTasks,
  };
}

/** A media's state for its status answer, from its progress (a failed job is decided elsewhere). */
export function mediaState(progress: MediaProgress): { state: PathState; error?: PathError } {
  if (progress.status === 'processing') return { state: 'submitted' };
  if (progress.status === 'fail')
    return {
      state: 'failed',
      error: {
        code: progress.errorCode ?? 'MediaRefreshJobFailed',
        message: progress.errorMessage ?? 'the media refresh job failed upstream',
      },
    };
  if (progress.urls.length === 0 && progress.openTasks.length === 0)
    return {
      state: 'failed',
      error: {
        code: 'NoPlayUrls',
        message: 'no play URL of this media matched the formats, definitions and stream types asked for',
      },
    };
  if (progress.openTasks.length > 0) return { state: 'refreshing' };
  const failed = progress.urls.find((entry) => entry.state === 'failed');
  if (failed) return { state: 'failed', error: { code: 'TaskFailed', message: failed.description ?? '' } };
  return { state: 'complete' };
}

export const mediaEnded = (progress: MediaProgress): boolean => {
  const { state } = mediaState(progress);
  return state === 'complete' || state === 'failed';
};
