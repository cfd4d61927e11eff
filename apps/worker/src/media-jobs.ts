import {
  applyJobReport,
  applyTaskRows,
  type Clock,
  initialMediaProgress,
  type MediaProgress,
  mediaIdOfItem,
  mediaJobFate,
  mediaState,
  type QuotaHold,
  type ReactionSettings,
  unitsPerItem,
  workKind,
} from '@refreshq/domain';
import {
  MEDIA_JOB_PREFIX,
  type MediaItemStatus,
  type QuotaGovernor,
  type TaskStore,
  type TrackedTask,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { VodClient } from '@refreshq/vod-client';
import type { WorkerMetrics } from './worker-metrics.js';

export interface MediaJobSettings extends ReactionSettings {
  /** GetMediaRefreshJobs calls per second, shared by all workers (Alibaba: 50 per account). */
  jobCallsPerSecond: number;
  /** DescribeVodRefreshTasks calls per second, shared with the task tracker. */
  describeCallsPerSecond: number;
  maxPollMs: number;
  /** Quota units each media id was granted (MEDIA_PLAY_URLS_PER_ID). */
  mediaPlayUrlsPerId: number;
  /** The pool's coalescing window, for media put back. */
  windowMs: number;
}

/** The upstream keeps tasks (and, we assume, jobs) for 3 days; past that nothing more can be learnt. */
const LOOKUP_LIMIT_MS = 3 * 24 * 3600 * 1000;

/**
 * Follows a media refresh job to its end: GetMediaRefreshJobs until each media's play URLs are
 * submitted (or the job failed for it), then DescribeVodRefreshTasks for the task of each play
 * URL. Each look is recorded on every request of the job; the quota governor is told what the
 * media really cost (the grant reserved an estimate), and a media whose job failed for quota goes
 * back to the pool with the hold the code asks for. The task tracker hands it the jobs it claims.
 */
export class MediaJobFollower {
  constructor(
    private readonly vod: VodClient,
    private readonly tasks: TaskStore,
    private readonly governor: QuotaGovernor,
    private readonly clock: Clock,
    private readonly settings: MediaJobSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  async follow(task: TrackedTask): Promise<void> {
    const age = this.clock.now() - task.submittedAt;
    const record = await this.tasks.mediaJob(task.taskId);
    const ids = [...new Set(record.entries.map((entry) => mediaIdOfItem(entry.path)))];
    const progress: Record<string, MediaProgress> = { ...record.progress };
    for (const id of ids) progress[id] ??= initialMediaProgress();
    const look = { progress, statuses: new Map<string, MediaItemStatus>(), requeues: new Map(), windowMs: 0 };
    if (age > LOOKUP_LIMIT_MS || ids.length === 0) {
      await this.tasks.recordMediaJob(task.taskId, { ...look, ended: true, nextPollMs: 0 });
      if (ids.length > 0)
        this.logger.warn({ taskId: task.taskId }, 'media job older than 3 days; no longer followed');
      return;
    }
    try {
      await this.look(task, ids, progress);
    } catch (error) {
      this.logger.warn(
        { err: error, taskId: task.taskId },
        'following a media job failed; it is looked at again later',
      );
      return;
    }

    const kind = workKind(task.objectType);
    const reserved = unitsPerItem(task.objectType, this.settings.mediaPlayUrlsPerId);
    const statuses = new Map<string, MediaItemStatus>();
    const requeues = new Map<string, { delayMs: number }>();
    const holds: QuotaHold[] = [];
    let delta = 0;
    for (const id of ids) {
      const media = progress[id] as MediaProgress;
      if (media.status !== 'processing' && !media.charged) {
        // What the media really cost: its play URLs (none when the job failed for it).
        delta += media.urls.length - reserved;
        progress[id] = { ...media, charged: true };
        this.metrics.mediaJobs.inc({ object_type: task.objectType, status: media.status });
        this.metrics.playUrlsSubmitted.inc({ object_type: task.objectType }, media.urls.length);
      }
      if (media.status === 'fail') {
        const fate = mediaJobFate(media.errorCode, this.settings);
        if (fate.kind === 'requeue') {
          requeues.set(id, { delayMs: fate.delayMs });
          if (fate.hold) holds.push(fate.hold);
          continue;
        }
        statuses.set(id, {
          state: 'failed',
          playUrls: [],
          error: { code: fate.code, message: media.errorMessage ?? 'the media refresh job failed upstream' },
        });
        continue;
      }
      if (media.status === 'processing') continue;
      const { state, error } = mediaState(media);
      statuses.set(id, { state, playUrls: media.urls, ...(error ? { error } : {}) });
    }
    const ended = ids.every((id) => {
      const state = statuses.get(id)?.state;
      return requeues.has(id) || state === 'complete' || state === 'failed';
    });
    // Charged before it is recorded: a worker dying in between charges twice at worst, never too little.
    if (delta !== 0) await this.governor.adjust(task.objectType, delta);
    for (const hold of holds) await this.governor.hold(task.objectType, hold);
    if (requeues.size > 0)
      this.logger.warn(
        { taskId: task.taskId, media: [...requeues.keys()], code: holds[0]?.reason, budget: kind.budget },
        'media job failed for quota: the media go back to the pool',
      );
    await this.tasks.recordMediaJob(task.taskId, {
      progress,
      statuses,
      requeues,
      ended,
      nextPollMs: Math.min(this.settings.maxPollMs, Math.max(2000, Math.round(age / 2))),
      windowMs: this.settings.windowMs,
    });
  }

  /** One look at the upstream: the job while any media is still submitting, then each open task. */
  private async look(
    task: TrackedTask,
    ids: string[],
    progress: Record<string, MediaProgress>,
  ): Promise<void> {
    if (ids.some((id) => progress[id]?.status === 'processing')) {
      await this.callToken('media-jobs', this.settings.jobCallsPerSecond);
      const reports = await this.vod.getMediaRefreshJobs(task.taskId.slice(MEDIA_JOB_PREFIX.length));
      for (const report of reports) {
        const media = progress[report.mediaId];
        if (media) progress[report.mediaId] = applyJobReport(media, report);
      }
    }
    const objectType = workKind(task.objectType).taskObjectType;
    for (const id of ids) {
      for (const taskId of progress[id]?.openTasks ?? []) {
        await this.callToken('describe', this.settings.describeCallsPerSecond);
        const page = await this.vod.describeRefreshTasks({ taskId, objectType, pageSize: 50 });
        const rows = page.tasks.filter((row) => row.taskId === taskId || row.taskId === '');
        progress[id] = applyTaskRows(progress[id] as MediaProgress, taskId, rows);
      }
    }
  }

  private async callToken(scope: string, callsPerSecond: number): Promise<void> {
    for (;;) {
      const wait = await this.tasks.takeCall(scope, callsPerSecond);
      if (wait === 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
