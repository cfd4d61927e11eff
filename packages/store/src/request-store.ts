import {
  followOnId,
  type ObjectType,
  type PathStatus,
  type Priority,
  poolItemsOf,
  type RefreshRequest,
} from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { admitRequest } from './script-calls.js';

export interface RequestMeta extends Pick<RefreshRequest, 'action' | 'force' | 'then' | 'media' | 'parent'> {
  id: string;
  objectType: ObjectType;
  priority: Priority;
  receivedAt: number;
  pathCount: number;
  callbackUrl?: string;
}

export interface StoredRequest {
  meta: RequestMeta;
  /** By path, or for a request by media ids by media item key (work-kinds.ts mediaItemKey). */
  paths: Map<string, PathStatus>;
  /** `then: "preload"`: the follow-on preload of each path that has one. */
  followOns?: Map<string, PathStatus>;
}

export interface AdmitSettings {
  windowMs: number;
  maxFilesPerCall: number;
  maxDirsPerCall: number;
  retentionSeconds: number;
  /** Pending files under one directory that make it refreshed as a directory instead; 0 = never. */
  promoteAt: number;
}

export type AdmitResult = { admitted: false } | { admitted: true; coalesced: number };

/** The per-request record that GET /v1/refreshes/:id reads: its meta and each path's status. */
export class RequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /**
   * Records the request and puts its paths in the pending pool (lane = its priority), coalesced
   * with pending paths and covered by pending directories; a second call for the same id does nothing.
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
    };
    const paths = items.map((item) => [item.path, item.domain] as const);
    return admitRequest(this.redis, this.keys, { meta, settings, paths, type });
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
    const fields = await this.redis.hgetall(this.keys.request(id));
    const metaText = fields.meta;
    if (metaText === undefined) return undefined;
    const paths = new Map<string, PathStatus>();
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('p:')) paths.set(field.slice(2), JSON.parse(value) as PathStatus);
    }
    const meta = JSON.parse(metaText) as RequestMeta;
    if (meta.then !== 'preload') return { meta, paths };
    return { meta, paths, followOns: await this.followOns(id, [...paths.keys()]) };
  }

  /** The status of each path's follow-on preload, where one was queued. */
  private async followOns(id: string, paths: readonly string[]): Promise<Map<string, PathStatus>> {
    const pipeline = this.redis.pipeline();
    for (const path of paths) pipeline.hget(this.keys.request(followOnId(id, path)), `p:${path}`);
    const replies = (await pipeline.exec()) ?? [];
    const statuses = new Map<string, PathStatus>();
    paths.forEach((path, index) => {
      const [error, value] = replies[index] ?? [];
      if (error) throw error;
      if (typeof value === 'string') statuses.set(path, JSON.parse(value) as PathStatus);
    });
    return statuses;
  }
}
