import { randomUUID } from 'node:crypto';
import {
  isWorkType,
  type MediaProgress,
  type PathError,
  type PathState,
  type PlayUrlState,
  type TaskEntry,
  type WorkType,
} from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { claimDue, finishMediaJob, finishTask, renewDue, takeCall } from './script-calls.js';

/** How a media refresh job is tracked: under this id, beside refresh tasks (one schedule). */
export const MEDIA_JOB_PREFIX = 'media-job:';

export interface TrackedTask {
  /** A refresh or preload task id, or `media-job:<MediaRefreshJobId>` for a media job. */
  taskId: string;
  /** The pool type of the batch that submitted it. */
  objectType: WorkType;
  /** When the accepting call started (Redis clock). */
  submittedAt: number;
  domain: string;
}

export type TaskPathState = 'refreshing' | 'complete' | 'failed' | 'unconfirmed';

/** What is recorded of one submitted path of a task; `description`: the upstream's, or why unconfirmed. */
export interface TaskPathView {
  state: TaskPathState;
  description?: string;
}

/** What following a media job found for one media (finish-media-job-4.lua writes it on its requests). */
export interface MediaItemStatus {
  state: PathState;
  playUrls: { url: string; taskId?: string; state: PlayUrlState; description?: string }[];
  error?: PathError;
}

/** A tracked media job as it was left at the last look. */
export interface MediaJobRecord {
  /** The (request, media item) pairs it still serves; coveredBy is always ''. */
  entries: TaskEntry[];
  /** Per media id, where it stands; absent before the first look. */
  progress: Record<string, MediaProgress>;
}

/** Refresh tasks and media jobs under tracking: recorded by finish-batch-7.lua, followed by the task tracker. */
export class TaskStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** Claims up to `max` tasks due for a look, leased for `leaseMs`. */
  async claimDue(max: number, leaseMs: number): Promise<TrackedTask[]> {
    const ids = await claimDue(this.redis, this.keys, { schedule: 'tracking', max, leaseMs });
    const metas = await Promise.all(ids.map((id) => this.redis.hget(this.keys.task(id), '_meta')));
    return ids.map((taskId, index) => {
      const meta = JSON.parse(metas[index] ?? '{}') as Partial<TrackedTask>;
      return {
        taskId,
        objectType: isWorkType(meta.objectType) ? meta.objectType : 'File',
        submittedAt: Number(meta.submittedAt ?? 0),
        domain: meta.domain ?? '',
      };
    });
  }

  /** Leases again, for `leaseMs`, the tasks this worker still holds (its heartbeat); returns how many were renewed. */
  renew(taskIds: readonly string[], leaseMs: number): Promise<number> {
    if (taskIds.length === 0) return Promise.resolve(0);
    return renewDue(this.redis, this.keys, { schedule: 'tracking', ids: taskIds, leaseMs });
  }

  /**
   * Records the upstream's view per submitted path; `ended` forgets the task; `unlisted` is what
   * the paths the upstream did not list become (the last look). Returns the request ids touched
   * and how many (request, path) pairs were made unconfirmed.
   */
  record(
    taskId: string,
    byPath: Map<string, TaskPathView>,
    ended: boolean,
    nextPollMs: number,
    unlisted?: TaskPathView,
  ): Promise<{ requestIds: string[]; unconfirmed: number }> {
    return finishTask(this.redis, this.keys, {
      taskId,
      byPath,
      ended,
      nextPollMs,
      ...(unlisted ? { unlisted } : {}),
    });
  }

  /** The (request, path) pairs a task or job serves, with the covering directory ('' if none). */
  async entries(taskId: string): Promise<TaskEntry[]> {
    const fields = await this.redis.hgetall(this.keys.task(taskId));
    return Object.entries(fields)
      .filter(([field]) => !field.startsWith('_'))
      .map(([field, coveredBy]) => {
        const tab = field.indexOf('\t');
        return { requestId: field.slice(0, tab), path: field.slice(tab + 1), coveredBy };
      });
  }

  async mediaJob(trackingId: string): Promise<MediaJobRecord> {
    const [entries, progress] = await Promise.all([
      this.entries(trackingId),
      this.redis.hget(this.keys.task(trackingId), '_progress'),
    ]);
    return { entries, progress: progress ? (JSON.parse(progress) as Record<string, MediaProgress>) : {} };
  }

  /** Records a look at a media job on its requests (or puts media back to the pool); returns the request ids touched. */
  recordMediaJob(
    trackingId: string,
    look: {
      progress: Record<string, MediaProgress>;
      statuses: Map<string, MediaItemStatus>;
      requeues: Map<string, { delayMs: number }>;
      ended: boolean;
      nextPollMs: number;
      windowMs: number;
    },
  ): Promise<string[]> {
    return finishMediaJob(this.redis, this.keys, { trackingId, ...look });
  }

  async trackedCount(): Promise<number> {
    return this.redis.zcard(this.keys.tracking);
  }

  /** One token from a per-second call budget shared by all workers; resolves to the ms to wait (0: taken). */
  takeCall(scope: string, callsPerSecond: number): Promise<number> {
    return takeCall(this.redis, this.keys, { scope, callsPerSecond, token: randomUUID() });
  }
}
