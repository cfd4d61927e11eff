import {
  assignTaskIds,
  type CallResult,
  type Clock,
  combineSettlements,
  LOOKED_UP_NOT_FOUND,
  lookupFailed,
  type ObjectType,
  type PathFate,
  type ReactionSettings,
  type Settlement,
  settleCall,
} from '@refreshq/domain';
import type { BatchItem, ClaimedBatch, PathOutcome } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { UpstreamError, type VodClient } from '@refreshq/vod-client';
import { findUncertainTasks, type LookupSettings } from './uncertain-lookup.js';
import type { WorkerMetrics } from './worker-metrics.js';

export type SubmitterSettings = ReactionSettings & { lookup: LookupSettings };

/** What one batch came to: an outcome per path it settled, and one settlement for the governor. */
export interface BatchResult {
  outcomes: Map<string, PathOutcome>;
  settlement: Settlement;
}

/**
 * Turns one claimed batch into an outcome per path: submitted with a task id, rejected with an
 * upstream code, or requeued with a delay. What each upstream answer means is decided by the
 * domain's settleCall; this class makes the calls and carries the decisions out.
 */
export class BatchSubmitter {
  constructor(
    private readonly vod: VodClient,
    private readonly clock: Clock,
    private readonly settings: SubmitterSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * `lease` aborts when the batch's lease is gone (taken back by another worker): from then on no
   * call is made for it, since its paths are back in the pool.
   */
  async run(batch: ClaimedBatch, lease?: AbortSignal): Promise<BatchResult> {
    const outcomes = new Map<string, PathOutcome>();
    const uncertain = batch.items.filter((item) => item.meta.uncertainSince !== undefined);
    const toSubmit = batch.items.filter((item) => item.meta.uncertainSince === undefined);
    if (uncertain.length > 0 && !lease?.aborted)
      toSubmit.push(...(await this.lookUp(batch, uncertain, outcomes)));
    const settlements =
      toSubmit.length > 0 && !lease?.aborted ? await this.submit(batch, toSubmit, outcomes, lease) : [];
    return { outcomes, settlement: combineSettlements(settlements) };
  }

  /**
   * One look-up for the batch's uncertain paths: those the upstream lists a task for are
   * submitted with it (no quota spent twice); the others are returned, to be submitted now. When
   * the listing stopped short, the paths not found yet wait and are looked up again.
   */
  private async lookUp(
    batch: ClaimedBatch,
    items: BatchItem[],
    outcomes: Map<string, PathOutcome>,
  ): Promise<BatchItem[]> {
    const { found, failure } = await findUncertainTasks(
      this.vod,
      {
        domain: batch.domain,
        objectType: batch.objectType,
        paths: items.map((item) => ({
          path: item.path,
          since: item.meta.uncertainSince as number,
          ...(item.meta.uncertainUntil === undefined ? {} : { until: item.meta.uncertainUntil }),
        })),
        now: this.clock.now(),
      },
      this.settings.lookup,
    );
    const unfound = items.filter((item) => !found.has(item.path));
    for (const item of items) {
      const taskId = found.get(item.path);
      if (!taskId) continue;
      this.metrics.uncertainLookups.inc({ result: 'found' });
      this.submitted(batch.objectType, [item], [taskId], item.meta.uncertainSince as number, outcomes);
    }
    if (failure === undefined) {
      this.metrics.uncertainLookups.inc({ result: 'not_found' }, unfound.length);
      return unfound.map((item) => ({ ...item, meta: { ...item.meta, ...LOOKED_UP_NOT_FOUND } }));
    }
    if (unfound.length > 0) {
      this.metrics.uncertainLookups.inc({ result: 'error' }, unfound.length);
      this.logger.warn(
        { err: failure, batchId: batch.id, paths: unfound.length },
        'look-up of uncertain paths failed; they wait',
      );
      this.apply(
        batch.objectType,
        unfound,
        lookupFailed(
          unfound.map((item) => item.meta),
          this.settings,
        ),
        outcomes,
      );
    }
    return [];
  }

  /** One call (or, for a malformed path, the calls of a bisection); returns each call's settlement. */
  private async submit(
    batch: ClaimedBatch,
    items: BatchItem[],
    outcomes: Map<string, PathOutcome>,
    lease?: AbortSignal,
  ): Promise<Settlement[]> {
    if (lease?.aborted) return [];
    const calledAt = this.clock.now();
    const paths = items.map((item) => item.path);
    const states = items.map((item) => item.meta);
    let failure: UpstreamError;
    try {
      const accepted = await this.vod.refreshObjectCaches(paths, batch.objectType);
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
      this.submitted(
        batch.objectType,
        items,
        assignTaskIds(paths, accepted.refreshTaskId),
        calledAt,
        outcomes,
      );
      return [settleCall({ kind: 'accepted' }, states, this.settings).settlement];
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      failure = error;
    }

    const result: CallResult =
      failure.delivery === 'refused'
        ? { kind: 'refused', code: failure.code }
        : failure.delivery === 'not-sent'
          ? { kind: 'not-sent', code: failure.code }
          : { kind: 'unanswered', code: failure.code, calledAt, endedAt: this.clock.now() };
    const decision = settleCall(result, states, this.settings);
    this.logger.warn(
      {
        batchId: batch.id,
        domain: batch.domain,
        objectType: batch.objectType,
        paths: paths.length,
        code: failure.code,
        reaction: decision.reaction.kind,
        upstreamRequestId: failure.requestId,
        err: failure,
      },
      'batch refused or unanswered',
    );
    if (decision.reaction.kind === 'reject' && decision.reaction.alert)
      this.logger.error(
        { code: failure.code, batchId: batch.id },
        'upstream says our call was malformed: a bug of ours',
      );
    if (decision.split) {
      const middle = Math.ceil(items.length / 2);
      return [
        decision.settlement,
        ...(await this.submit(batch, items.slice(0, middle), outcomes, lease)),
        ...(await this.submit(batch, items.slice(middle), outcomes, lease)),
      ];
    }
    this.apply(batch.objectType, items, decision.fates, outcomes, failure.message);
    return [decision.settlement];
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

  /** Carries out the fates of a refused or unanswered call; `message` is the upstream's, made safe. */
  private apply(
    type: ObjectType,
    items: BatchItem[],
    fates: readonly PathFate[],
    outcomes: Map<string, PathOutcome>,
    message = '',
  ): void {
    items.forEach((item, index) => {
      const fate = fates[index];
      if (!fate || fate.kind === 'submitted') return;
      if (fate.kind === 'rejected') {
        outcomes.set(item.path, { status: { state: 'rejected', error: { code: fate.code, message } } });
        this.metrics.pathsRejected.inc({ object_type: type, code: fate.code });
        return;
      }
      outcomes.set(item.path, {
        requeue: { delayMs: Math.max(0, Math.round(fate.delayMs)), meta: { ...item.meta, ...fate.patch } },
      });
      this.metrics.pathsRequeued.inc({ object_type: type, reason: fate.reason });
    });
  }
}
