import {
  type Clock,
  isMediaType,
  nextTaskPollMs,
  taskGiveUpAt,
  type UnconfirmedReason,
  workKind,
} from '@refreshq/domain';
import type { TaskPathView, TaskStore, TrackedTask } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { RefreshTask, VodClient } from '@refreshq/vod-client';
import type { FollowOnPreloads } from './follow-on-preloads.js';
import { LeaseHeartbeat } from './lease-heartbeat.js';
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
  /** Lease of the tasks claimed, renewed by a heartbeat while this worker follows them. */
  leaseMs: number;
  /** DescribeVodRefreshTasks calls per second, shared by all workers. */
  callsPerSecond: number;
  maxPollMs: number;
  /** A task whose end was not seen this long after its call ends `unconfirmed` (TASK_DEADLINE_MS). */
  deadlineMs: number;
}

const PAGE_SIZE = 50;
/** A young task is looked at again after half its age, but not sooner than this. */
const MIN_POLL_MS = 2000;

function pathState(status: string): TaskPathView['state'] {
  if (status === 'Complete') return 'complete';
  if (status === 'Failed') return 'failed';
  return 'refreshing';
}

const WHY: Record<UnconfirmedReason, string> = {
  deadline: 'no end seen by the task deadline (TASK_DEADLINE_MS)',
  lookup_window: "no end seen within the upstream's 3-day look-up window",
};

/** What one look at a task comes to, for finish-task-3.lua. */
interface Verdict {
  byPath: Map<string, TaskPathView>;
  ended: boolean;
  nextPollMs: number;
  unlisted?: TaskPathView;
  listed: RefreshTask[];
  giveUp?: UnconfirmedReason;
}

/**
 * Follows every submitted task with DescribeVodRefreshTasks until it is Complete or Failed,
 * polling sooner for young tasks and at most every `maxPollMs` for old ones. Every task ends: at
 * its deadline (or the end of the upstream's look-up window, whichever is first) one last look
 * is made, and every path not seen ended then becomes `unconfirmed`. Preload tasks are asked for
 * with ObjectType=preload; media refresh jobs (tracked in the same schedule) go to the media job
 * follower.
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
      // Tasks in hand stay leased while this worker works through them; each leaves the set
      // before its result is written, so a renewal never overrides the next poll time.
      const held = new Set(due.map((task) => task.taskId));
      const heartbeat = new LeaseHeartbeat(
        this.settings.leaseMs,
        async () => {
          await this.tasks.renew([...held], this.settings.leaseMs);
          return true;
        },
        (error) => this.logger.warn({ err: error }, 'renewing task leases failed'),
      ).start();
      try {
        for (const task of due) {
          if (this.stopped) return;
          if (isMediaType(task.objectType) && this.handlers.mediaJobs) {
            await this.handlers.mediaJobs.follow(task);
            held.delete(task.taskId);
            continue;
          }
          const verdict = await this.look(task);
          held.delete(task.taskId);
          if (verdict) await this.record(task, verdict);
        }
      } finally {
        await heartbeat.stop();
      }
      this.metrics.tasksTracked.set(await this.tasks.trackedCount());
    } catch (error) {
      this.logger.warn({ err: error }, 'task tracking step failed; tasks stay due');
    }
  }

  /** Undefined when the look failed before the give-up moment: the task is due again after its lease. */
  private async look(task: TrackedTask): Promise<Verdict | undefined> {
    const now = this.clock.now();
    const giveUp = taskGiveUpAt(task.submittedAt, this.settings.deadlineMs);
    const last = now >= giveUp.at;
    const unconfirmed = (description: string): TaskPathView => ({ state: 'unconfirmed', description });
    let listed: RefreshTask[] = [];
    // Past the look-up window nothing can be learnt: no call.
    if (!(last && giveUp.reason === 'lookup_window')) {
      try {
        listed = await this.describe(task);
      } catch (error) {
        this.logger.warn(
          { err: error, taskId: task.taskId },
          last
            ? 'DescribeVodRefreshTasks failed at the task deadline; its paths end unconfirmed'
            : 'DescribeVodRefreshTasks failed; the task is looked at again later',
        );
        if (!last) return undefined;
      }
    }
    const byPath = new Map<string, TaskPathView>();
    for (const entry of listed) {
      const state = pathState(entry.status);
      byPath.set(
        entry.objectPath,
        state === 'refreshing' && last
          ? unconfirmed(`still ${entry.status} upstream: ${WHY[giveUp.reason]}`)
          : { state, ...(entry.description ? { description: entry.description } : {}) },
      );
    }
    if (last)
      return {
        byPath,
        ended: true,
        nextPollMs: 0,
        unlisted: unconfirmed(`not listed upstream under task ${task.taskId}: ${WHY[giveUp.reason]}`),
        listed,
        giveUp: giveUp.reason,
      };
    const ended = byPath.size > 0 && [...byPath.values()].every((seen) => seen.state !== 'refreshing');
    const nextPollMs = nextTaskPollMs(now, task.submittedAt, giveUp.at, {
      minPollMs: MIN_POLL_MS,
      maxPollMs: this.settings.maxPollMs,
    });
    return { byPath, ended, nextPollMs, listed };
  }

  private async record(task: TrackedTask, verdict: Verdict): Promise<void> {
    try {
      // Before the outcome is recorded, so a crash in between queues again (idempotently).
      await this.handlers.followOns?.queue(task, verdict.byPath);
    } catch (error) {
      this.logger.warn(
        { err: error, taskId: task.taskId },
        'queueing follow-on preloads failed; the task is looked at again later',
      );
      return;
    }
    const recorded = await this.tasks.record(
      task.taskId,
      verdict.byPath,
      verdict.ended,
      verdict.nextPollMs,
      verdict.unlisted,
    );
    if (!verdict.ended) return;
    if (verdict.giveUp) {
      this.metrics.pathsUnconfirmed.inc(
        { object_type: task.objectType, reason: verdict.giveUp },
        recorded.unconfirmed,
      );
      if (recorded.unconfirmed > 0)
        this.logger.warn(
          { taskId: task.taskId, paths: recorded.unconfirmed, reason: verdict.giveUp },
          'task end never seen upstream; its open paths end unconfirmed',
        );
    } else {
      this.metrics.submitToComplete.observe(
        { object_type: task.objectType },
        Math.max(0, this.clock.now() - task.submittedAt) / 1000,
      );
    }
    for (const entry of verdict.listed) {
      const state = verdict.byPath.get(entry.objectPath)?.state;
      if (state !== 'complete' && state !== 'failed') continue;
      this.metrics.taskOutcomes.inc({
        object_type: task.objectType,
        status: entry.status,
        description: entry.status === 'Failed' ? (entry.description ?? '') : '',
      });
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
