import {
  PRIORITIES,
  type PathStatus,
  type Priority,
  WORK_TYPES,
  type WorkType,
  workKind,
} from '@refreshq/domain';
import { type Redis, replicated } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { RedisClock } from './redis-clock.js';
import {
  claimBatch,
  finishBatch,
  type PromotionResult,
  promoteDirectory,
  renewLease,
  setPressure,
} from './script-calls.js';

/** What the pool remembers of a pending path between attempts. */
export interface PendingMeta {
  domain: string;
  lane: Priority;
  /** Set on a directory that replaced pending files under it (promotion). */
  promoted?: boolean;
  /** Why it was promoted, shown as coverReason on the files it covers. */
  promotedReason?: string;
  queuedAt?: number;
  /** Requests seen for it while pending (the scarcity policy's measure of a hot path). */
  hits?: number;
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
  /** The pool type (work-kinds.ts): which action and parameters its call takes. */
  objectType: WorkType;
  lane: Priority;
  domain: string;
  claimedAt: number;
  items: BatchItem[];
}

export type RecordedStatus = Omit<PathStatus, 'updatedAt'>;

export type PathOutcome = { status: RecordedStatus } | { requeue: { delayMs: number; meta: PendingMeta } };

/** `heldRepeats`: paths refreshed today already that waited behind first refreshes (scarcity policy). */
export type Claim =
  | { batch: ClaimedBatch; heldRepeats: number }
  | {
      batch: undefined;
      /** ms until something is ready; -1 when nothing is pending */
      retryInMs: number;
      heldRepeats: number;
    };

export interface PoolSettings {
  /** When a submitted task is first looked at (DescribeVodRefreshTasks). */
  firstPollMs?: number;
  maxFilesPerCall: number;
  maxDirsPerCall: number;
  /** URLs per PreloadVodObjectCaches call (default 100). */
  maxPreloadsPerCall?: number;
  /** Media ids per RefreshMediaPlayUrls call (at most 20, the default). */
  maxMediaPerCall?: number;
  /** The oldest path of a domain waits this long for company before its batch is cut. */
  windowMs: number;
  /** A path requested again within this long waits for the next batch (0 = never). */
  quietMs: number;
  leaseMs: number;
  /** Under pressure, a hot path never needs more quiet than this (HOT_PATH_MAX_QUIET_MS). */
  hotQuietMs?: number;
  /** Under pressure, a hot path is held at most this long after it was queued (HOT_PATH_MAX_HOLD_MS). */
  hotHoldMs?: number;
}

/** How long a path that keeps being requested may be held back by quietMs. */
export const patienceMs = (settings: Pick<PoolSettings, 'windowMs' | 'quietMs'>): number =>
  Math.max(10 * settings.windowMs, 10 * settings.quietMs);

export function maxPerCall(settings: PoolSettings, type: WorkType): number {
  const kind = workKind(type);
  if (kind.action === 'RefreshMediaPlayUrls') return settings.maxMediaPerCall ?? 20;
  if (kind.action === 'PreloadVodObjectCaches') return settings.maxPreloadsPerCall ?? 100;
  return kind.budget === 'Directory' ? settings.maxDirsPerCall : settings.maxFilesPerCall;
}

/** The shared pool of pending paths: workers claim leased batches from it and finish them. */
export class PendingPool {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
  ) {}

  /**
   * For every pool type and lane, in one round trip: ms until a batch may be cut (0: now), or
   * -1 when none is pending. Keyed `<type>:<lane>`.
   */
  async readiness(): Promise<Map<string, number>> {
    const pairs = WORK_TYPES.flatMap((type) => PRIORITIES.map((lane) => [type, lane] as const));
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

  /**
   * Claims a batch of at most `limit` paths (the quota granted), never more than the per-call
   * maximum. A batch comes back once the replicas REDIS_WAIT_REPLICAS asks for hold the claim and
   * the quota taken for it, so that a failover cannot forget units spent upstream; when they do
   * not confirm within REDIS_WAIT_TIMEOUT_MS the batch goes ahead anyway (progress over a lost replica).
   */
  async claim(
    objectType: WorkType,
    lane: Priority,
    batchId: string,
    settings: PoolSettings,
    limit = Infinity,
    /** The quota day of the grant: "refreshed today" means on this day. */
    day = -1,
  ): Promise<Claim> {
    const claim = await claimBatch(this.redis, this.keys, {
      day,
      hotQuietMs: settings.hotQuietMs ?? 120_000,
      hotHoldMs: settings.hotHoldMs ?? 900_000,
      objectType,
      lane,
      batchId,
      maxPerCall: Math.min(limit, maxPerCall(settings, objectType)),
      leaseMs: settings.leaseMs,
      windowMs: settings.windowMs,
      quietMs: settings.quietMs,
      patienceMs: patienceMs(settings),
    });
    if (claim.batch) await replicated(this.redis, this.keys.inflight);
    return claim;
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
    /** The quota day of the batch's grant; submitted paths are marked refreshed on it. */
    day = -1,
  ): Promise<boolean> {
    return this.runFinish(batch.id, outcomes, settings, false, day);
  }

  /** Puts back the batches whose holders died (lease ran out); returns how many. */
  async reclaimExpired(settings: PoolSettings, limit = 100): Promise<number> {
    const nowMs = await this.clock.read();
    const expired = await this.redis.zrangebyscore(this.keys.inflight, '-inf', nowMs, 'LIMIT', 0, limit);
    let reclaimed = 0;
    for (const batchId of expired) {
      if (await this.runFinish(batchId, new Map(), settings, true, -1)) reclaimed += 1;
    }
    return reclaimed;
  }

  /**
   * Takes this round of directory promotion for `holder`, for `ms`, unless another promoter has
   * it: the choice reads the whole pending pool, so one worker a round is enough.
   */
  async takePromotionTurn(holder: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.promotionTurn, holder, 'PX', ms, 'NX')) === 'OK';
  }

  /** Pending items per pool type and lane (covered paths ride with their directory and are not counted). */
  async backlog(): Promise<Record<WorkType, Record<Priority, number>>> {
    const fields = await this.redis.hgetall(this.keys.backlog);
    const count = (type: WorkType, lane: Priority) => Math.max(0, Number(fields[`${type}:${lane}`] ?? 0));
    return Object.fromEntries(
      WORK_TYPES.map((type) => [
        type,
        { high: count(type, 'high'), normal: count(type, 'normal'), low: count(type, 'low') },
      ]),
    ) as Record<WorkType, Record<Priority, number>>;
  }

  /** Items of each type pended anew since the pool began (a counter), for the pressure forecast. */
  async arrivals(): Promise<Record<WorkType, number>> {
    const counts = await this.redis.hmget(this.keys.backlog, ...WORK_TYPES.map((type) => `arrived:${type}`));
    return Object.fromEntries(WORK_TYPES.map((type, index) => [type, Number(counts[index] ?? 0)])) as Record<
      WorkType,
      number
    >;
  }

  /** When the oldest pending path of this type and lane became eligible (Redis clock), if any; parked paths excluded. */
  async oldestEligibleAt(objectType: WorkType, lane: Priority): Promise<number | undefined> {
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

  /**
   * The pending files of every domain that has any (at most `limit`), for choosing directories
   * to promote. Read without a lock: promote-directory re-checks what it acts on.
   */
  async pendingFiles(limit = 50_000): Promise<{ domain: string; path: string }[]> {
    const domains = new Set<string>();
    for (const lane of PRIORITIES) {
      for (const domain of await this.redis.zrange(this.keys.ready('File', lane), 0, -1)) domains.add(domain);
    }
    const files: { domain: string; path: string }[] = [];
    for (const domain of domains) {
      if (files.length >= limit) break;
      const paths = await this.redis.zrange(this.keys.files(domain), 0, limit - files.length - 1);
      for (const path of paths) files.push({ domain, path });
    }
    return files;
  }

  /** Which of `paths` were refreshed (submitted or covered) on quota day `day`. */
  async refreshedOn(objectType: WorkType, day: number, paths: readonly string[]): Promise<boolean[]> {
    const flags: boolean[] = [];
    for (let start = 0; start < paths.length; start += 1000) {
      const chunk = paths.slice(start, start + 1000);
      const replies = await this.redis.smismember(this.keys.refreshed(objectType, day), ...chunk);
      for (const reply of replies) flags.push(reply === 1);
    }
    return flags;
  }

  /** Refreshes `directory` instead of the pending files under it, if a directory unit is free today. */
  promote(
    directory: string,
    domain: string,
    options: { day: number; directoriesPerDay: number; minFiles: number; reason: string },
    settings: PoolSettings,
  ): Promise<PromotionResult> {
    return promoteDirectory(this.redis, this.keys, {
      directory,
      domain,
      ...options,
      windowMs: settings.windowMs,
      maxFilesPerCall: settings.maxFilesPerCall,
      maxDirsPerCall: settings.maxDirsPerCall,
    });
  }

  /**
   * Publishes per type whether it is under pressure, and whether the scarcity policy acts on it
   * (the claim step reads both); returns the types whose pressure changed.
   */
  publishPressure(
    pressure: Record<string, boolean>,
    act: boolean,
    ttlMs: number,
  ): Promise<Record<string, boolean>> {
    return setPressure(this.redis, this.keys, { pressure, act, ttlMs });
  }

  async inflightCount(): Promise<number> {
    return this.redis.zcard(this.keys.inflight);
  }

  private runFinish(
    batchId: string,
    outcomes: Map<string, PathOutcome>,
    settings: PoolSettings,
    onlyIfExpired: boolean,
    day: number,
  ): Promise<boolean> {
    return finishBatch(this.redis, this.keys, {
      day,
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
