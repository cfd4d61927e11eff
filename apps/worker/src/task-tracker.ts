import { type Clock, isMediaType, workKind } from '@refreshq/domain';
import type { TaskPathState, TaskStore, TrackedTask } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { RefreshTask, VodClient } from '@refreshq/vod-client';
import type { FollowOnPreloads } from './follow-on-preloads.js';
import type { MediaJobFollower } from './media-jobs.js';
import { Periodic } from './periodic.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** What the tracker hands on: media jobs to their follower, completed refreshes to the follow-on preloads. */
export interface TrackerHandlers {
  mediaJobs?: MediaJobFollower;
  followOns?: FollowOnPreloads;
}

export interface TrackerSettings {
  /** How often a worker looks for tasks due. */
  everyMs: number;
  /** Tasks claimed per look. */
  batch: number;
  leaseMs: number;
  /** DescribeVodRefreshTasks calls per second, shared by all workers. */
  callsPerSecond: number;
  maxPollMs: number;
}

/** The upstream keeps tasks for 3 days; past that nothing more can be learnt. */
const LOOKUP_LIMIT_MS = 3 * 24 * 3600 * 1000;
const PAGE_SIZE = 50;

function pathState(status: string): TaskPathState {
  if (status === 'Complete') return 'complete';
  if (status === 'Failed') return 'failed';
  return 'refreshing';
}

/**
 * Follows every submitted task with DescribeVodRefreshTasks until it is Complete or Failed,
 * polling sooner for young tasks and at most every `maxPollMs` for old ones. Preload tasks are
 * asked for with ObjectType=preload; media refresh jobs (tracked in the same schedule) go to the
 * media job follower.
 */
export class TaskTracker {
  private readonly loop: Periodic;
  private stopped = false;

  constructor(
    private readonly vod: VodClient,
    private readonly tasks: TaskStore,
    private readonly settings: TrackerSettings,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    private readonly handlers: TrackerHandlers = {},
  ) {
    this.loop = new Periodic(settings.everyMs, () => this.tick());
  }

  start(): void {
    this.stopped = false;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  async tick(): Promise<void> {
    try {
      const due = await this.tasks.claimDue(this.settings.batch, this.settings.leaseMs);
      for (const task of due) {
        if (this.stopped) return;
        await this.follow(task);
      }
      this.metrics.tasksTracked.set(await this.tasks.trackedCount());
    } catch (error) {
      this.logger.warn({ err: error }, 'task tracking step failed; tasks stay due');
    }
  }

  private async follow(task: TrackedTask): Promise<void> {
    if (isMediaType(task.objectType) && this.handlers.mediaJobs) {
      await this.handlers.mediaJobs.follow(task);
      return;
    }
    const now = this.clock.now();
    const age = now - task.submittedAt;
    if (age > LOOKUP_LIMIT_MS) {
      await this.tasks.record(task.taskId, new Map(), true, 0);
      this.logger.warn(
        { taskId: task.taskId },
        'task older than 3 days; no longer followed, its paths stay submitted',
      );
      return;
    }
    let listed: RefreshTask[];
    try {
      listed = await this.describe(task);
    } catch (error) {
      this.logger.warn(
        { err: error, taskId: task.taskId },
        'DescribeVodRefreshTasks failed; the task is looked at again later',
      );
      return;
    }
    const byPath = new Map<string, { state: TaskPathState; description?: string }>();
    for (const entry of listed)
      byPath.set(entry.objectPath, {
        state: pathState(entry.status),
        ...(entry.description ? { description: entry.description } : {}),
      });
    const ended = byPath.size > 0 && [...byPath.values()].every((seen) => seen.state !== 'refreshing');
    const nextPollMs = Math.min(this.settings.maxPollMs, Math.max(2000, Math.round(age / 2)));
    try {
      // Before the outcome is recorded, so a crash in between queues again (idempotently).
      await this.handlers.followOns?.queue(task, byPath);
    } catch (error) {
      this.logger.warn(
        { err: error, taskId: task.taskId },
        'queueing follow-on preloads failed; the task is looked at again later',
      );
      return;
    }
    await this.tasks.record(task.taskId, byPath, ended, nextPollMs);
    if (ended) {
      this.metrics.submitToComplete.observe(
        { object_type: task.objectType },
        Math.max(0, now - task.submittedAt) / 1000,
      );
      for (const entry of listed) {
        this.metrics.taskOutcomes.inc({
          object_type: task.objectType,
          status: entry.status,
          description: entry.status === 'Failed' ? (entry.description ?? '') : '',
        });
      }
    }
  }

  private async describe(task: TrackedTask): Promise<RefreshTask[]> {
    const all: RefreshTask[] = [];
    for (let page = 1; page <= 100; page += 1) {
      for (;;) {
        const wait = await this.tasks.takeCall('describe', this.settings.callsPerSecond);
        if (wait === 0) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const result = await this.vod.describeRefreshTasks({
        taskId: task.taskId,
        // Preload tasks are listed under ObjectType=preload; refresh tasks as before, by id alone.
        ...(workKind(task.objectType).taskObjectType === 'preload' ? { objectType: 'preload' as const } : {}),
        pageNumber: page,
        pageSize: PAGE_SIZE,
      });
      all.push(...result.tasks.filter((entry) => entry.taskId === task.taskId || entry.taskId === ''));
      if (page * PAGE_SIZE >= result.totalCount || result.tasks.length === 0) break;
    }
    return all;
  }
}
