import { randomUUID } from 'node:crypto';
import { CLAIM_TYPE_ORDER, PRIORITIES, type Priority, unitsPerItem, type WorkType } from '@refreshq/domain';
import {
  maxPerCall,
  type CircuitBreaker,
  type ClaimedBatch,
  type Grant,
  type PendingPool,
  type PoolSettings,
  type QuotaGovernor,
  type SubmitPause,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { accountErrorFix, type Settlement } from '@refreshq/domain';
import type { BatchSubmitter } from './batch-submitter.js';
import { LeaseHeartbeat } from './lease-heartbeat.js';
import { Periodic } from './periodic.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface DispatcherSettings {
  concurrency: number;
  pool: PoolSettings;
  /** Longest sleep when nothing is ready, so new work is seen soon. */
  idlePollMs: number;
  /** How often this worker looks for batches whose lease ran out (their holder died). */
  reclaimEveryMs: number;
  /** Quota units a media id is granted before its call (MEDIA_PLAY_URLS_PER_ID); default 1. */
  mediaPlayUrlsPerId?: number;
}

/** Lanes high, normal, low; within a lane the kinds in CLAIM_TYPE_ORDER (directories first). */
const CLAIM_ORDER: ReadonlyArray<readonly [Priority, WorkType]> = PRIORITIES.flatMap((lane) =>
  CLAIM_TYPE_ORDER.map((type) => [lane, type] as const),
);

/**
 * Runs `concurrency` loops that claim leased batches from the shared pool and hand them to the
 * submitter, plus a sweep that takes back batches of workers that died. A batch's lease is short
 * (`pool.leaseMs`) and renewed by a heartbeat while this worker works on it, so the batches of a
 * worker that dies are back in the pool about one lease later. stop() lets the batch in hand
 * finish; a kill -9 leaves it to the lease.
 */
export class Dispatcher {
  private running = false;
  private loops: Promise<void>[] = [];
  private wakeups = new Set<() => void>();
  private readonly sweep: Periodic;

  constructor(
    private readonly pool: PendingPool,
    private readonly governor: QuotaGovernor,
    private readonly breaker: CircuitBreaker,
    /** An operator's pause (POST /v1/admin/pause): no batch is claimed while it holds. */
    private readonly pause: Pick<SubmitPause, 'read'>,
    private readonly submitter: BatchSubmitter,
    private readonly settings: DispatcherSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    /** Called after a quota error, so the budgets are re-read from the upstream soon. */
    private readonly onQuotaError: () => void = () => {},
  ) {
    this.sweep = new Periodic(settings.reclaimEveryMs, () => this.reclaim());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let index = 0; index < this.settings.concurrency; index += 1) this.loops.push(this.loop());
    this.sweep.start({ now: true });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.sweep.stop();
    for (const wake of this.wakeups) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Claims and runs at most one batch; returns how long to wait before the next try (0: at once).
   * Nothing while paused or while the breaker is open. For each lane and type in order: is a batch ready, does the governor grant quota for it, then
   * claim at most the granted number of paths and give back what the batch did not use.
   */
  async tick(): Promise<number> {
    const paused = (await this.pause.read()) !== undefined;
    this.metrics.submitPaused.set(paused ? 1 : 0);
    if (paused) return this.settings.idlePollMs;
    const breakerMs = await this.breaker.remainingMs();
    if (breakerMs > 0) return breakerMs;
    let wait = this.settings.idlePollMs;
    const readiness = await this.pool.readiness();
    for (const [lane, type] of CLAIM_ORDER) {
      const readyIn = readiness.get(`${type}:${lane}`) ?? -1;
      if (readyIn !== 0) {
        if (readyIn > 0) wait = Math.min(wait, Math.max(readyIn, 5));
        continue;
      }
      const units = unitsPerItem(type, this.settings.mediaPlayUrlsPerId ?? 1);
      const grant = await this.governor.take(type, lane, maxPerCall(this.settings.pool, type) * units);
      if (!grant.ok) {
        this.metrics.quotaRefusals.inc({
          object_type: type,
          lane,
          budget: grant.short.startsWith('hold:') ? 'hold' : grant.short,
        });
        wait = Math.min(wait, Math.max(grant.waitMs, 5));
        continue;
      }
      const items = Math.floor(grant.granted / units);
      const claim =
        items > 0
          ? await this.pool.claim(type, lane, randomUUID(), this.settings.pool, items, grant.day)
          : { batch: undefined, heldRepeats: 0 };
      if (claim.heldRepeats > 0) this.metrics.repeatsHeld.inc({ object_type: type }, claim.heldRepeats);
      if (!claim.batch) {
        await this.settle(type, grant, { spent: 0, answer: 'unused' });
        continue;
      }
      await this.process(claim.batch, grant);
      return 0;
    }
    return wait;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let wait: number;
      try {
        wait = await this.tick();
      } catch (error) {
        this.logger.error({ err: error }, 'dispatch step failed; retrying shortly');
        wait = 1000;
      }
      if (wait > 0 && this.running) await this.sleep(Math.min(wait, this.settings.idlePollMs));
    }
  }

  /** run → settle → finish: the batch's calls, then its quota and breaker, then its paths. */
  private async process(batch: ClaimedBatch, grant: Grant): Promise<void> {
    this.metrics.batchSize.observe({ object_type: batch.objectType }, batch.items.length);
    const { leaseMs } = this.settings.pool;
    const heartbeat = new LeaseHeartbeat(
      leaseMs,
      () => this.pool.renew(batch.id, leaseMs),
      (error) => this.logger.warn({ err: error, batchId: batch.id }, 'renewing a batch lease failed'),
    ).start();
    const result = await this.submitter.run(batch, heartbeat.signal).catch((error: unknown) => {
      // Paths without an outcome go back as uncertain: a call may have left before the failure.
      this.logger.error(
        { err: error, batchId: batch.id },
        'batch failed unexpectedly; unsettled paths go back as uncertain',
      );
      return { outcomes: new Map(), settlement: { spent: grant.granted, answer: 'uncertain' } as Settlement };
    });
    await heartbeat.stop();
    await this.settle(batch.objectType, grant, result.settlement);
    const finished = await this.pool.finish(batch, result.outcomes, this.settings.pool, grant.day);
    if (!finished)
      this.logger.warn(
        { batchId: batch.id, leaseLost: heartbeat.signal.aborted },
        'batch lease ran out before it finished; another worker took it back (its paths are looked up before going again)',
      );
  }

  /** Carries out a settlement: the governor's refund and hold, the breaker, a quota re-read. */
  private async settle(type: WorkType, grant: Grant, settlement: Settlement): Promise<void> {
    if (settlement.resyncQuota) this.onQuotaError();
    try {
      if (settlement.breaker) {
        const { code, probeMs } = settlement.breaker;
        await this.breaker.open(code, probeMs);
        this.metrics.breakerOpened.inc({ code });
        const fix =
          accountErrorFix(code) ??
          'the VOD service is not activated, or the account is suspended or in arrears: fix it in the Alibaba Cloud console';
        this.logger.error(
          { code, fix, probeInMs: probeMs },
          `upstream refused with ${code}: submitting stopped for every worker, paths kept queued. To fix: ${fix}`,
        );
      }
      await this.governor.settle(type, grant, settlement);
    } catch (error) {
      this.logger.warn(
        { err: error, type },
        'settling quota failed; the unspent units stay counted until the window passes',
      );
    }
  }

  private async reclaim(): Promise<void> {
    try {
      const count = await this.pool.reclaimExpired(this.settings.pool);
      if (count > 0) {
        this.metrics.batchesReclaimed.inc(count);
        this.logger.warn({ count }, 'took back batches whose worker stopped answering');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'reclaiming expired batches failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeups.add(done);
    });
  }
}
