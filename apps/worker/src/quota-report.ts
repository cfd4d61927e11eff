import {
  BUDGET_FAMILIES,
  estimateSubmitAt,
  laneDayBudget,
  lanesAtOrAbove,
  PRIORITIES,
  type Priority,
  WORK_TYPES,
  workKind,
} from '@refreshq/domain';
import {
  publishEstimates,
  type CircuitBreaker,
  type Keyspace,
  type PendingPool,
  type QuotaEstimates,
  type QuotaGovernor,
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
      const estimates: QuotaEstimates = { at: state.now, byType };
      await publishEstimates(this.redis, this.keys, estimates, 3 * this.everyMs);
      return estimates;
    } catch (error) {
      this.logger.warn({ err: error }, 'quota report failed');
      return undefined;
    }
  }
}
