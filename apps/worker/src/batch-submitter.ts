import {
  type CallResult,
  type CallShape,
  type Clock,
  combineSettlements,
  hostOfPoolDomain,
  LOOKED_UP_NOT_FOUND,
  lookupFailed,
  type PathFate,
  type ReactionSettings,
  type Settlement,
  settleCall,
  unitsPerItem,
  type WorkType,
  workKind,
} from '@refreshq/domain';
import type { BatchItem, ClaimedBatch, PathOutcome } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { UpstreamError, type VodClient } from '@refreshq/vod-client';
import { findUncertainTasks, type LookupSettings } from './uncertain-lookup.js';
import { callFor } from './work-calls.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface SubmitterSettings extends ReactionSettings {
  lookup: LookupSettings;
  /** Quota units a media id was granted (MEDIA_PLAY_URLS_PER_ID); default 1. */
  mediaPlayUrlsPerId?: number;
}

/** What one batch came to: an outcome per path it settled, and one settlement for the governor. */
export interface BatchResult {
  outcomes: Map<string, PathOutcome>;
  settlement: Settlement;
}

/**
 * Turns one claimed batch into an outcome per path: submitted with a task id, rejected with an
 * upstream code, or requeued with a delay. Which action a batch's type calls is work-calls.ts';
 * what each upstream answer means is decided by the domain's settleCall; this class makes the
 * calls and carries the decisions out.
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
    const kind = workKind(batch.objectType);
    // A media refresh job cannot be looked up by media id: after a lost answer it goes again.
    const lookable = (item: BatchItem): boolean =>
      item.meta.uncertainSince !== undefined && kind.action !== 'RefreshMediaPlayUrls';
    const uncertain = batch.items.filter(lookable);
    const toSubmit = batch.items
      .filter((item) => !lookable(item))
      .map((item) =>
        item.meta.uncertainSince === undefined
          ? item
          : { ...item, meta: { ...item.meta, uncertainSince: undefined, uncertainUntil: undefined } },
      );
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
        domain: hostOfPoolDomain(batch.domain),
        taskObjectType: workKind(batch.objectType).taskObjectType,
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
    const shape: CallShape = {
      action: workKind(batch.objectType).action,
      unitsPerItem: unitsPerItem(batch.objectType, this.settings.mediaPlayUrlsPerId ?? 1),
    };
    let failure: UpstreamError;
    try {
      const accepted = await callFor(this.vod, batch)(paths);
      this.logger.info(
        {
          batchId: batch.id,
          domain: batch.domain,
          objectType: batch.objectType,
          action: shape.action,
          paths: paths.length,
          upstreamRequestId: accepted.requestId,
        },
        'batch submitted',
      );
      const decision = settleCall(
        { kind: 'accepted', refused: accepted.refused },
        states,
        this.settings,
        shape,
      );
      const fates = decision.split ? [] : decision.fates;
      const taken = items.flatMap((_item, index) => (fates[index]?.kind === 'submitted' ? [index] : []));
      this.submitted(
        batch.objectType,
        taken.map((index) => items[index] as BatchItem),
        taken.map((index) => accepted.taskIds[index] ?? ''),
        calledAt,
        outcomes,
        accepted.requestId,
      );
      this.apply(batch.objectType, items, fates, outcomes, accepted.refusedMessage);
      return [decision.settlement];
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
    const decision = settleCall(result, states, this.settings, shape);
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
    this.apply(batch.objectType, items, decision.fates, outcomes, failure.message, failure.requestId);
    return [decision.settlement];
  }

  /** `calledAt` is when the accepting call started: requests received before it are satisfied by it. */
  private submitted(
    type: WorkType,
    items: BatchItem[],
    taskIds: string[],
    calledAt: number,
    outcomes: Map<string, PathOutcome>,
    /** The accepting call's RequestId (none when an uncertain path was found among the tasks). */
    upstreamRequestId?: string,
  ): void {
    items.forEach((item, index) => {
      outcomes.set(item.path, {
        status: {
          state: 'submitted',
          taskId: taskIds[index] || taskIds[0],
          submittedAt: calledAt,
          ...(upstreamRequestId ? { upstreamRequestId } : {}),
        },
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
    type: WorkType,
    items: BatchItem[],
    fates: readonly PathFate[],
    outcomes: Map<string, PathOutcome>,
    message = '',
    upstreamRequestId?: string,
  ): void {
    items.forEach((item, index) => {
      const fate = fates[index];
      if (!fate || fate.kind === 'submitted') return;
      if (fate.kind === 'rejected') {
        outcomes.set(item.path, {
          status: {
            state: 'rejected',
            error: { code: fate.code, message },
            ...(upstreamRequestId ? { upstreamRequestId } : {}),
          },
        });
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
