import type { PathStatus } from '../path-status.js';
import { higherLane, type ObjectType, type Priority } from '../refresh-types.js';

/**
 * The pending pool's semantics as plain data: the executable specification of the Lua steps in
 * packages/store/lua (admit-request, claim-batch, finish-batch). Property tests check the
 * invariants here; a differential test replays the same operations on Redis and compares.
 */

export interface PoolLimits {
  maxFilesPerCall: number;
  maxDirsPerCall: number;
  windowMs: number;
  /** A path requested again within this long waits for the next batch (0 = never). */
  quietMs: number;
}

export interface ModelRequest {
  id: string;
  /** When intake received it, on the same clock as a status's submittedAt. */
  receivedAt: number;
  objectType: ObjectType;
  priority: Priority;
  paths: readonly string[];
  domains: readonly string[];
}

export interface ModelItem {
  path: string;
  requestIds: string[];
  lane: Priority;
  queuedAt: number;
  lastSeenAt: number;
  promoted: boolean;
  uncertainSince?: number;
  uncertainUntil?: number;
}

export interface ModelBatch {
  id: string;
  objectType: ObjectType;
  lane: Priority;
  domain: string;
  claimedAt: number;
  items: ModelItem[];
}

export type ModelOutcome = { status: Omit<PathStatus, 'updatedAt'> } | { requeue: { delayMs: number } };

interface Entry {
  path: string;
  kind: ObjectType;
  lane: Priority;
  domain: string;
  eligibleAt: number;
  queuedAt: number;
  lastSeenAt: number;
  promoted: boolean;
  uncertainSince?: number;
  uncertainUntil?: number;
}

/** Eligibility of a path re-requested while an earlier copy is in flight: never, until that batch finishes. */
export const PARKED = 9e15;

/** A directory covers every file whose path starts with it (itself included) and every directory strictly under it. */
export function covers(dir: string, path: string, kind: ObjectType): boolean {
  if (!path.startsWith(dir)) return false;
  return kind === 'File' || path.length > dir.length;
}

/** The directory a file sits in: everything up to the last '/' before any query. */
export function parentDirectory(path: string): string | undefined {
  const bare = path.split('?', 1)[0] ?? '';
  const slash = bare.lastIndexOf('/');
  return slash === -1 ? undefined : bare.slice(0, slash + 1);
}

const key = (kind: ObjectType, path: string): string => `${kind}\u0000${path}`;

export class PendingPoolModel {
  private readonly pending = new Map<string, Entry>();
  private readonly links = new Map<string, Set<string>>();
  private readonly covered = new Map<string, Set<string>>();
  private readonly inflightDirs = new Map<string, Set<string>>();
  private readonly batches = new Map<string, ModelBatch>();
  private readonly inflightPaths = new Set<string>();
  private readonly receivedAt = new Map<string, number>();
  private readonly requests = new Map<string, Pick<ModelRequest, 'objectType' | 'priority' | 'receivedAt'>>();
  readonly statuses = new Map<string, Map<string, Omit<PathStatus, 'updatedAt'>>>();

  constructor(
    private readonly limits: PoolLimits,
    private readonly promoteAt = 0,
  ) {}

  /** Returns false when the request was admitted before. */
  admit(request: ModelRequest, now: number): boolean {
    if (this.statuses.has(request.id)) return false;
    const statuses = new Map<string, Omit<PathStatus, 'updatedAt'>>();
    this.statuses.set(request.id, statuses);
    this.receivedAt.set(request.id, request.receivedAt);
    this.requests.set(request.id, request);
    request.paths.forEach((path, index) => {
      const domain = request.domains[index] as string;
      const dir = this.pend(request.objectType, path, domain, request.priority, [request.id], now);
      statuses.set(path, dir ? { state: 'queued', coveredBy: dir } : { state: 'queued' });
      if (this.promoteAt > 0 && request.objectType === 'File' && !dir) {
        const parent = parentDirectory(path);
        if (parent !== undefined && this.pendingFilesUnder(domain, parent) >= this.promoteAt) {
          this.pend('Directory', parent, domain, request.priority, [], now);
          const entry = this.pending.get(key('Directory', parent));
          if (entry) entry.promoted = true;
        }
      }
    });
    return true;
  }

  claim(kind: ObjectType, lane: Priority, batchId: string, now: number): ModelBatch | undefined {
    const max = this.maxPerCall(kind);
    const byDomain = new Map<string, Entry[]>();
    for (const entry of this.pending.values()) {
      if (entry.kind !== kind || entry.lane !== lane) continue;
      byDomain.set(entry.domain, [...(byDomain.get(entry.domain) ?? []), entry]);
    }
    let chosen: { domain: string; readyAt: number } | undefined;
    for (const [domain, entries] of byDomain) {
      const eligibleSoon = entries.filter((entry) => entry.eligibleAt <= now + this.limits.windowMs).length;
      let readyAt = Math.min(...entries.map((entry) => entry.eligibleAt));
      if (eligibleSoon >= max) readyAt = Math.min(readyAt, now);
      if (!chosen || readyAt < chosen.readyAt || (readyAt === chosen.readyAt && domain < chosen.domain))
        chosen = { domain, readyAt };
    }
    if (!chosen || chosen.readyAt > now) return undefined;
    const candidates = (byDomain.get(chosen.domain) ?? [])
      .filter((entry) => entry.eligibleAt <= now + this.limits.windowMs)
      .sort((a, b) => a.eligibleAt - b.eligibleAt || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .slice(0, max);
    const patience = Math.max(10 * this.limits.windowMs, 10 * this.limits.quietMs);
    const taken = candidates.filter((entry) => {
      const hot = entry.lastSeenAt > now - this.limits.quietMs && entry.queuedAt > now - patience;
      if (hot)
        entry.eligibleAt = Math.max(entry.lastSeenAt + this.limits.quietMs, now + this.limits.windowMs);
      return !hot;
    });
    if (taken.length === 0) return undefined;
    const items = taken.map((entry) => {
      const linkKey = key(kind, entry.path);
      const item: ModelItem = {
        path: entry.path,
        requestIds: [...(this.links.get(linkKey) ?? [])],
        lane: entry.lane,
        queuedAt: entry.queuedAt,
        lastSeenAt: entry.lastSeenAt,
        promoted: entry.promoted,
      };
      if (entry.uncertainSince !== undefined) item.uncertainSince = entry.uncertainSince;
      if (entry.uncertainUntil !== undefined) item.uncertainUntil = entry.uncertainUntil;
      this.links.delete(linkKey);
      this.pending.delete(linkKey);
      this.inflightPaths.add(linkKey);
      if (kind === 'Directory') this.setOf(this.inflightDirs, entry.domain).add(entry.path);
      return item;
    });
    const batch: ModelBatch = {
      id: batchId,
      objectType: kind,
      lane,
      domain: chosen.domain,
      claimedAt: now,
      items,
    };
    this.batches.set(batchId, batch);
    return batch;
  }

  /** Paths without an outcome go back as uncertain. Returns false for an unknown batch. */
  finish(batchId: string, outcomes: ReadonlyMap<string, ModelOutcome>, now: number): boolean {
    const batch = this.batches.get(batchId);
    if (!batch) return false;
    this.batches.delete(batchId);
    const { objectType: kind, domain } = batch;
    for (const item of batch.items) {
      if (kind === 'Directory') this.inflightDirs.get(domain)?.delete(item.path);
      this.inflightPaths.delete(key(kind, item.path));
      const outcome = outcomes.get(item.path);
      this.releaseParked(kind, item.path, outcome, now);
      if (outcome && 'status' in outcome) {
        this.record(item.requestIds, item.path, outcome.status);
        if (kind === 'Directory' && outcome.status.state === 'rejected' && item.promoted) {
          this.giveBack(item.path, domain, now);
        } else if (kind === 'Directory') {
          for (const entry of this.covered.get(item.path) ?? []) {
            const [rid, path] = entry.split('\t') as [string, string];
            this.record([rid], path, { ...outcome.status, coveredBy: item.path });
          }
          this.covered.delete(item.path);
        }
        continue;
      }
      const delay = outcome ? outcome.requeue.delayMs : 0;
      const uncertainSince = outcome ? item.uncertainSince : (item.uncertainSince ?? batch.claimedAt);
      const uncertainUntil = outcome ? item.uncertainUntil : Math.max(item.uncertainUntil ?? now, now);
      const dir = this.coveringDir(domain, item.path, kind);
      if (dir) {
        this.cover(dir, item.requestIds, item.path);
        if (kind === 'Directory' && !this.pending.has(key('Directory', item.path)))
          this.mergeCovered(item.path, dir);
        continue;
      }
      const existing = this.pending.get(key(kind, item.path));
      const entry: Entry = {
        path: item.path,
        kind,
        lane: existing ? higherLane(item.lane, existing.lane) : item.lane,
        domain,
        eligibleAt: Math.max(now + delay, existing?.eligibleAt ?? -Infinity),
        queuedAt: item.queuedAt,
        lastSeenAt: item.lastSeenAt,
        promoted: item.promoted,
      };
      if (uncertainSince !== undefined) entry.uncertainSince = uncertainSince;
      if (uncertainUntil !== undefined) entry.uncertainUntil = uncertainUntil;
      this.pending.set(key(kind, item.path), entry);
      for (const rid of item.requestIds) this.setOf(this.links, key(kind, item.path)).add(rid);
    }
    return true;
  }

  /**
   * A refused promoted directory: what it covered is pending again as it was asked for (or
   * covered by a directory above it), queued again. Directories first, outermost first.
   */
  private giveBack(dir: string, domain: string, now: number): void {
    const entries = [...(this.covered.get(dir) ?? [])]
      .map((entry) => {
        const [rid, path] = entry.split('\t') as [string, string];
        return { rid, path, request: this.requests.get(rid) };
      })
      .filter((entry) => entry.request !== undefined)
      .sort((a, b) => {
        const aDir = a.request?.objectType === 'Directory';
        const bDir = b.request?.objectType === 'Directory';
        if (aDir !== bDir) return aDir ? -1 : 1;
        if (a.path.length !== b.path.length) return a.path.length - b.path.length;
        if (a.path !== b.path) return a.path < b.path ? -1 : 1;
        return a.rid < b.rid ? -1 : a.rid > b.rid ? 1 : 0;
      });
    this.covered.delete(dir);
    for (const { rid, path, request } of entries) {
      const { objectType: kind, priority, receivedAt } = request as NonNullable<typeof request>;
      const above = this.coveringDir(domain, path, kind);
      if (above) {
        this.cover(above, [rid], path);
        this.record([rid], path, { state: 'queued', coveredBy: above });
        continue;
      }
      const linkKey = key(kind, path);
      const existing = this.pending.get(linkKey);
      if (existing) existing.lane = higherLane(priority, existing.lane);
      else {
        const entry: Entry = {
          path,
          kind,
          lane: priority,
          domain,
          eligibleAt: this.inflightPaths.has(linkKey) ? PARKED : now,
          queuedAt: receivedAt,
          lastSeenAt: 0,
          promoted: false,
        };
        this.pending.set(linkKey, entry);
        if (kind === 'Directory') {
          const top = this.absorbUnder(domain, path);
          if (top) entry.lane = higherLane(top, priority);
        }
      }
      this.setOf(this.links, linkKey).add(rid);
      this.record([rid], path, { state: 'queued' });
    }
  }

  /**
   * A copy requested while this path was in flight was parked. Its requests received before the
   * call started are satisfied by the call's success; any later ones make it go, as a fresh request.
   */
  private releaseParked(
    kind: ObjectType,
    path: string,
    outcome: ModelOutcome | undefined,
    now: number,
  ): void {
    const parked = this.pending.get(key(kind, path));
    if (!parked || parked.eligibleAt !== PARKED) return;
    const linkKey = key(kind, path);
    const calledAt =
      outcome && 'status' in outcome && outcome.status.state === 'submitted'
        ? outcome.status.submittedAt
        : undefined;
    if (calledAt !== undefined) {
      for (const rid of [...(this.links.get(linkKey) ?? [])]) {
        const received = this.receivedAt.get(rid);
        if (received !== undefined && received <= calledAt) {
          this.record([rid], path, (outcome as { status: Omit<PathStatus, 'updatedAt'> }).status);
          this.links.get(linkKey)?.delete(rid);
        }
      }
      if ((this.links.get(linkKey)?.size ?? 0) === 0) {
        this.links.delete(linkKey);
        this.pending.delete(linkKey);
        return;
      }
    }
    parked.eligibleAt = now + this.limits.windowMs;
  }

  /** Where each (request, path) pair stands now; the property tests' ledger. */
  whereabouts(): Map<string, 'pending' | 'covered' | 'in-flight' | 'ended'> {
    const places = new Map<string, 'pending' | 'covered' | 'in-flight' | 'ended'>();
    const mark = (rid: string, path: string, place: 'pending' | 'covered' | 'in-flight' | 'ended') => {
      const pair = `${rid}\t${path}`;
      if (places.has(pair)) throw new Error(`${pair} is both ${places.get(pair)} and ${place}`);
      places.set(pair, place);
    };
    for (const [linkKey, rids] of this.links)
      for (const rid of rids) mark(rid, linkKey.split('\u0000')[1] as string, 'pending');
    for (const entries of this.covered.values())
      for (const entry of entries) mark(...(entry.split('\t') as [string, string]), 'covered');
    for (const batch of this.batches.values())
      for (const item of batch.items) for (const rid of item.requestIds) mark(rid, item.path, 'in-flight');
    for (const [rid, paths] of this.statuses) {
      for (const [path, status] of paths) if (status.state !== 'queued') mark(rid, path, 'ended');
    }
    return places;
  }

  /** Pending paths per `<type>:<lane>`. */
  backlog(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of this.pending.values())
      counts[`${entry.kind}:${entry.lane}`] = (counts[`${entry.kind}:${entry.lane}`] ?? 0) + 1;
    return counts;
  }

  inflightBatches(): ModelBatch[] {
    return [...this.batches.values()];
  }

  pendingDirectories(domain: string): string[] {
    return [...this.pending.values()]
      .filter((entry) => entry.kind === 'Directory' && entry.domain === domain)
      .map((entry) => entry.path);
  }

  inflightDirectories(domain: string): string[] {
    return [...(this.inflightDirs.get(domain) ?? [])];
  }

  private pend(
    kind: ObjectType,
    path: string,
    domain: string,
    lane: Priority,
    requestIds: string[],
    now: number,
  ): string | undefined {
    const dir = this.coveringDir(domain, path, kind);
    if (dir) {
      this.cover(dir, requestIds, path);
      return dir;
    }
    for (const rid of requestIds) this.setOf(this.links, key(kind, path)).add(rid);
    const existing = this.pending.get(key(kind, path));
    if (existing) {
      existing.lane = higherLane(lane, existing.lane);
      existing.lastSeenAt = now;
      return undefined;
    }
    const eligibleAt = this.inflightPaths.has(key(kind, path)) ? PARKED : now + this.limits.windowMs;
    const entry: Entry = {
      path,
      kind,
      lane,
      domain,
      eligibleAt,
      queuedAt: now,
      lastSeenAt: now,
      promoted: false,
    };
    this.pending.set(key(kind, path), entry);
    if (kind === 'Directory') {
      const top = this.absorbUnder(domain, path);
      if (top) entry.lane = higherLane(top, lane);
    }
    return undefined;
  }

  private absorbUnder(domain: string, dir: string): Priority | undefined {
    let top: Priority | undefined;
    for (const entry of [...this.pending.values()]) {
      if (entry.domain !== domain || !covers(dir, entry.path, entry.kind)) continue;
      const linkKey = key(entry.kind, entry.path);
      this.cover(dir, [...(this.links.get(linkKey) ?? [])], entry.path);
      this.links.delete(linkKey);
      this.pending.delete(linkKey);
      if (entry.kind === 'Directory' && !this.inflightDirs.get(domain)?.has(entry.path))
        this.mergeCovered(entry.path, dir);
      top = top ? higherLane(entry.lane, top) : entry.lane;
    }
    return top;
  }

  private coveringDir(domain: string, path: string, kind: ObjectType): string | undefined {
    const candidates = [...this.pendingDirectories(domain), ...this.inflightDirectories(domain)];
    return candidates.filter((dir) => covers(dir, path, kind)).sort((a, b) => a.length - b.length)[0];
  }

  private cover(dir: string, requestIds: readonly string[], path: string): void {
    for (const rid of requestIds) this.setOf(this.covered, dir).add(`${rid}\t${path}`);
  }

  private mergeCovered(from: string, into: string): void {
    const entries = this.covered.get(from);
    if (!entries) return;
    for (const entry of entries) this.setOf(this.covered, into).add(entry);
    this.covered.delete(from);
  }

  private record(requestIds: readonly string[], path: string, status: Omit<PathStatus, 'updatedAt'>): void {
    for (const rid of requestIds) this.statuses.get(rid)?.set(path, status);
  }

  private pendingFilesUnder(domain: string, parent: string): number {
    let count = 0;
    for (const entry of this.pending.values())
      if (entry.kind === 'File' && entry.domain === domain && entry.path.startsWith(parent)) count += 1;
    return count;
  }

  private maxPerCall(kind: ObjectType): number {
    return kind === 'Directory' ? this.limits.maxDirsPerCall : this.limits.maxFilesPerCall;
  }

  private setOf<K>(map: Map<K, Set<string>>, mapKey: K): Set<string> {
    let set = map.get(mapKey);
    if (!set) {
      set = new Set();
      map.set(mapKey, set);
    }
    return set;
  }
}
