import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import RPCClient from '@alicloud/pop-core';
import { type MediaJobReport, type MediaOptions, type ObjectType, reactionTo } from '@refreshq/domain';
import { CredentialSource, type VodCredentials } from './credentials.js';
import { credentialsUnavailable, toUpstreamError, UpstreamError } from './upstream-error.js';

export const VOD_API_VERSION = '2017-03-21';
export const DEFAULT_VOD_ENDPOINT = 'https://vod.cn-shanghai.aliyuncs.com';

export interface CallRecord {
  action: string;
  /** `Success`, the upstream error code, or our label for a call without an answer. */
  code: string;
  durationMs: number;
}

export interface VodClientSettings {
  endpoint: string;
  /** A source asked before every call (rotating credentials), or one fixed pair. */
  credentials: CredentialSource | VodCredentials;
  timeoutMs: number;
  /** Called once per call, for metrics. */
  onCall?: (record: CallRecord) => void;
  /** Called when an account error made the client fetch its credentials anew (at most every 5 s) before its retry. */
  onCredentialsRefreshed?: (record: { action: string; code: string }) => void;
}

/** The actions refreshq calls: docs/ram-policy.json allows exactly these (a test holds them together). */
export const VOD_ACTIONS = [
  'RefreshVodObjectCaches',
  'DescribeVodRefreshTasks',
  'DescribeVodRefreshQuota',
  'PreloadVodObjectCaches',
  'RefreshMediaPlayUrls',
  'GetMediaRefreshJobs',
] as const;
export type VodAction = (typeof VOD_ACTIONS)[number];

export interface RefreshAccepted {
  refreshTaskId: string;
  requestId: string;
}

export interface PreloadAccepted {
  preloadTaskId: string;
  requestId: string;
}

export interface MediaRefreshAccepted {
  mediaRefreshJobId: string;
  /** Ids the account may not operate on: refused, nothing done for them. */
  forbiddenMediaIds: string[];
  /** Ids of no existing media: refused. */
  nonExistMediaIds: string[];
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
  preloadQuota: number;
  preloadRemain: number;
}

interface RawMediaJob {
  MediaId?: unknown;
  Status?: unknown;
  SuccessPlayUrls?: unknown;
  TaskIds?: unknown;
  ErrorCode?: unknown;
  ErrorMessage?: unknown;
}

/** A field an accepting answer must carry; without it we cannot tell what was accepted. */
function required(body: Record<string, unknown>, field: string): string {
  const value = text(body[field]);
  if (value === '')
    throw new UpstreamError(
      `upstream accepted the call but returned no ${field}`,
      'unknown',
      'InvalidResponse',
      text(body.RequestId),
    );
  return value;
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

/** A comma-separated list of the upstream's (ids, URLs) as an array, blanks dropped. */
const commaList = (value: unknown): string[] =>
  text(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The upstream's name for a list option: comma-separated, or absent when empty. */
const joined = (values: readonly string[] | undefined): string | undefined =>
  values && values.length > 0 ? values.join(',') : undefined;

/** pop-core sends `undefined` as the string "undefined": drop unset parameters first. */
function definedParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== ''),
  );
}

/** The pop-core client of one credential version, and what it signs with (to scrub from errors). */
interface SignedClient {
  credentials: VodCredentials;
  rpc: RPCClient;
}

/**
 * The VOD cache actions over pop-core's signed RPC (refresh, prefetch, refresh by media id, and the
 * look-ups that follow them), with errors made safe to log. Every call asks the credential source
 * first, so rotated credentials are used without a restart.
 */
export class VodClient {
  readonly credentials: CredentialSource;
  /** pop-core signs with what its client was built with: one client per credential version. */
  private current: SignedClient | undefined;
  /** Shared by the clients of every version, so a rotation keeps the warm connections. */
  private readonly agent: HttpAgent;

  constructor(private readonly settings: VodClientSettings) {
    this.credentials =
      settings.credentials instanceof CredentialSource
        ? settings.credentials
        : CredentialSource.of(settings.credentials);
    const Agent = settings.endpoint.startsWith('https://') ? HttpsAgent : HttpAgent;
    this.agent = new Agent({ keepAlive: true, keepAliveMsecs: 3000 });
  }

  /** `force`: fetch everything again (Force=true) instead of revalidating; sent only when true. */
  async refreshObjectCaches(
    paths: readonly string[],
    objectType: ObjectType,
    force = false,
  ): Promise<RefreshAccepted> {
    const body = await this.call('RefreshVodObjectCaches', {
      ObjectPath: paths.join('\n'),
      ObjectType: objectType,
      ...(force ? { Force: 'true' } : {}),
    });
    return { refreshTaskId: required(body, 'RefreshTaskId'), requestId: text(body.RequestId) };
  }

  /** PreloadVodObjectCaches: prefetch URLs (never directories) onto the edge; its own daily quota. */
  async preloadObjectCaches(paths: readonly string[]): Promise<PreloadAccepted> {
    const body = await this.call('PreloadVodObjectCaches', { ObjectPath: paths.join('\n') });
    return { preloadTaskId: required(body, 'PreloadTaskId'), requestId: text(body.RequestId) };
  }

  /** RefreshMediaPlayUrls: refresh or prefetch the play URLs of up to 20 media, filtered by the options. */
  async refreshMediaPlayUrls(
    mediaIds: readonly string[],
    options: MediaOptions,
  ): Promise<MediaRefreshAccepted> {
    const body = await this.call(
      'RefreshMediaPlayUrls',
      definedParams({
        MediaIds: mediaIds.join(','),
        TaskType: options.taskType,
        Formats: joined(options.formats),
        Definitions: joined(options.definitions),
        StreamType: joined(options.streamTypes),
        ResultType: options.resultType,
        SliceFlag: options.sliceFlag ? 'true' : undefined,
        SliceCount: options.sliceFlag ? options.sliceCount : undefined,
        UserData: options.userData,
      }),
    );
    return {
      mediaRefreshJobId: required(body, 'MediaRefreshJobId'),
      forbiddenMediaIds: commaList(body.ForbiddenMediaIds),
      nonExistMediaIds: commaList(body.NonExistMediaIds),
      requestId: text(body.RequestId),
    };
  }

  /** GetMediaRefreshJobs: per media of a job, whether its play URLs are submitted, and their tasks. */
  async getMediaRefreshJobs(mediaRefreshJobId: string, mediaId?: string): Promise<MediaJobReport[]> {
    const body = await this.call(
      'GetMediaRefreshJobs',
      definedParams({ MediaRefreshJobId: mediaRefreshJobId, MediaId: mediaId }),
    );
    const raw = Array.isArray(body.MediaRefreshJobs) ? (body.MediaRefreshJobs as RawMediaJob[]) : [];
    return raw.map((job) => ({
      mediaId: text(job.MediaId),
      status: text(job.Status),
      successPlayUrls: commaList(job.SuccessPlayUrls),
      taskIds: commaList(job.TaskIds),
      ...(text(job.ErrorCode) ? { errorCode: text(job.ErrorCode) } : {}),
      ...(text(job.ErrorMessage) ? { errorMessage: text(job.ErrorMessage) } : {}),
    }));
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
      preloadQuota: Number(body.PreloadQuota),
      preloadRemain: Number(body.PreloadRemain),
    };
  }

  /**
   * An account error (a rotated key, an expired token, a permission just granted) may be cured by
   * fetching the credentials anew, and the gateway refused before the action did anything, so the
   * call is safe to make once more. A second account error is the caller's to react to.
   */
  private async call(action: VodAction, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      return await this.attempt(action, params);
    } catch (error) {
      if (!(error instanceof UpstreamError) || reactionTo(error.code).kind !== 'account-error') throw error;
      // Another call may have refreshed them a moment ago: the retry then uses those.
      if (this.credentials.refresh()) this.settings.onCredentialsRefreshed?.({ action, code: error.code });
      return await this.attempt(action, params);
    }
  }

  private async attempt(
    action: VodAction,
    params: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const started = performance.now();
    let code = 'Success';
    let client: SignedClient | undefined;
    try {
      client = await this.signedClient();
      return await client.rpc.request<Record<string, unknown>>(action, params, {
        method: 'POST',
        timeout: this.settings.timeoutMs,
        formatParams: false,
        agent: this.agent,
      });
    } catch (error) {
      const upstream = client
        ? toUpstreamError(error, secretsOf(client.credentials))
        : credentialsUnavailable(error, this.credentials.settings.kind);
      code = upstream.code;
      throw upstream;
    } finally {
      this.settings.onCall?.({ action, code, durationMs: performance.now() - started });
    }
  }

  private async signedClient(): Promise<SignedClient> {
    const credentials = await this.credentials.get();
    const current = this.current;
    if (current && sameCredentials(current.credentials, credentials)) return current;
    const rpc = new RPCClient({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      endpoint: this.settings.endpoint,
      apiVersion: VOD_API_VERSION,
    });
    this.current = { credentials, rpc };
    return this.current;
  }
}

function sameCredentials(a: VodCredentials, b: VodCredentials): boolean {
  return (
    a.accessKeyId === b.accessKeyId &&
    a.accessKeySecret === b.accessKeySecret &&
    a.securityToken === b.securityToken
  );
}

function secretsOf(credentials: VodCredentials): string[] {
  return [credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken ?? ''];
}
