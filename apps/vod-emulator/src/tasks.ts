import { DAY_MS, formatAliTime, secondStart } from './calendar.js';
import type { TaskObjectType } from './paths.js';
import { unitHash } from './random.js';

/**
 * Refresh tasks: what was recorded, how a task's status follows from emulated time
 * (Pending → Refreshing → Complete, or Failed for a seeded share), and the store that
 * DescribeVodRefreshTasks queries.
 */

export const TASK_STATUSES = ['Complete', 'Refreshing', 'Failed', 'Pending'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const FAILURE_DESCRIPTIONS = [
  'Internal Error',
  'Origin Timeout',
  'Origin Return StatusCode 5XX',
] as const;
export type FailureDescription = (typeof FAILURE_DESCRIPTIONS)[number];

/** Only the last 3 days can be queried. */
export const TASK_RETENTION_MS = 3 * DAY_MS;

export interface TaskTiming {
  /** A task is Pending for this long after creation. */
  pendingMs: number;
  /** ... then Refreshing until this long after creation, then Complete or Failed. */
  completeAfterMs: number;
  /** Share of tasks (0..1) that end Failed. */
  failureRate: number;
  /**
   * Share of tasks (0..1) that DescribeVodRefreshTasks never lists (as the upstream does with a
   * task it lost or merged away): the call is accepted and counted, but no query finds the task.
   */
  unlistedRate: number;
  /** Fixes which tasks fail, and with which description. */
  seed: number;
  /** A media refresh job reports `Processing` this long before its play URLs show as submitted. */
  mediaSubmitMs: number;
}

export const DEFAULT_TASK_TIMING: TaskTiming = {
  pendingMs: 1000,
  completeAfterMs: 5000,
  failureRate: 0,
  unlistedRate: 0,
  seed: 1,
  mediaSubmitMs: 500,
};

export interface TaskRecord {
  taskId: string;
  objectPath: string;
  objectType: TaskObjectType;
  domain: string;
  createdAtMs: number;
  /** Submission order, to keep the order of rows with the same creation second stable. */
  seq: number;
  failure: FailureDescription | undefined;
  /** Never listed by DescribeVodRefreshTasks (see `unlistedRate`). */
  unlisted?: boolean;
}

/** The task row as DescribeVodRefreshTasks shows it. */
export interface TaskView {
  TaskId: string;
  ObjectPath: string;
  ObjectType: TaskObjectType;
  Status: TaskStatus;
  Process: string;
  CreationTime: string;
  Description: string;
}

/** Whether (and how) a task fails: a pure function of seed, task id, path and the rate. */
export function taskFailure(
  seed: number,
  taskId: string,
  objectPath: string,
  failureRate: number,
): FailureDescription | undefined {
  if (failureRate <= 0) return undefined;
  if (unitHash(seed, 'fail', taskId, objectPath) >= failureRate) return undefined;
  const index = Math.floor(unitHash(seed, 'why', taskId, objectPath) * FAILURE_DESCRIPTIONS.length);
  return FAILURE_DESCRIPTIONS[Math.min(index, FAILURE_DESCRIPTIONS.length - 1)];
}

/** Whether DescribeVodRefreshTasks never lists a task: a pure function of seed, task id, path and the rate. */
export function taskUnlisted(
  seed: number,
  taskId: string,
  objectPath: string,
  unlistedRate: number,
): boolean {
  return unlistedRate > 0 && unitHash(seed, 'unlisted', taskId, objectPath) < unlistedRate;
}

/** Status and Process of a task at `nowMs`. */
export function taskProgress(
  createdAtMs: number,
  failure: FailureDescription | undefined,
  nowMs: number,
  timing: Pick<TaskTiming, 'pendingMs' | 'completeAfterMs'>,
): { status: TaskStatus; process: string } {
  const elapsed = nowMs - createdAtMs;
  if (elapsed >= timing.completeAfterMs) {
    return failure ? { status: 'Failed', process: '0%' } : { status: 'Complete', process: '100%' };
  }
  if (elapsed < timing.pendingMs) return { status: 'Pending', process: '0%' };
  const pct = Math.floor((100 * elapsed) / timing.completeAfterMs);
  return { status: 'Refreshing', process: `${Math.min(99, Math.max(1, pct))}%` };
}

export function taskView(task: TaskRecord, nowMs: number, timing: TaskTiming): TaskView {
  const { status, process } = taskProgress(task.createdAtMs, task.failure, nowMs, timing);
  return {
    TaskId: task.taskId,
    ObjectPath: task.objectPath,
    ObjectType: task.objectType,
    Status: status,
    Process: process,
    CreationTime: formatAliTime(task.createdAtMs),
    Description: status === 'Failed' ? (task.failure ?? '') : '',
  };
}

export interface TaskQuery {
  taskId?: string;
  objectPath?: string;
  objectType?: string;
  domain?: string;
  status?: TaskStatus;
  /** Inclusive bounds on the creation second, epoch ms. */
  fromMs: number;
  toMs: number;
}

export class TaskStore {
  private records: TaskRecord[] = [];
  private seq = 0;

  add(task: Omit<TaskRecord, 'seq'>): void {
    this.records.push({ ...task, seq: this.seq++ });
  }

  /** Forgets tasks too old to be queried any more (a day of slack past the 3-day window). */
  prune(nowMs: number): void {
    const cutoff = nowMs - TASK_RETENTION_MS - DAY_MS;
    if (this.records.length > 0 && (this.records[0]?.createdAtMs ?? cutoff) < cutoff) {
      this.records = this.records.filter((t) => t.createdAtMs >= cutoff);
    }
  }

  /** Matching tasks, newest first. */
  query(q: TaskQuery, nowMs: number, timing: TaskTiming): TaskView[] {
    const out: { view: TaskView; created: number; seq: number }[] = [];
    for (const t of this.records) {
      if (t.unlisted) continue;
      const createdSecond = secondStart(t.createdAtMs);
      if (createdSecond < q.fromMs || createdSecond > q.toMs) continue;
      if (q.taskId !== undefined && t.taskId !== q.taskId) continue;
      if (q.objectPath !== undefined && t.objectPath !== q.objectPath) continue;
      if (q.objectType !== undefined && t.objectType !== q.objectType) continue;
      if (q.domain !== undefined && t.domain !== q.domain.toLowerCase()) continue;
      const view = taskView(t, nowMs, timing);
      if (q.status !== undefined && view.Status !== q.status) continue;
      out.push({ view, created: t.createdAtMs, seq: t.seq });
    }
    out.sort((a, b) => b.created - a.created || a.seq - b.seq);
    return out.map((o) => o.view);
  }

  /** Every stored task with its status now, oldest first, unlisted ones too (for the control API). */
  all(nowMs: number, timing: TaskTiming): (TaskView & { Domain: string; Listed: boolean })[] {
    return this.records.map((t) => ({
      ...taskView(t, nowMs, timing),
      Domain: t.domain,
      Listed: !t.unlisted,
    }));
  }

  get size(): number {
    return this.records.length;
  }

  clear(): void {
    this.records = [];
    this.seq = 0;
  }
}
