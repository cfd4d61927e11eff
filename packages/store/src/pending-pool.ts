import { OBJECT_TYPES, PRIORITIES, type ObjectType, type PathStatus, type Priority } from '@refreshq/domain';
import type { Redis } from 'ioredis';
import type { Keyspace } from './keyspace.js';
import { RedisClock } from './redis-clock.js';
import { claimBatch, finishBatch, renewLease } from './script-calls.js';

/** What the pool remembers of a pending path between attempts. */
export interface PendingMeta {
  domain: string;
  lane: Priority;
  /** Set on a directory that replaced pending files under it (promotion). */
  promoted?: boolean;
  queuedAt?: number;
  /** When a request for this path last arrived (epoch ms, Redis clock). */
  lastSeenAt?: number;
  /** Calls refused with a retry-then-reject code (ServiceBusy, ...) so far. */
  attempts: number;
  /** Consecutive backoffs (throttling, connection trouble), which size the next delay. */
  backoffs?: number;
  /** Set when a call carrying this path may have been accepted without us hearing back (epoch ms). */
  uncertainSince?: number;
  /** When the last such call ended, or its batch was taken back (epoch ms): no task of ours is younger. */
  uncertainUntil?: number;
  lastCode?: string;
}

export interface BatchItem {
  path: string;
  requestIds: string[];
  meta: PendingMeta;
}

export interface ClaimedBatch {
  id: string;
  objectType: ObjectType;
  lane: Priority;
  domain: string;
  claimedAt: number;
  items: BatchItem[];
}

export type RecordedStatus = Omit<PathStatus, 'updatedAt'>;

export type PathOutcome = { status: RecordedStatus } | { requeue: { delayMs: number; meta: PendingMeta } };

export type Claim =
  | { batch: ClaimedBatch }
  | { batch: undefined /** ms until something is ready; -1 when nothing is pending */; retryInMs: number };

export interface PoolSettings {
  /** When a submitted task is first looked at (DescribeVodRefreshTasks). */
  firstPollMs?: number;
  maxFilesPerCall: number;
  maxDirsPerCall: number;
  /** The oldest path of a domain waits this long for company before its batch is cut. */
  windowMs: number;
  /** A path requested again within this long waits for the next batch (0 = never). */
  quietMs: number;
  leaseMs: number;
}

/** How long a path that keeps being requested may be held back by quietMs. */
export const patienceMs = (settings: Pick<PoolSettings, 'windowMs' | 'quietMs'>): number =>
  Math.max(10 * settings.windowMs, 10 * settings.quietMs);

export const maxPerCall = (settings: PoolSettings, objectType: ObjectType): number =>
  objectType === 'Directory' ? settings.maxDirsPerCall : settings.maxFilesPerCall;

/** The shared pool of pending paths: workers claim leased batches from it and finish them. */
export class PendingPool {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
  ) {}

  /**
   * For every object type and lane, in one round trip: ms until a batch may be cut (0: now), or
   * -1 when none is pending. Keyed `<type>:<lane>`.
   */
  async readiness(): Promise<Map<string, number>> {
    const pairs = OBJECT_TYPES.flatMap((type) => PRIORITIES.map((lane) => [type, lane] as const));
    const pipeline = this.redis.pipeline();
    for (const [type, lane] of pairs) pipeline.zrange(this.keys.ready(type, lane), 0, 0, 'WITHSCORES');
    pipeline.time();
    const replies = (await pipeline.exec()) ?? [];
    const [timeError, time] = replies[pairs.length] ?? [];
    if (timeError) throw timeError;
    const nowMs = RedisClock.fromTime(time);
    const readiness = new Map<string, number>();
    pairs.forEach(([type, lane], index) => {
      const [error, head] = replies[index] ?? [];
      if (error) throw error;
      const score = (head as string[] | undefined)?.[1];
      readiness.set(`${type}:${lane}`, score === undefined ? -1 : Math.max(0, Number(score) - nowMs));
    });
    return readiness;
  }

  /** Claims a batch of at most `limit` paths (the quota granted), never more than the per-call maximum. */
  async claim(
    objectType: ObjectType,
    lane: Priority,
    batchId: string,
    settings: PoolSettings,
    limit = Infinity,
  ): Promise<Claim> {
    return claimBatch(this.redis, this.keys, {
      objectType,
      lane,
      batchId,
      maxPerCall: Math.min(limit, maxPerCall(settings, objectType)),
      leaseMs: settings.leaseMs,
      windowMs: settings.windowMs,
      quietMs: settings.quietMs,
      patienceMs: patienceMs(settings),
    });
  }

  /**
   * The holder's heartbeat: the batch's lease runs `leaseMs` from now again. False when the batch
   * is gone (taken back after its lease ran out, or finished): the holder must stop calling for it.
   */
  renew(batchId: string, leaseMs: number): Promise<boolean> {
    return renewLease(this.redis, this.keys, { batchId, leaseMs });
  }

  /** Records outcomes and requeues the rest; paths without an outcome go back as uncertain. */
  async finish(
    batch: ClaimedBatch,
    outcomes: Map<string, PathOutcome>,
    settings: PoolSettings,
  ): Promise<boolean> {
    return this.runFinish(batch.id, outcomes, settings, false);
  }

  /** Puts back the batches whose holders died (lease ran out); returns how many. */
  async reclaimExpired(settings: PoolSettings, limit = 100): Promise<number> {
    const nowMs = await this.clock.read();
    const expired = await this.redis.zrangebyscore(this.keys.inflight, '-inf', nowMs, 'LIMIT', 0, limit);
    let reclaimed = 0;
    for (const batchId of expired) {
      if (await this.runFinish(batchId, new Map(), settings, true)) reclaimed += 1;
    }
    return reclaimed;
  }

  /** Pending paths per object type and lane (covered paths ride with their directory and are not counted). */
  async backlog(): Promise<Record<ObjectType, Record<Priority, number>>> {
    const fields = await this.redis.hgetall(this.keys.backlog);
    const count = (type: ObjectType, lane: Priority) => Math.max(0, Number(fields[`${type}:${lane}`] ?? 0));
    return {
      File: { high: count('File', 'high'), normal: count('File', 'normal'), low: count('File', 'low') },
      Directory: {
        high: count('Directory', 'high'),
        normal: count('Directory', 'normal'),
        low: count('Directory', 'low'),
      },
    };
  }

  /** When the oldest pending path of this type and lane became eligible (Redis clock), if any; parked paths excluded. */
  async oldestEligibleAt(objectType: ObjectType, lane: Priority): Promise<number | undefined> {
    const head = await this.redis.zrangebyscore(
      this.keys.ready(objectType, lane),
      '-inf',
      1e15,
      'WITHSCORES',
      'LIMIT',
      0,
      1,
    );
    return head.length < 2 ? undefined : Number(head[1]);
  }

  async inflightCount(): Promise<number> {
    return this.redis.zcard(this.keys.inflight);
  }

  private runFinish(
    batchId: string,
    outcomes: Map<string, PathOutcome>,
    settings: PoolSettings,
    onlyIfExpired: boolean,
  ): Promise<boolean> {
    return finishBatch(this.redis, this.keys, {
      batchId,
      outcomes,
      windowMs: settings.windowMs,
      maxFilesPerCall: settings.maxFilesPerCall,
      maxDirsPerCall: settings.maxDirsPerCall,
      firstPollMs: settings.firstPollMs ?? 5000,
      onlyIfExpired,
    });
  }
}
