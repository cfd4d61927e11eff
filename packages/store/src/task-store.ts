import { randomUUID } from 'node:crypto';
import type { ObjectType } from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { claimDue, finishTask, takeCall } from './script-calls.js';

export interface TrackedTask {
  taskId: string;
  objectType: ObjectType;
  /** When the accepting call started (Redis clock). */
  submittedAt: number;
  domain: string;
}

export type TaskPathState = 'refreshing' | 'complete' | 'failed';

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

  /** Records the upstream's view per submitted path; `ended` forgets the task. Returns the request ids touched. */
  record(
    taskId: string,
    byPath: Map<string, { state: TaskPathState; description?: string }>,
    ended: boolean,
    nextPollMs: number,
  ): Promise<string[]> {
    return finishTask(this.redis, this.keys, { taskId, byPath, ended, nextPollMs });
  }

  async trackedCount(): Promise<number> {
    return this.redis.zcard(this.keys.tracking);
  }

  /** One token from a per-second call budget shared by all workers; resolves to the ms to wait (0: taken). */
  takeCall(scope: string, callsPerSecond: number): Promise<number> {
    return takeCall(this.redis, this.keys, { scope, callsPerSecond, token: randomUUID() });
  }
}
