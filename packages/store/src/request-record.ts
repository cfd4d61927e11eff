import type { ObjectType, PathStatus, Priority } from '@refreshq/domain';

export interface RequestMeta {
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
  paths: Map<string, PathStatus>;
  /** Requests that retried this one's failed paths, oldest first. */
  retriedBy: string[];
}

/** Field of a request's hash naming a request that retried it (value: when). */
export const RETRY_FIELD = 'retry:';

/** A request's hash as HGETALL returns it, or undefined when it is gone (or never admitted). */
export function parseStoredRequest(fields: Record<string, string>): StoredRequest | undefined {
  const metaText = fields.meta;
  if (metaText === undefined) return undefined;
  const paths = new Map<string, PathStatus>();
  const retries: [string, number][] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('p:')) paths.set(field.slice(2), JSON.parse(value) as PathStatus);
    else if (field.startsWith(RETRY_FIELD)) retries.push([field.slice(RETRY_FIELD.length), Number(value)]);
  }
  retries.sort((a, b) => a[1] - b[1]);
  return { meta: JSON.parse(metaText) as RequestMeta, paths, retriedBy: retries.map(([id]) => id) };
}
