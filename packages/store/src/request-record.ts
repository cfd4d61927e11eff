import type { ObjectType, PathStatus, Priority, RefreshRequest } from '@refreshq/domain';

export interface RequestMeta extends Pick<RefreshRequest, 'action' | 'force' | 'then' | 'media' | 'parent'> {
  id: string;
  objectType: ObjectType;
  priority: Priority;
  receivedAt: number;
  pathCount: number;
  callbackUrl?: string;
  /** The request whose failed and rejected paths this one queues again (POST /v1/refreshes/:id/retry). */
  retryOf?: string;
}

export interface StoredRequest {
  meta: RequestMeta;
  /** By path, or for a request by media ids by media item key (work-kinds.ts mediaItemKey). */
  paths: Map<string, PathStatus>;
  /** `then: "preload"`: the follow-on preload of each path that has one. */
  followOns?: Map<string, PathStatus>;
  /** Requests that retried some of this one's failed paths, oldest first, with those paths. */
  retriedBy: Retry[];
}

export interface Retry {
  id: string;
  at: number;
  paths: string[];
}

/** Field of a request's hash naming a request that retried it (value: JSON `{at, paths}`). */
export const RETRY_FIELD = 'retry:';

/**
 * Fields of a request's hash written at admission: the paths that went in queued, one a line,
 * and when (epoch ms). A path's own `p:<path>` field exists only once its status changed (or it
 * went in covered by a directory); until then its status is `queued` at `queuedAt`.
 */
const QUEUED_FIELD = 'queued';
const QUEUED_AT_FIELD = 'queuedAt';

const queuedSince = (queuedAt: string | null | undefined): PathStatus => ({
  state: 'queued',
  updatedAt: Number(queuedAt),
});

/** The fields of a request's hash that say one path's status (HMGET them, then `pathStatusFrom`). */
export const pathStatusFields = (path: string): string[] => [`p:${path}`, QUEUED_FIELD, QUEUED_AT_FIELD];

/** A path's status from the HMGET of `pathStatusFields(path)`; undefined when not on the request. */
export function pathStatusFrom(reply: unknown, path: string): PathStatus | undefined {
  const [own, queued, queuedAt] = reply as (string | null)[];
  if (typeof own === 'string') return JSON.parse(own) as PathStatus;
  if (typeof queued !== 'string' || !queued.split('\n').includes(path)) return undefined;
  return queuedSince(queuedAt);
}

/** A request's hash as HGETALL returns it, or undefined when it is gone (or never admitted). */
export function parseStoredRequest(fields: Record<string, string>): StoredRequest | undefined {
  const metaText = fields.meta;
  if (metaText === undefined) return undefined;
  const paths = new Map<string, PathStatus>();
  if (fields[QUEUED_FIELD]) {
    for (const path of fields[QUEUED_FIELD].split('\n'))
      paths.set(path, queuedSince(fields[QUEUED_AT_FIELD]));
  }
  const retries: Retry[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('p:')) paths.set(field.slice(2), JSON.parse(value) as PathStatus);
    else if (field.startsWith(RETRY_FIELD)) {
      const { at, paths: retried } = JSON.parse(value) as Omit<Retry, 'id'>;
      retries.push({ id: field.slice(RETRY_FIELD.length), at, paths: retried });
    }
  }
  retries.sort((a, b) => a.at - b.at);
  return { meta: JSON.parse(metaText) as RequestMeta, paths, retriedBy: retries };
}
