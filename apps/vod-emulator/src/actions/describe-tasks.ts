import { parseAliTime, secondStart } from '../calendar.js';
import { ApiError, missingParameter } from '../errors.js';
import { TASK_RETENTION_MS, TASK_STATUSES, type TaskStatus } from '../tasks.js';
import type { ActionContext, ActionResult } from './types.js';

export const DESCRIBE_OBJECT_TYPES = ['file', 'directory', 'preload', 'regex', 'ignoreParams'] as const;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 50;

/**
 * DescribeVodRefreshTasks: filters by TaskId, ObjectPath (exact), ObjectType (required with
 * DomainName or Status), DomainName, Status and a StartTime/EndTime window inside the last
 * 3 days; newest first; paged.
 */
export function describeVodRefreshTasks({ state, call }: ActionContext): ActionResult {
  const p = call.params;
  const taskId = p.TaskId;
  if (taskId !== undefined && !/^\d{1,20}$/.test(taskId)) throw new ApiError('InvalidTaskId.Malformed');

  const objectType = p.ObjectType;
  if (objectType !== undefined && !(DESCRIBE_OBJECT_TYPES as readonly string[]).includes(objectType)) {
    throw new ApiError('InvalidObjectType.ValueNotSupported');
  }
  const status = p.Status;
  if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new ApiError('InvalidStatus.ValueNotSupported');
  }
  if ((p.DomainName !== undefined || status !== undefined) && objectType === undefined) {
    throw missingParameter('ObjectType');
  }

  const pageNumber = parseIntParam(p.PageNumber, 1, 1, 100_000, 'InvalidPageNumber.ValueNotSupported');
  const pageSize = parseIntParam(
    p.PageSize,
    DEFAULT_PAGE_SIZE,
    1,
    MAX_PAGE_SIZE,
    'InvalidPageSize.ValueNotSupported',
  );

  const now = state.clock.now();
  const earliest = secondStart(now - TASK_RETENTION_MS);
  const start = p.StartTime === undefined ? undefined : parseAliTime(p.StartTime);
  if (p.StartTime !== undefined && start === undefined) throw new ApiError('InvalidStartTime.Malformed');
  const end = p.EndTime === undefined ? undefined : parseAliTime(p.EndTime);
  if (p.EndTime !== undefined && end === undefined) throw new ApiError('InvalidEndTime.Malformed');
  if (start !== undefined && start < earliest) throw new ApiError('InvalidStartTime.ValueNotSupported');
  if (start !== undefined && end !== undefined && end < start) throw new ApiError('InvalidEndTime.Mismatch');

  const matches = state.tasks.query(
    {
      ...(taskId !== undefined && { taskId }),
      ...(p.ObjectPath !== undefined && { objectPath: p.ObjectPath }),
      ...(objectType !== undefined && { objectType }),
      ...(p.DomainName !== undefined && { domain: p.DomainName }),
      ...(status !== undefined && { status: status as TaskStatus }),
      fromMs: Math.max(start ?? earliest, earliest),
      toMs: end ?? Number.POSITIVE_INFINITY,
    },
    now,
    state.timing,
  );
  const page = matches.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    body: {
      PageNumber: pageNumber,
      PageSize: pageSize,
      TotalCount: matches.length,
      Tasks: { Task: page },
    },
  };
}

function parseIntParam(
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  code: 'InvalidPageNumber.ValueNotSupported' | 'InvalidPageSize.ValueNotSupported',
): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new ApiError(code);
  const n = Number(value);
  if (n < min || n > max) throw new ApiError(code);
  return n;
}
