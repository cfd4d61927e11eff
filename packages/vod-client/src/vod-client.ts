import RPCClient from '@alicloud/pop-core';
import type { ObjectType } from '@refreshq/domain';
import { toUpstreamError, UpstreamError } from './upstream-error.js';

export const VOD_API_VERSION = '2017-03-21';
export const DEFAULT_VOD_ENDPOINT = 'https://vod.cn-shanghai.aliyuncs.com';

export interface VodCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface CallRecord {
  action: string;
  /** `Success`, the upstream error code, or our label for a call without an answer. */
  code: string;
  durationMs: number;
}

export interface VodClientSettings {
  endpoint: string;
  credentials: VodCredentials;
  timeoutMs: number;
  /** Called once per call, for metrics. */
  onCall?: (record: CallRecord) => void;
}

export interface RefreshAccepted {
  refreshTaskId: string;
  requestId: string;
}

export interface RefreshTask {
  taskId: string;
  objectPath: string;
  objectType: string;
  status: string;
  process?: string;
  creationTime: string;
  description?: string;
}

export interface DescribeTasksQuery {
  taskId?: string;
  objectPath?: string;
  objectType?: 'file' | 'directory' | 'preload';
  domainName?: string;
  status?: string;
  pageNumber?: number;
  pageSize?: number;
  startTime?: string;
  endTime?: string;
}

export interface TaskPage {
  tasks: RefreshTask[];
  totalCount: number;
  pageNumber: number;
  pageSize: number;
}

export interface RefreshQuota {
  urlQuota: number;
  urlRemain: number;
  dirQuota: number;
  dirRemain: number;
}

interface RawTask {
  TaskId?: unknown;
  ObjectPath?: unknown;
  ObjectType?: unknown;
  Status?: unknown;
  Process?: unknown;
  CreationTime?: unknown;
  Description?: unknown;
}

const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

/** pop-core sends `undefined` as the string "undefined": drop unset parameters first. */
function definedParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== ''),
  );
}

/** The three VOD refresh actions over pop-core's signed RPC, with errors made safe to log. */
export class VodClient {
  private readonly rpc: RPCClient;

  constructor(private readonly settings: VodClientSettings) {
    const { credentials } = settings;
    this.rpc = new RPCClient({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      endpoint: settings.endpoint,
      apiVersion: VOD_API_VERSION,
    });
  }

  async refreshObjectCaches(paths: readonly string[], objectType: ObjectType): Promise<RefreshAccepted> {
    const body = await this.call('RefreshVodObjectCaches', {
      ObjectPath: paths.join('\n'),
      ObjectType: objectType,
    });
    const refreshTaskId = text(body.RefreshTaskId);
    if (refreshTaskId === '') {
      throw new UpstreamError(
        'upstream accepted the call but returned no RefreshTaskId',
        'unknown',
        'InvalidResponse',
        text(body.RequestId),
      );
    }
    return { refreshTaskId, requestId: text(body.RequestId) };
  }

  async describeRefreshTasks(query: DescribeTasksQuery): Promise<TaskPage> {
    const body = await this.call(
      'DescribeVodRefreshTasks',
      definedParams({
        TaskId: query.taskId,
        ObjectPath: query.objectPath,
        ObjectType: query.objectType,
        DomainName: query.domainName,
        Status: query.status,
        PageNumber: query.pageNumber,
        PageSize: query.pageSize,
        StartTime: query.startTime,
        EndTime: query.endTime,
      }),
    );
    const tasksField = body.Tasks as { Task?: unknown } | undefined;
    const raw = Array.isArray(tasksField?.Task) ? (tasksField.Task as RawTask[]) : [];
    return {
      tasks: raw.map((task) => ({
        taskId: text(task.TaskId),
        objectPath: text(task.ObjectPath),
        objectType: text(task.ObjectType),
        status: text(task.Status),
        process: text(task.Process),
        creationTime: text(task.CreationTime),
        description: text(task.Description),
      })),
      totalCount: Number(body.TotalCount ?? 0),
      pageNumber: Number(body.PageNumber ?? 1),
      pageSize: Number(body.PageSize ?? raw.length),
    };
  }

  async describeRefreshQuota(): Promise<RefreshQuota> {
    const body = await this.call('DescribeVodRefreshQuota', {});
    return {
      urlQuota: Number(body.UrlQuota),
      urlRemain: Number(body.UrlRemain),
      dirQuota: Number(body.DirQuota),
      dirRemain: Number(body.DirRemain),
    };
  }

  private async call(action: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const started = performance.now();
    let code = 'Success';
    try {
      return await this.rpc.request<Record<string, unknown>>(action, params, {
        method: 'POST',
        timeout: this.settings.timeoutMs,
        formatParams: false,
      });
    } catch (error) {
      const { accessKeyId, accessKeySecret, securityToken } = this.settings.credentials;
      const upstream = toUpstreamError(error, [accessKeyId, accessKeySecret, securityToken ?? '']);
      code = upstream.code;
      throw upstream;
    } finally {
      this.settings.onCall?.({ action, code, durationMs: performance.now() - started });
    }
  }
}
