import { randomUUID } from 'node:crypto';
import {
  type CallAnswer,
  nextQuotaDayStart,
  type ObjectType,
  type Priority,
  quotaDayIndex,
  type Settlement,
} from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import type { RedisClock } from './redis-clock.js';
import { settleQuota, syncQuota, takeQuota } from './script-calls.js';

export interface QuotaBudgets {
  urlsPerDay: number;
  dirsPerDay: number;
  urlsPerMinute: number;
  dirsPerMinute: number;
  callsPerSecond: number;
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
  byType: Record<ObjectType, TypeQuotaState>;
  callsHold?: { until: number; reason: string };
}

const MINUTE = 60_000;

/**
 * The token bucket shared by every worker: per-minute and daily budgets for URLs and for
 * directories, and a calls-per-second cap. All state lives in Redis and changes only through
 * take-quota-9.lua, settle-quota-8.lua and sync-quota-1.lua, on Redis' clock.
 */
export class QuotaGovernor {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
    private readonly budgets: QuotaBudgets,
  ) {}

  take(objectType: ObjectType, lane: Priority, want: number): Promise<Grant | Refusal> {
    return takeQuota(this.redis, this.keys, {
      objectType,
      lane,
      want,
      ticket: randomUUID(),
      dayBudget: this.perDay(objectType),
      minuteBudget: this.perMinute(objectType),
      callsPerSecond: this.budgets.callsPerSecond,
      highReservePercent: this.budgets.highReservePercent,
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /**
   * Returns the units of `grant` the calls did not spend, raises lowered budgets after a success,
   * and puts in force the hold the settlement carries (decided by the domain's reaction table).
   */
  settle(objectType: ObjectType, grant: Grant, settlement: Settlement): Promise<number> {
    return settleQuota(this.redis, this.keys, {
      objectType,
      grant,
      settlement,
      minuteBudget: this.perMinute(objectType),
      callsPerSecond: this.budgets.callsPerSecond,
      utcOffsetMinutes: this.budgets.utcOffsetMinutes,
      clockMode: this.budgets.clockMode,
    });
  }

  /** Folds in DescribeVodRefreshQuota's figures for one type; returns today's units used. */
  sync(objectType: ObjectType, upstreamQuota: number, upstreamRemain: number): Promise<number> {
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
    const byType = {} as Record<ObjectType, TypeQuotaState>;
    for (const type of ['File', 'Directory'] as const) {
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

  private perDay(type: ObjectType): number {
    return type === 'Directory' ? this.budgets.dirsPerDay : this.budgets.urlsPerDay;
  }

  private perMinute(type: ObjectType): number {
    return type === 'Directory' ? this.budgets.dirsPerMinute : this.budgets.urlsPerMinute;
  }
}

/** Tests only: moves the governor's clock (clock mode 'offset') by setting `{ns}:clock-offset`. */
export async function setClockOffset(redis: Redis, keys: Keyspace, offsetMs: number): Promise<void> {
  await redis.set(keys.clockOffset, String(Math.round(offsetMs)));
}
