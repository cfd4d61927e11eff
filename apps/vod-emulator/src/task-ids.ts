import { secondStart } from './calendar.js';
import type { QuotaKind, TaskObjectType } from './paths.js';

/**
 * Pure task-id allocation, following Alibaba's merge rules: URL tasks for one domain submitted
 * in the same second share one id, and at most `mergeLimit` (2,000) tasks share an id (the
 * 2,001st opens a new one). Directory (and Regex) tasks are never merged: each path gets an id
 * of its own. Ids are decimal strings counting up from `nextId`.
 */

export const TASK_ID_MERGE_LIMIT = 2000;

export interface OpenGroup {
  second: number;
  id: string;
  size: number;
}

export interface TaskIdState {
  nextId: number;
  /** Open merge groups of the current second, by `objectType|domain`. */
  groups: Readonly<Record<string, OpenGroup>>;
}

export function initialTaskIdState(firstId: number): TaskIdState {
  return { nextId: firstId, groups: {} };
}

export interface TaskIdRequest {
  domain: string;
  objectType: TaskObjectType;
  kind: QuotaKind;
}

export interface TaskIdAssignment {
  state: TaskIdState;
  /** One id per requested item, in order. */
  ids: string[];
  /** Distinct ids in order of first use: the `RefreshTaskId` value, joined with commas. */
  distinct: string[];
}

export function assignTaskIds(
  state: TaskIdState,
  items: readonly TaskIdRequest[],
  nowMs: number,
  mergeLimit = TASK_ID_MERGE_LIMIT,
): TaskIdAssignment {
  const second = secondStart(nowMs);
  let nextId = state.nextId;
  const groups: Record<string, OpenGroup> = {};
  for (const [key, group] of Object.entries(state.groups)) {
    if (group.second === second) groups[key] = { ...group };
  }
  const ids: string[] = [];
  for (const item of items) {
    if (item.kind === 'dir') {
      ids.push(String(nextId++));
      continue;
    }
    const key = `${item.objectType}|${item.domain}`;
    let group = groups[key];
    if (!group || group.size >= mergeLimit) {
      group = { second, id: String(nextId++), size: 0 };
      groups[key] = group;
    }
    group.size++;
    ids.push(group.id);
  }
  return { state: { nextId, groups }, ids, distinct: [...new Set(ids)] };
}
