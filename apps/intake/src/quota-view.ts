import { OBJECT_TYPES, PRIORITIES, type ObjectType, type Priority } from '@refreshq/domain';
import type { PauseState, QuotaEstimates } from '@refreshq/store';
import { type PauseView, pauseView } from './pause-view.js';

interface Budget {
  used: number;
  budget: number;
  left: number;
}

type Hold = { until: string; reason: string } | null;

/** GET /v1/quota: today's quota, the backlog, holds, the breaker and the pause, as one answer. */
export interface QuotaView {
  at: string | null;
  resetsAt: string | null;
  quota: Partial<Record<ObjectType, { day: Budget; minute: Budget; hold: Hold; pressure?: boolean }>>;
  callsHold: Hold;
  backlog: Record<ObjectType, Record<Priority, { paths: number; estimatedSubmitAt: string | null }>>;
  breaker: { open: boolean; code?: string; probeAt?: string };
  pause: PauseView;
}

export interface QuotaInputs {
  /** What the workers published last (every 5 s); undefined when none did lately. */
  estimates: QuotaEstimates | undefined;
  /** Pending paths now, per type and lane. */
  backlog: Record<ObjectType, Record<Priority, number>>;
  breaker: { code: string; remainingMs: number } | undefined;
  pause: PauseState | undefined;
  /** Redis clock. */
  now: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const budget = (used: number, total: number): Budget => ({
  used,
  budget: total,
  left: Math.max(0, total - used),
});
const holdView = (hold: { until: number; reason: string } | undefined, now: number): Hold =>
  hold && hold.until > now ? { until: iso(hold.until), reason: hold.reason } : null;

export function quotaView({ estimates, backlog, breaker, pause, now }: QuotaInputs): QuotaView {
  const state = estimates?.quota;
  // Issue #11's scarcity policy publishes whether a type is under pressure beside the estimates.
  const pressure = (estimates as { pressure?: Partial<Record<ObjectType, boolean>> } | undefined)?.pressure;
  const quota: QuotaView['quota'] = {};
  if (state) {
    for (const type of OBJECT_TYPES) {
      const t = state.byType[type];
      quota[type] = {
        day: budget(t.dayUsed, t.dayBudget),
        minute: budget(t.minuteUsed, t.minuteBudget),
        hold: holdView(t.hold, now),
        ...(typeof pressure?.[type] === 'boolean' ? { pressure: pressure[type] } : {}),
      };
    }
  }
  const lanes = (type: ObjectType) =>
    Object.fromEntries(
      PRIORITIES.map((lane) => {
        const at = estimates?.byType[type]?.[lane]?.estimatedSubmitAt;
        const paths = backlog[type][lane];
        return [lane, { paths, estimatedSubmitAt: paths > 0 && typeof at === 'number' ? iso(at) : null }];
      }),
    ) as Record<Priority, { paths: number; estimatedSubmitAt: string | null }>;
  return {
    at: estimates ? iso(estimates.at) : null,
    resetsAt: state ? iso(state.nextDayStart) : null,
    quota,
    callsHold: holdView(state?.callsHold, now),
    backlog: { File: lanes('File'), Directory: lanes('Directory') },
    breaker: breaker
      ? { open: true, code: breaker.code, probeAt: iso(now + breaker.remainingMs) }
      : { open: false },
    pause: pauseView(pause),
  };
}
