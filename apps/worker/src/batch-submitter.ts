import { assignTaskIds, backoffDelay, reactionTo, type ObjectType, type Reaction } from '@refreshq/domain';
import type { BatchItem, CircuitBreaker, ClaimedBatch, PathOutcome } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { UpstreamError, type VodClient } from '@refreshq/vod-client';
import { findTaskSince } from './uncertain-lookup.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface SubmitterSettings {
  breakerProbeMs: number;
  backoff: { baseMs: number; maxMs: number };
}

const THROTTLE_HOLD_MAX_MS = 10_000;

type RequeueReason = 'backoff' | 'hold-minute' | 'hold-day' | 'throttled' | 'retry' | 'breaker' | 'uncertain';

/** What the calls of one batch did with its quota grant, for the governor's settle step. */
export interface CallTally {
  /** Paths whose call was accepted, or may have been (no answer): their units stay spent. */
  spent: number;
  /** Whether any call was accepted. */
  accepted: boolean;
  /** The quota or throttling code the upstream answered with, if any. */
  quotaCode?: string;
  /** The backoff to hold all calls for, after Throttling. */
  backoffMs?: number;
}

/**
 * Turns one claimed batch into an outcome per path: submitted with a task id, rejected with an
 * upstream code, or requeued with a delay. Applies the reaction each upstream code is owed.
 */
export class BatchSubmitter {
  constructor(
    private readonly vod: VodClient,
    private readonly breaker: CircuitBreaker,
    private readonly settings: SubmitterSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  /** `now` gives the time on Redis' clock, which the pool's delays are measured against. */
  async run(
    batch: ClaimedBatch,
    now: () => number,
    outcomes: Map<string, PathOutcome>,
    tally: CallTally = { spent: 0, accepted: false },
  ): Promise<void> {
    const toSubmit: BatchItem[] = [];
    for (const item of batch.items) {
      if (item.meta.uncertainSince === undefined) {
        toSubmit.push(item);
        continue;
      }
      try {
        const taskId = await findTaskSince(
          this.vod,
          item.path,
          batch.objectType,
          item.meta.uncertainSince,
          now(),
        );
        this.metrics.uncertainLookups.inc({ result: taskId ? 'found' : 'not_found' });
        if (taskId) {
          this.submitted(batch.objectType, [item], [taskId], item.meta.uncertainSince, outcomes);
        } else {
          toSubmit.push({ ...item, meta: { ...item.meta, uncertainSince: undefined } });
        }
      } catch (error) {
        this.metrics.uncertainLookups.inc({ result: 'error' });
        this.logger.warn({ err: error, batchId: batch.id }, 'look-up of an uncertain path failed; it waits');
        const backoffs = (item.meta.backoffs ?? 0) + 1;
        this.requeue(
          batch.objectType,
          [item],
          backoffDelay(backoffs, this.settings.backoff),
          'uncertain',
          outcomes,
          { backoffs },
        );
      }
    }
    if (toSubmit.length > 0) await this.submit(batch, toSubmit, now, outcomes, tally);
  }

  private async submit(
    batch: ClaimedBatch,
    items: BatchItem[],
    now: () => number,
    outcomes: Map<string, PathOutcome>,
    tally: CallTally,
  ): Promise<void> {
    const calledAt = now();
    const paths = items.map((item) => item.path);
    try {
      const accepted = await this.vod.refreshObjectCaches(paths, batch.objectType);
      tally.spent += paths.length;
      tally.accepted = true;
      this.submitted(
        batch.objectType,
        items,
        assignTaskIds(paths, accepted.refreshTaskId),
        calledAt,
        outcomes,
      );
      this.logger.info(
        {
          batchId: batch.id,
          domain: batch.domain,
          objectType: batch.objectType,
          paths: paths.length,
          upstreamRequestId: accepted.requestId,
        },
        'batch submitted',
      );
      return;
    } catch (error) {
      const upstream = error instanceof UpstreamError ? error : undefined;
      if (!upstream) throw error;
      const reaction: Reaction =
        upstream.delivery === 'refused'
          ? reactionTo(upstream.code)
          : upstream.delivery === 'not-sent'
            ? { kind: 'backoff' }
            : { kind: 'uncertain' };
      this.logger.warn(
        {
          batchId: batch.id,
          domain: batch.domain,
          objectType: batch.objectType,
          paths: paths.length,
          code: upstream.code,
          reaction: reaction.kind,
          upstreamRequestId: upstream.requestId,
          err: upstream,
        },
        'batch refused or unanswered',
      );
      if (reaction.kind === 'uncertain') tally.spent += paths.length;
      await this.react(batch, items, upstream, reaction, calledAt, now, outcomes, tally);
    }
  }

  private async react(
    batch: ClaimedBatch,
    items: BatchItem[],
    error: UpstreamError,
    reaction: Reaction,
    calledAt: number,
    now: () => number,
    outcomes: Map<string, PathOutcome>,
    tally: CallTally,
  ): Promise<void> {
    const type = batch.objectType;
    const firstItem = items[0] as BatchItem;
    switch (reaction.kind) {
      case 'backoff': {
        const backoffs = (firstItem.meta.backoffs ?? 0) + 1;
        const delay = backoffDelay(backoffs, this.settings.backoff);
        if (error.delivery === 'refused') {
          // Throttling: the governor halves its call rate and holds every call briefly (at most
          // THROTTLE_HOLD_MAX_MS: the pressure is per second, the lower rate does the rest).
          tally.quotaCode = error.code;
          tally.backoffMs = Math.min(THROTTLE_HOLD_MAX_MS, Math.max(delay, this.settings.backoff.baseMs));
          this.requeue(type, items, 0, 'throttled', outcomes, { backoffs, lastCode: error.code });
        } else {
          this.requeue(type, items, delay, 'backoff', outcomes, { backoffs, lastCode: error.code });
        }
        return;
      }
      // Quota refusals spend nothing. The governor holds the type (to the next minute, or the next
      // quota day) on its own clock, so the paths stay eligible and go as soon as it allows.
      case 'hold-minute':
        tally.quotaCode = error.code;
        this.requeue(type, items, 0, 'hold-minute', outcomes, { lastCode: error.code });
        return;
      case 'hold-day':
        tally.quotaCode = error.code;
        this.requeue(type, items, 0, 'hold-day', outcomes, { lastCode: error.code });
        return;
      case 'retry-then-reject': {
        const exhausted = items.filter((item) => item.meta.attempts + 1 >= reaction.maxAttempts);
        const again = items.filter((item) => item.meta.attempts + 1 < reaction.maxAttempts);
        this.rejected(type, exhausted, error, outcomes);
        for (const item of again) {
          this.requeue(type, [item], reaction.delayMs + jitter(reaction.delayMs / 10), 'retry', outcomes, {
            attempts: item.meta.attempts + 1,
            lastCode: error.code,
          });
        }
        return;
      }
      case 'reject':
        if (reaction.alert)
          this.logger.error(
            { code: error.code, batchId: batch.id },
            'upstream says our call was malformed: a bug of ours',
          );
        this.rejected(type, items, error, outcomes);
        return;
      case 'split': {
        if (items.length === 1) {
          this.rejected(type, items, error, outcomes);
          return;
        }
        const middle = Math.ceil(items.length / 2);
        await this.submit(batch, items.slice(0, middle), now, outcomes, tally);
        await this.submit(batch, items.slice(middle), now, outcomes, tally);
        return;
      }
      case 'open-breaker':
        await this.breaker.open(error.code, this.settings.breakerProbeMs);
        this.logger.error(
          { code: error.code, probeInMs: this.settings.breakerProbeMs },
          'account refused all refreshing: submitting stopped, paths kept queued',
        );
        this.requeue(type, items, this.settings.breakerProbeMs, 'breaker', outcomes, {
          lastCode: error.code,
        });
        return;
      case 'uncertain':
        for (const item of items) {
          const backoffs = (item.meta.backoffs ?? 0) + 1;
          this.requeue(type, [item], backoffDelay(backoffs, this.settings.backoff), 'uncertain', outcomes, {
            backoffs,
            uncertainSince: item.meta.uncertainSince ?? calledAt,
            lastCode: error.code,
          });
        }
        return;
    }
  }

  /** `calledAt` is when the accepting call started: requests received before it are satisfied by it. */
  private submitted(
    type: ObjectType,
    items: BatchItem[],
    taskIds: string[],
    calledAt: number,
    outcomes: Map<string, PathOutcome>,
  ): void {
    items.forEach((item, index) => {
      outcomes.set(item.path, {
        status: { state: 'submitted', taskId: taskIds[index] ?? taskIds[0], submittedAt: calledAt },
      });
      if (item.meta.queuedAt !== undefined)
        this.metrics.intakeToSubmit.observe(
          { object_type: type },
          Math.max(0, calledAt - item.meta.queuedAt) / 1000,
        );
    });
    this.metrics.pathsSubmitted.inc({ object_type: type }, items.length);
  }

  private rejected(
    type: ObjectType,
    items: BatchItem[],
    error: UpstreamError,
    outcomes: Map<string, PathOutcome>,
  ): void {
    if (items.length === 0) return;
    for (const item of items) {
      outcomes.set(item.path, {
        status: { state: 'rejected', error: { code: error.code, message: error.message } },
      });
    }
    this.metrics.pathsRejected.inc({ object_type: type, code: error.code }, items.length);
  }

  private requeue(
    type: ObjectType,
    items: BatchItem[],
    delayMs: number,
    reason: RequeueReason,
    outcomes: Map<string, PathOutcome>,
    metaPatch: Partial<BatchItem['meta']>,
  ): void {
    for (const item of items) {
      outcomes.set(item.path, {
        requeue: { delayMs: Math.max(0, Math.round(delayMs)), meta: { ...item.meta, ...metaPatch } },
      });
    }
    this.metrics.pathsRequeued.inc({ object_type: type, reason }, items.length);
  }
}

function jitter(maxMs: number): number {
  return Math.round(Math.random() * maxMs);
}
