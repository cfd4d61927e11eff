import type { ObjectType, PathError, PathState, PathStatus } from '@refreshq/domain';
import type { Keyspace } from './keyspace.js';
import type { Redis } from './redis-connection.js';
import {
  parseStoredRequest,
  pathStatusFields,
  pathStatusFrom,
  type StoredRequest,
} from './request-record.js';

/** How many of the latest requests a path's look-up lists. */
export const RECENT_REQUESTS_PER_PATH = 20;

export interface LastSubmission {
  requestId: string;
  at: number;
  taskId?: string;
  upstreamRequestId?: string;
  coveredBy?: string;
}

export interface LastCompletion {
  requestId: string;
  state: Extract<PathState, 'complete' | 'failed' | 'rejected'>;
  at: number;
  taskId?: string;
  error?: PathError;
  coveredBy?: string;
}

/** What refreshq remembers of one path, across the requests that asked for it. */
export interface PathHistory {
  objectType: ObjectType;
  path: string;
  /** Newest first: the latest requests that asked for the path and are still kept, with its status on each. */
  requests: { id: string; receivedAt: number; status: PathStatus }[];
  lastSubmission?: LastSubmission;
  lastCompletion?: LastCompletion;
}

export interface RequestPageQuery {
  /** Only requests received at or after this time (epoch ms). */
  since?: number;
  /** Where the previous page stopped. */
  cursor?: RequestCursor;
  limit: number;
  /** Keeps only the requests this accepts (a state filter); the scan still moves on. */
  accept?: (request: StoredRequest) => boolean;
  /** The most requests one page looks at, matching or not, so a rare filter stays cheap. */
  maxScan: number;
}

export interface RequestCursor {
  receivedAt: number;
  id: string;
}

export interface RequestPage {
  requests: StoredRequest[];
  /** Where to go on from; undefined when the list is exhausted. */
  next?: RequestCursor;
}

const CHUNK = 50;

/** Reads of the indexes: the newest-first list of requests, and a path's history. */
export class RequestIndex {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** The latest requests that asked for a path, newest first (lib/request-index.lua writes them). */
  private async recentRequests(objectType: ObjectType, path: string): Promise<[string, number][]> {
    const days = await this.redis.zrevrange(this.keys.pathRequestDays(objectType), 0, -1);
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.hget(this.keys.pathRequestsByDay(objectType, Number(day)), path);
    // Written before the day hashes existed; they expire on their own.
    pipeline.zrevrange(this.keys.pathRequests(objectType, path), 0, -1, 'WITHSCORES');
    const replies = (await pipeline.exec()) ?? [];
    const latest = new Map<string, number>();
    replies.forEach(([error, reply], index) => {
      if (error) throw error;
      if (index < days.length) {
        if (typeof reply !== 'string') return;
        for (const entry of reply.split(' ')) {
          const sep = entry.indexOf(':');
          latest.set(entry.slice(sep + 1), Number(entry.slice(0, sep)));
        }
        return;
      }
      const legacy = reply as string[];
      for (let at = 0; at + 1 < legacy.length; at += 2)
        if (!latest.has(legacy[at] as string)) latest.set(legacy[at] as string, Number(legacy[at + 1]));
    });
    return [...latest]
      .sort(([idA, a], [idB, b]) => b - a || (idB > idA ? 1 : idB < idA ? -1 : 0))
      .slice(0, RECENT_REQUESTS_PER_PATH);
  }

  async path(objectType: ObjectType, path: string): Promise<PathHistory | undefined> {
    const [pairs, record] = await Promise.all([
      this.recentRequests(objectType, path),
      this.redis.hgetall(this.keys.pathRecord(objectType, path)),
    ]);
    const pipeline = this.redis.pipeline();
    for (const [id] of pairs) pipeline.hmget(this.keys.request(id), ...pathStatusFields(path));
    const replies = pairs.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const requests: PathHistory['requests'] = [];
    pairs.forEach(([id, receivedAt], index) => {
      const [error, reply] = replies[index] ?? [];
      if (error) throw error;
      const status = pathStatusFrom(reply, path);
      if (status) requests.push({ id, receivedAt, status });
    });
    if (requests.length === 0 && record.submitted === undefined && record.ended === undefined)
      return undefined;
    return {
      objectType,
      path,
      requests,
      ...(record.submitted ? { lastSubmission: JSON.parse(record.submitted) as LastSubmission } : {}),
      ...(record.ended ? { lastCompletion: JSON.parse(record.ended) as LastCompletion } : {}),
    };
  }

  /**
   * Requests newest first (ties by id, descending), after `cursor`, until `limit` match or
   * `maxScan` were looked at. `next` is set when the page stopped with requests left to look at.
   */
  async page(query: RequestPageQuery): Promise<RequestPage> {
    const max = query.cursor ? String(query.cursor.receivedAt) : '+inf';
    const min = query.since === undefined ? '-inf' : String(query.since);
    const { cursor } = query;
    const requests: StoredRequest[] = [];
    let scanned = 0;
    let offset = 0;
    for (;;) {
      const flat = await this.redis.zrange(
        this.keys.requestIndex,
        max,
        min,
        'BYSCORE',
        'REV',
        'LIMIT',
        offset,
        CHUNK,
        'WITHSCORES',
      );
      const fetched = flat.length / 2;
      offset += fetched;
      const candidates: RequestCursor[] = [];
      for (let index = 0; index + 1 < flat.length; index += 2) {
        const entry = { id: flat[index] as string, receivedAt: Number(flat[index + 1]) };
        // Members of one score come in descending id order: those not below the cursor's id were shown.
        if (cursor && entry.receivedAt === cursor.receivedAt && entry.id >= cursor.id) continue;
        candidates.push(entry);
      }
      const room = query.accept
        ? query.maxScan - scanned
        : Math.min(query.maxScan - scanned, query.limit - requests.length);
      const batch = candidates.slice(0, room);
      const pipeline = this.redis.pipeline();
      for (const entry of batch) pipeline.hgetall(this.keys.request(entry.id));
      const replies = batch.length > 0 ? ((await pipeline.exec()) ?? []) : [];
      for (const [index, entry] of batch.entries()) {
        const [error, fields] = replies[index] ?? [];
        if (error) throw error;
        scanned += 1;
        const stored = parseStoredRequest((fields ?? {}) as Record<string, string>);
        if (stored && (query.accept?.(stored) ?? true)) requests.push(stored);
        const more = index + 1 < candidates.length || fetched === CHUNK;
        if (requests.length >= query.limit || scanned >= query.maxScan)
          return more ? { requests, next: entry } : { requests };
      }
      if (fetched < CHUNK) return { requests };
    }
  }
}
