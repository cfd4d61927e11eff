import type { ObjectType, PathStatus, Priority, RefreshRequest } from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { admitRequest } from './script-calls.js';

export interface RequestMeta {
  id: string;
  objectType: ObjectType;
  priority: Priority;
  receivedAt: number;
  pathCount: number;
  callbackUrl?: string;
}

export interface StoredRequest {
  meta: RequestMeta;
  paths: Map<string, PathStatus>;
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
    const meta: RequestMeta = {
      id: request.id,
      objectType: request.objectType,
      priority: request.priority,
      receivedAt: request.receivedAt,
      pathCount: request.paths.length,
      ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
    };
    const paths = request.paths.map((path, index) => [path, domains[index] as string] as const);
    return admitRequest(this.redis, this.keys, { meta, settings, paths });
  }

  async read(id: string): Promise<StoredRequest | undefined> {
    const fields = await this.redis.hgetall(this.keys.request(id));
    const metaText = fields.meta;
    if (metaText === undefined) return undefined;
    const paths = new Map<string, PathStatus>();
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith('p:')) paths.set(field.slice(2), JSON.parse(value) as PathStatus);
    }
    return { meta: JSON.parse(metaText) as RequestMeta, paths };
  }
}
