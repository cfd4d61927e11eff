import {
  followOnId,
  type PathState,
  type PathStatus,
  poolItemsOf,
  type RefreshRequest,
  type WorkType,
} from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { RECENT_REQUESTS_PER_PATH } from './request-index.js';
import {
  parseStoredRequest,
  pathStatusFields,
  pathStatusFrom,
  RETRY_FIELD,
  type RequestMeta,
  type Retry,
  type StoredRequest,
} from './request-record.js';

import { admitRequest, cancelRequest } from './script-calls.js';

export interface AdmitSettings {
  windowMs: number;
  maxFilesPerCall: number;
  maxDirsPerCall: number;
  retentionSeconds: number;
  /** Pending files under one directory that make it refreshed as a directory instead; 0 = never. */
  promoteAt: number;
}

export type AdmitResult = { admitted: false } | { admitted: true; coalesced: number };

/**
 * What cancelling did to one path: `cancelled`; `in_flight` (still queued on the request, but
 * claimed for a call already); or the state it had already reached.
 */
export type CancelOutcome = 'cancelled' | 'in_flight' | Exclude<PathState, 'queued'> | 'unknown';

/** The per-request record that GET /v1/refreshes/:id reads: its meta and each path's status. */
export class RequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /**
   * Records the request and puts its paths in the pending pool (lane = its priority), coalesced
   * with pending paths and covered by pending directories; a second call for the same id does
   * nothing. It is indexed for the listing and for each path's look-up in the same step.
   */
  async admit(
    request: RefreshRequest,
    domains: readonly string[],
    settings: AdmitSettings,
  ): Promise<AdmitResult> {
    const { type, items } = poolItemsOf(request, domains);
    const meta: RequestMeta = {
      id: request.id,
      objectType: request.objectType,
      priority: request.priority,
      receivedAt: request.receivedAt,
      pathCount: items.length,
      ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
      ...(request.action && request.action !== 'refresh' ? { action: request.action } : {}),
      ...(request.force ? { force: true } : {}),
      // biome-ignore lint/suspicious/noThenProperty: the public field `then` holds a string, never a callable
      ...(request.then ? { then: request.then } : {}),
      ...(request.media ? { media: request.media } : {}),
      ...(request.parent ? { parent: request.parent } : {}),
      ...(request.retryOf ? { retryOf: request.retryOf } : {}),
    };
    const paths = items.map((item) => [item.path, item.domain] as const);
    return admitRequest(this.redis, this.keys, {
      meta,
      settings,
      paths,
      type,
      indexPaths: !request.media,
      keepPerPath: RECENT_REQUESTS_PER_PATH,
    });
  }

  /** The meta of each request that still exists, by id (one round trip). */
  async metas(ids: readonly string[]): Promise<Map<string, RequestMeta>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.request(id), 'meta');
    const replies = (await pipeline.exec()) ?? [];
    const metas = new Map<string, RequestMeta>();
    ids.forEach((id, index) => {
      const [error, value] = replies[index] ?? [];
      if (error) throw error;
      if (typeof value === 'string') metas.set(id, JSON.parse(value) as RequestMeta);
    });
    return metas;
  }

  async read(id: string): Promise<StoredRequest | undefined> {
    const stored = parseStoredRequest(await this.redis.hgetall(this.keys.request(id)));
    if (stored?.meta.then !== 'preload') return stored;
    return { ...stored, followOns: await this.followOns(id, [...stored.paths.keys()]) };
  }

  /** The status of each path's follow-on preload, where one was queued. */
  private async followOns(id: string, paths: readonly string[]): Promise<Map<string, PathStatus>> {
    const pipeline = this.redis.pipeline();
    for (const path of paths)
      pipeline.hmget(this.keys.request(followOnId(id, path)), ...pathStatusFields(path));
    const replies = (await pipeline.exec()) ?? [];
    const statuses = new Map<string, PathStatus>();
    paths.forEach((path, index) => {
      const [error, reply] = replies[index] ?? [];
      if (error) throw error;
      const status = pathStatusFrom(reply, path);
      if (status) statuses.set(path, status);
    });
    return statuses;
  }

  /**
   * Cancels the still-queued paths of a request, each unlinked for this request only. The ready
   * time of a domain whose pool changed is recomputed without knowing the workers' window and
   * batch size: from its oldest path alone, so a batch is never cut earlier than it would be.
   */
  async cancel(
    id: string,
    type: WorkType,
    paths: readonly (readonly [string, string])[],
  ): Promise<Map<string, CancelOutcome>> {
    return cancelRequest(this.redis, this.keys, {
      requestId: id,
      type,
      paths,
      windowMs: 0,
      maxFilesPerCall: Number.MAX_SAFE_INTEGER,
      maxDirsPerCall: Number.MAX_SAFE_INTEGER,
    });
  }

  /**
   * Notes on a request that `retry` queued some of its paths again. Never outlives the request:
   * the hash keeps its remaining TTL, so one that expired meanwhile is not kept alive by it.
   */
  async noteRetry(id: string, retry: Retry): Promise<void> {
    const key = this.keys.request(id);
    const ttl = await this.redis.pttl(key);
    if (ttl <= 0) return;
    await this.redis
      .multi()
      .hset(key, RETRY_FIELD + retry.id, JSON.stringify({ at: retry.at, paths: retry.paths }))
      .pexpire(key, ttl)
      .exec();
  }
}
