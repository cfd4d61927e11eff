import { randomUUID } from 'node:crypto';
import type { ObjectType } from '@refreshq/domain';
import type { Redis } from 'ioredis';
import type { Keyspace } from './keyspace.js';
import { claimDue, finishTask, renewDue, takeCall } from './script-calls.js';

export interface TrackedTask {
  taskId: string;
  objectType: ObjectType;
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

/** Refresh tasks under tracking: recorded by finish-batch-5.lua, followed by the task tracker. */
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
        objectType: meta.objectType ?? 'File',
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

  async trackedCount(): Promise<number> {
    return this.redis.zcard(this.keys.tracking);
  }

  /** One token from a per-second call budget shared by all workers; resolves to the ms to wait (0: taken). */
  takeCall(scope: string, callsPerSecond: number): Promise<number> {
    return takeCall(this.redis, this.keys, { scope, callsPerSecond, token: randomUUID() });
  }
}
