import {
  BUDGET_FAMILIES,
  type BudgetFamily,
  estimateSubmitAt,
  laneDayBudget,
  lanesAtOrAbove,
  PRIORITIES,
  type Priority,
  type ArrivalRate,
  projectedDemand,
  type ScarcityPolicy,
  underPressure,
  updateArrivalRate,
  WORK_TYPES,
  type WorkType,
  workKind,
} from '@refreshq/domain';
import {
  publishEstimates,
  type CircuitBreaker,
  type Keyspace,
  type PendingPool,
  type QuotaEstimates,
  type QuotaGovernor,
  type QuotaState,
  type Redis,
  type RedisClock,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { Periodic } from './periodic.js';
import type { WorkerMetrics } from './worker-metrics.js';

/**
 * Every few seconds: reads the governor's state and the backlog, sets the quota and backlog
 * gauges, and publishes when each lane's backlog will be submitted at the current budgets.
 */
export class QuotaReport {
  private readonly loop: Periodic;
  private readonly rates: Partial<Record<BudgetFamily, ArrivalRate>> = {};
  private directoriesLeftToday = Number.POSITIVE_INFINITY;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
    private readonly governor: QuotaGovernor,
    private readonly pool: PendingPool,
    private readonly highReservePercent: number,
    private readonly breaker: CircuitBreaker,
    /** The coalescing window: a path becomes eligible this long after it was queued. */
    private readonly windowMs: number,
    /** spend-well: the claim step acts on pressure; fifo: pressure is only measured and shown. */
    private readonly policy: ScarcityPolicy,
    /** The pressure forecast: PRESSURE_HORIZON_MS, and how fast the arrival rate forgets. */
    private readonly scarcity: { horizonMs: number; rateHalfLifeMs: number },
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    private readonly everyMs = 5000,
  ) {
    this.loop = new Periodic(everyMs, () => this.once());
  }

  start(): void {
    this.loop.start({ now: true });
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Whether the directory budget has room today, as of the last report (for directory promotion). */
  directoryBudgetAllows(): boolean {
    return this.directoriesLeftToday > 0;
  }

  /**
   * Under pressure, per budget family (File, Directory, Preload): today's demand (what its work
   * types have pending, plus their arrivals at the present rate over the forecast horizon, at
   * most the rest of the quota day) exceeds what the day can still grant. Every work type takes
   * its family's flag, which the claim step reads.
   */
  private async pressure(
    state: QuotaState,
    backlog: Record<WorkType, Record<Priority, number>>,
  ): Promise<Record<BudgetFamily, boolean>> {
    const arrivals = await this.pool.arrivals();
    const horizon = Math.min(this.scarcity.horizonMs, Math.max(0, state.nextDayStart - state.now));
    const pressure = {} as Record<BudgetFamily, boolean>;
    const pendingOf = {} as Record<BudgetFamily, number>;
    for (const family of BUDGET_FAMILIES) {
      const types = WORK_TYPES.filter((type) => workKind(type).budget === family);
      const rate = updateArrivalRate(
        this.rates[family],
        types.reduce((sum, type) => sum + arrivals[type], 0),
        state.now,
        this.scarcity.rateHalfLifeMs,
      );
      this.rates[family] = rate;
      pendingOf[family] = types.reduce(
        (sum, type) => sum + PRIORITIES.reduce((lanes, lane) => lanes + backlog[type][lane], 0),
        0,
      );
      const t = state.byType[family];
      const demand = projectedDemand(pendingOf[family], rate.perSecond, horizon);
      pressure[family] = underPressure({ demand, supply: Math.max(0, t.dayBudget - t.dayUsed) });
      this.metrics.quotaPressure.set({ object_type: family }, pressure[family] ? 1 : 0);
    }
    const flags = Object.fromEntries(WORK_TYPES.map((type) => [type, pressure[workKind(type).budget]]));
    const changed = await this.pool.publishPressure(flags, this.policy === 'spend-well', 3 * this.everyMs);
    for (const family of BUDGET_FAMILIES) {
      const on = changed[family];
      if (on === undefined) continue;
      const t = state.byType[family];
      this.logger.info(
        {
          objectType: family,
          policy: this.policy,
          dayLeft: t.dayBudget - t.dayUsed,
          pending: pendingOf[family],
        },
        on
          ? `under pressure: more ${family} units wanted today than it can grant; ${this.policy === 'spend-well' ? 'first refreshes go first, hot paths wait for their burst to end' : 'SCARCITY_POLICY=fifo: first come, first served'}`
          : `pressure over: today can grant every ${family} unit wanted`,
      );
    }
    return pressure;
  }

  async once(): Promise<QuotaEstimates | undefined> {
    try {
      const [state, backlog] = await Promise.all([this.governor.state(), this.pool.backlog()]);
      this.directoriesLeftToday = state.byType.Directory.dayBudget - state.byType.Directory.dayUsed;
      const byType: QuotaEstimates['byType'] = {};
      // Quota gauges per budget family (File, Directory, Preload); backlog and estimates per pool type.
      for (const family of BUDGET_FAMILIES) {
        const t = state.byType[family];
        for (const window of ['day', 'minute'] as const) {
          this.metrics.quotaUsed.set(
            { object_type: family, window },
            window === 'day' ? t.dayUsed : t.minuteUsed,
          );
          this.metrics.quotaBudget.set(
            { object_type: family, window },
            window === 'day' ? t.dayBudget : t.minuteBudget,
          );
        }
      }
      for (const type of WORK_TYPES) {
        const t = state.byType[workKind(type).budget];
        const holdUntil = Math.max(t.hold?.until ?? 0, state.callsHold?.until ?? 0);
        this.metrics.quotaHoldSeconds.set({ object_type: type }, Math.max(0, holdUntil - state.now) / 1000);
        const lanes = {} as Record<Priority, { backlog: number; estimatedSubmitAt: number | null }>;
        for (const lane of PRIORITIES) {
          const ahead = lanesAtOrAbove(lane).reduce((sum, other) => sum + backlog[type][other], 0);
          const dayBudget = laneDayBudget(t.dayBudget, lane, this.highReservePercent);
          const at = estimateSubmitAt({
            now: state.now,
            ahead,
            minuteBudget: t.minuteBudget,
            minuteLeft: t.minuteBudget - t.minuteUsed,
            dayBudget,
            dayLeft: dayBudget - t.dayUsed,
            nextDayStart: state.nextDayStart,
            ...(holdUntil > 0 ? { holdUntil } : {}),
          });
          lanes[lane] = {
            backlog: backlog[type][lane],
            estimatedSubmitAt: Number.isFinite(at) ? at : null,
          };
          this.metrics.backlog.set({ object_type: type, lane }, backlog[type][lane]);
          this.metrics.backlogDrainSeconds.set(
            { object_type: type, lane },
            Number.isFinite(at) ? Math.max(0, at - state.now) / 1000 : Number.POSITIVE_INFINITY,
          );
        }
        byType[type] = lanes;
      }
      this.metrics.breakerOpen.set((await this.breaker.remainingMs()) > 0 ? 1 : 0);
      const redisNow = this.clock.now();
      for (const type of WORK_TYPES) {
        for (const lane of PRIORITIES) {
          const eligibleAt = await this.pool.oldestEligibleAt(type, lane);
          this.metrics.oldestPendingAge.set(
            { object_type: type, lane },
            eligibleAt === undefined ? 0 : Math.max(0, redisNow - (eligibleAt - this.windowMs)) / 1000,
          );
        }
      }
      const pressure = await this.pressure(state, backlog);
      const estimates: QuotaEstimates = { at: state.now, byType, pressure, quota: state };
      await publishEstimates(this.redis, this.keys, estimates, 3 * this.everyMs);
      return estimates;
    } catch (error) {
      this.logger.warn({ err: error }, 'quota report failed');
      return undefined;
    }
  }
}
