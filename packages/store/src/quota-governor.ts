import { randomUUID } from 'node:crypto';
import {
  BUDGET_FAMILIES,
  type BudgetFamily,
  type CallAnswer,
  type CallScope,
  nextQuotaDayStart,
  type Priority,
  type QuotaHold,
  quotaDayIndex,
  type Settlement,
  type WorkType,
  workKind,
} from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import type { RedisClock } from './redis-clock.js';
import { adjustQuota, settleQuota, syncQuota, takeQuota } from './script-calls.js';

export interface QuotaBudgets {
  urlsPerDay: number;
  dirsPerDay: number;
  urlsPerMinute: number;
  dirsPerMinute: number;
  /** RefreshVodObjectCaches calls per second. */
  callsPerSecond: number;
  /** PreloadVodObjectCaches' own daily URL budget (VOD default 500) and per-minute budget (undocumented). */
  preloadsPerDay?: number;
  preloadsPerMinute?: number;
  /** PreloadVodObjectCaches calls per second (undocumented: default as RefreshVodObjectCaches'). */
  preloadCallsPerSecond?: number;
  /** RefreshMediaPlayUrls calls per second (documented: 50 per account). */
  mediaCallsPerSecond?: number;
  /** Share of each day's budgets only the `high` lane may use (0 to 100). */
  highReservePercent: number;
  utcOffsetMinutes: number;
  /** 'redis': Redis TIME only (production). 'offset': TIME plus `{ns}:clock-offset`, for tests. */
  clockMode: 'redis' | 'offset';
}

export interface Grant {
  ok: true;
  granted: number;
  ticket: string;
  day: number;
  /** Governor clock at the grant. */
  now: number;
}

export interface Refusal {
  ok: false;
  granted: 0;
  waitMs: number;
  /** Which budget is short: 'calls-per-second', 'minute', 'day', 'day-reserved-for-high', or 'hold:<code>'. */
  short: string;
}

export type { CallAnswer };

export interface TypeQuotaState {
  dayUsed: number;
  dayBudget: number;
  minuteUsed: number;
  minuteBudget: number;
  hold?: { until: number; reason: string };
}

export interface QuotaState {
  now: number;
  nextDayStart: number;
  /** Per budget family: File (URL refresh), Directory, Preload. */
  byType: Record<BudgetFamily, TypeQuotaState>;
  /** A hold on RefreshVodObjectCaches calls (throttling). */
  callsHold?: { until: number; reason: string };
}

const MINUTE = 60_000;
/** VOD's default preload quota (DescribeVodRefreshQuota's PreloadQuota). */
const DEFAULT_PRELOADS_PER_DAY = 500;
/** RefreshMediaPlayUrls: 50 calls per second per account (Alibaba's reference). */
const DEFAULT_MEDIA_CALLS_PER_SECOND = 50;

/**
 * The token bucket shared by every worker: per-minute and daily budgets per budget family (URL
 * refresh, directory refresh, prefetch), and a calls-per-second cap per upstream action. A pool
 * type spends its kind's family and counts against its kind's action (work-kinds.ts): a forced
 * file spends URL units like a plain one, a media refresh URL units, a media prefetch preload
 * units. All state lives in Redis and changes only through take-quota-9.lua, settle-quota-8.lua,
 * sync-quota-1.lua and adjust-quota-1.lua, on Redis' clock.
 */
export class QuotaGovernor {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
    private readonly budgets: QuotaBudgets,
  ) {}

  take(type: WorkType, lane: Priority, want: number): Promise<Grant | Refusal> {
    const { budget, calls } = workKind(type);
    return takeQuota(this.redis, this.keys, {
      objectType: budget,
      scope: calls,
      lane,
      want,
      ticket: randomUUID(),
      dayBudget: this.perDay(budget),
      minuteBudget: this.perMinute(budget),
      callsPerSecond: this.perSecond(calls),
      highReservePercent: this.budgets.highReservePercent,
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /**
   * Returns the units of `grant` the calls did not spend, raises lowered budgets after a success,
   * and puts in force the hold the settlement carries (decided by the domain's reaction table).
   */
  settle(type: WorkType, grant: Grant, settlement: Settlement): Promise<number> {
    const { budget, calls } = workKind(type);
    return settleQuota(this.redis, this.keys, {
      objectType: budget,
      scope: calls,
      grant,
      settlement,
      minuteBudget: this.perMinute(budget),
      callsPerSecond: this.perSecond(calls),
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /**
   * Puts a hold in force outside a call's settlement (a media job that failed for quota, found
   * while following it): a settlement of an empty grant, so nothing is refunded or tuned twice.
   */
  async hold(type: WorkType, hold: QuotaHold): Promise<void> {
    const empty: Grant = { ok: true, granted: 0, ticket: randomUUID(), day: 0, now: 0 };
    await this.settle(type, empty, { spent: 0, answer: 'refused', hold });
  }

  /**
   * Charges (or gives back) today's use of a type's budget by `delta` units: what a media job
   * really submitted beyond (or short of) the estimate its grant reserved. Returns today's use.
   */
  adjust(type: WorkType, delta: number): Promise<number> {
    return adjustQuota(this.redis, this.keys, {
      objectType: workKind(type).budget,
      delta,
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /** Folds in DescribeVodRefreshQuota's figures for one budget family; returns today's units used. */
  sync(objectType: BudgetFamily, upstreamQuota: number, upstreamRemain: number): Promise<number> {
    return syncQuota(this.redis, this.keys, {
      objectType,
      upstreamQuota,
      upstreamRemain,
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /** A read-only view for metrics and estimates (not atomic across types; good enough to show). */
  async state(): Promise<QuotaState> {
    const now = await this.now();
    const day = quotaDayIndex(now, this.budgets.utcOffsetMinutes);
    const byType = {} as Record<BudgetFamily, TypeQuotaState>;
    for (const type of BUDGET_FAMILIES) {
      const [dayUsed, upstream, learned, log, holdFields] = await Promise.all([
        this.redis.get(this.keys.quotaDay(type, day)),
        this.redis.get(this.keys.upstreamDay(type, day)),
        this.redis.get(this.keys.learnedMinute(type)),
        this.redis.zrangebyscore(this.keys.quotaMinute(type), now - MINUTE, '+inf'),
        this.redis.hgetall(this.keys.hold(type)),
      ]);
      const minuteUsed = log.reduce((sum, member) => sum + Number(member.split('|')[1] ?? 0), 0);
      const state: TypeQuotaState = {
        dayUsed: Number(dayUsed ?? 0),
        dayBudget: Math.min(this.perDay(type), upstream === null ? Infinity : Number(upstream)),
        minuteUsed,
        minuteBudget: Math.min(this.perMinute(type), learned === null ? Infinity : Number(learned)),
      };
      if (holdFields.until && Number(holdFields.until) > now)
        state.hold = { until: Number(holdFields.until), reason: holdFields.reason ?? '' };
      byType[type] = state;
    }
    const calls = await this.redis.hgetall(this.keys.callsHold);
    const view: QuotaState = {
      now,
      nextDayStart: nextQuotaDayStart(now, this.budgets.utcOffsetMinutes),
      byType,
    };
    if (calls.until && Number(calls.until) > now)
      view.callsHold = { until: Number(calls.until), reason: calls.reason ?? '' };
    return view;
  }

  /** The governor's clock: Redis' time, plus the test offset in 'offset' mode. */
  async now(): Promise<number> {
    let now = await this.clock.read();
    if (this.budgets.clockMode === 'offset')
      now += Number((await this.redis.get(this.keys.clockOffset)) ?? 0);
    return now;
  }

  private perDay(family: BudgetFamily): number {
    if (family === 'Preload') return this.budgets.preloadsPerDay ?? DEFAULT_PRELOADS_PER_DAY;
    return family === 'Directory' ? this.budgets.dirsPerDay : this.budgets.urlsPerDay;
  }

  private perMinute(family: BudgetFamily): number {
    if (family === 'Preload') return this.budgets.preloadsPerMinute ?? this.perDay('Preload');
    return family === 'Directory' ? this.budgets.dirsPerMinute : this.budgets.urlsPerMinute;
  }

  private perSecond(scope: CallScope): number {
    if (scope === 'preload') return this.budgets.preloadCallsPerSecond ?? this.budgets.callsPerSecond;
    if (scope === 'media') return this.budgets.mediaCallsPerSecond ?? DEFAULT_MEDIA_CALLS_PER_SECOND;
    return this.budgets.callsPerSecond;
  }
}

/** Tests only: moves the governor's clock (clock mode 'offset') by setting `{ns}:clock-offset`. */
export async function setClockOffset(redis: Redis, keys: Keyspace, offsetMs: number): Promise<void> {
  await redis.set(keys.clockOffset, String(Math.round(offsetMs)));
}
