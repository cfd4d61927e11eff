import { randomUUID } from 'node:crypto';
import type { ObjectType } from '@refreshq/domain';
import type { Redis } from 'ioredis';
import type { Keyspace } from './keyspace.js';
import { runScript } from './lua-scripts.js';

export interface TrackedTask {
  taskId: string;
  objectType: ObjectType;
  /** When the accepting call started (Redis clock). */
  submittedAt: number;
  domain: string;
}

export type TaskPathState = 'refreshing' | 'complete' | 'failed';

/** Refresh tasks under tracking: recorded by finish-batch.lua, followed by the task tracker. */
export class TaskStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** Claims up to `max` tasks due for a look, leased for `leaseMs`. */
  async claimDue(max: number, leaseMs: number): Promise<TrackedTask[]> {
    const flat = (await runScript(this.redis, 'claimTasks', [], [this.keys.prefix, max, leaseMs])) as string[];
    const tasks: TrackedTask[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const meta = JSON.parse(flat[i + 1] ?? '{}') as Partial<TrackedTask>;
      tasks.push({ taskId: flat[i] as string, objectType: meta.objectType ?? 'File', submittedAt: Number(meta.submittedAt ?? 0), domain: meta.domain ?? '' });
    }
    return tasks;
  }

  /** Records the upstream's view per submitted path; `ended` forgets the task. Returns the request ids touched. */
  async record(taskId: string, byPath: Map<string, { state: TaskPathState; description?: string }>, ended: boolean, nextPollMs: number): Promise<string[]> {
    return (await runScript(this.redis, 'finishTask', [], [
      this.keys.prefix,
      taskId,
      ended ? '1' : '0',
      nextPollMs,
      JSON.stringify(Object.fromEntries(byPath)),
    ])) as string[];
  }

  async trackedCount(): Promise<number> {
    return this.redis.zcard(`${this.keys.prefix}tracking`);
  }

  /** One token from a per-second call budget shared by all workers; resolves to the ms to wait (0: taken). */
  async takeCall(scope: string, callsPerSecond: number): Promise<number> {
    return Number(await runScript(this.redis, 'takeCall', [], [this.keys.prefix, scope, callsPerSecond, randomUUID()]));
  }
}
