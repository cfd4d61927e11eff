import { randomUUID } from 'node:crypto';
import type { ObjectType, Priority } from '@refreshq/domain';
import type { Redis } from 'ioredis';
import type { Keyspace } from './keyspace.js';
import { runScript } from './lua-scripts.js';
import type { RedisClock } from './redis-clock.js';

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

/** How a granted call ended, for the refund and for tuning. */
export type CallAnswer = 'success' | 'refused' | 'unused' | 'uncertain';

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
const DAY = 86_400_000;

/**
 * The token bucket shared by every worker: per-minute and daily budgets for URLs and for
 * directories, and a calls-per-second cap. All state lives in Redis and changes only through
 * take-quota.lua, settle-quota.lua and sync-quota.lua, on Redis' clock.
 */
export class QuotaGovernor {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
    private readonly budgets: QuotaBudgets,
  ) {}

  async take(objectType: ObjectType, lane: Priority, want: number): Promise<Grant | Refusal> {
    const ticket = randomUUID();
    const reply = (await runScript(
      this.redis,
      'takeQuota',
      [],
      [
        this.keys.prefix,
        objectType,
        lane,
        want,
        ticket,
        this.perDay(objectType),
        this.perMinute(objectType),
        this.budgets.callsPerSecond,
        this.budgets.highReservePercent,
        this.budgets.utcOffsetMinutes,
        this.budgets.clockMode,
      ],
    )) as [number, number, number | string];
    const granted = Number(reply[0]);
    if (granted === 0) return { ok: false, granted: 0, waitMs: Number(reply[1]), short: String(reply[2]) };
    return { ok: true, granted, ticket, day: Number(reply[1]), now: Number(reply[2]) };
  }

  /** Returns the units of `grant` not `spent`, and tunes the governor from the upstream's answer. */
  async settle(
    objectType: ObjectType,
    grant: Grant,
    spent: number,
    answer: CallAnswer,
    code = '',
    backoffMs = 1000,
  ): Promise<number> {
    const reply = await runScript(
      this.redis,
      'settleQuota',
      [],
      [
        this.keys.prefix,
        objectType,
        grant.ticket,
        grant.granted,
        grant.day,
        Math.min(spent, grant.granted),
        answer,
        code,
        this.perMinute(objectType),
        this.budgets.callsPerSecond,
        this.budgets.utcOffsetMinutes,
        this.budgets.clockMode,
        Math.max(1, Math.round(backoffMs)),
      ],
    );
    return Number(reply);
  }

  /** Folds in DescribeVodRefreshQuota's figures for one type; returns today's units used. */
  async sync(objectType: ObjectType, upstreamQuota: number, upstreamRemain: number): Promise<number> {
    return Number(
      await runScript(
        this.redis,
        'syncQuota',
        [],
        [
          this.keys.prefix,
          objectType,
          upstreamQuota,
          upstreamRemain,
          this.budgets.utcOffsetMinutes,
          this.budgets.clockMode,
        ],
      ),
    );
  }

  /** A read-only view for metrics and estimates (not atomic across types; good enough to show). */
  async state(): Promise<QuotaState> {
    const now = await this.now();
    const shift = this.budgets.utcOffsetMinutes * MINUTE;
    const day = Math.floor((now + shift) / DAY);
    const byType = {} as Record<ObjectType, TypeQuotaState>;
    for (const type of ['File', 'Directory'] as const) {
      const p = this.keys.prefix;
      const [dayUsed, upstream, learned, log, holdFields] = await Promise.all([
        this.redis.get(`${p}quota:day:${type}:${day}`),
        this.redis.get(`${p}quota:upstream:${type}:${day}`),
        this.redis.get(`${p}quota:learned-minute:${type}`),
        this.redis.zrangebyscore(`${p}quota:minute:${type}`, now - MINUTE, '+inf'),
        this.redis.hgetall(`${p}quota:hold:${type}`),
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
    const calls = await this.redis.hgetall(`${this.keys.prefix}quota:hold:calls`);
    const view: QuotaState = { now, nextDayStart: (day + 1) * DAY - shift, byType };
    if (calls.until && Number(calls.until) > now)
      view.callsHold = { until: Number(calls.until), reason: calls.reason ?? '' };
    return view;
  }

  /** The governor's clock: Redis' time, plus the test offset in 'offset' mode. */
  async now(): Promise<number> {
    let now = await this.clock.read();
    if (this.budgets.clockMode === 'offset')
      now += Number((await this.redis.get(`${this.keys.prefix}clock-offset`)) ?? 0);
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
  await redis.set(`${keys.prefix}clock-offset`, String(Math.round(offsetMs)));
}
