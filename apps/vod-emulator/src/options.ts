import type { Logger } from 'pino';
import type { AccountState } from './account.js';
import { DEFAULT_QUOTA_UTC_OFFSET_MINUTES, MINUTE_MS } from './calendar.js';
import type { DomainsOption } from './domains.js';
import type { FaultOptions } from './faults.js';
import type { MediaSpec } from './media.js';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from './quota.js';
import { DEFAULT_TASK_TIMING, type TaskTiming } from './tasks.js';

/** The development key pair trusted when no credentials are configured. Public; not a secret. */
export const DEV_ACCESS_KEY_ID = 'LTAIrefreshqDevKey0001';
export const DEV_ACCESS_KEY_SECRET = 'refreshq-dev-secret-not-for-production';

export interface Credential {
  accessKeyId: string;
  accessKeySecret: string;
}

export type QuotaOptions = Partial<QuotaLimits>;
export type TaskTimingOptions = Partial<TaskTiming>;

export interface EmulatorOptions {
  /** Trusted key pairs (all belong to one emulated account). Default: the dev pair. */
  credentials?: readonly Credential[];
  /** Owned domains: names (online) or name → state. Default (undefined): every non-wildcard domain, online. */
  domains?: DomainsOption;
  /** Account state. Default `active`. */
  account?: AccountState;
  /** Media registered from the start (id → play URLs); the control API adds more. */
  media?: Readonly<Record<string, MediaSpec>>;
  /** Quotas and limits; see `DEFAULT_QUOTA_LIMITS`. */
  quotas?: QuotaOptions;
  /** Zone of the quota day, minutes east of UTC. Default 480 (UTC+8, as Alibaba). */
  quotaUtcOffsetMinutes?: number;
  /** Task timing and failure share; see `DEFAULT_TASK_TIMING`. */
  tasks?: TaskTimingOptions;
  /** Faults active from the start. */
  faults?: FaultOptions;
  /** Emulated time = wall time + this offset. Default 0. */
  clockOffsetMs?: number;
  /** Start with the emulated clock frozen at this instant. */
  frozenAt?: number | string | Date;
  /** Real time source. Default `Date.now`. */
  wallClock?: () => number;
  /** How far a request's `Timestamp` may be from real time. Default 15 minutes (Alibaba's). */
  timestampToleranceMs?: number;
  /** Added to real time before the `Timestamp` check: as if clients' clocks were this far behind. Default 0. */
  timestampSkewMs?: number;
  /** First task id. Default 70000000001. */
  firstTaskId?: number;
  /** A pino logger for request lines; default: a new pino logger on stdout. */
  logger?: Logger;
  /** No logging at all (ignored when `logger` is given). */
  silent?: boolean;
  /** Level of the default logger. Default `info`. */
  logLevel?: string;
}

export interface ResolvedOptions {
  credentials: Credential[];
  usesDevCredentials: boolean;
  domains: DomainsOption | undefined;
  media: Readonly<Record<string, MediaSpec>>;
  account: AccountState;
  quotas: QuotaLimits;
  quotaUtcOffsetMinutes: number;
  tasks: TaskTiming;
  faults: FaultOptions;
  clockOffsetMs: number;
  frozenAt: number | undefined;
  wallClock: () => number;
  timestampToleranceMs: number;
  timestampSkewMs: number;
  firstTaskId: number;
}

function toMs(value: number | string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new Error(`frozenAt is not a valid time: ${String(value)}`);
  return ms;
}

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const configured = options.credentials ?? [];
  const credentials =
    configured.length > 0
      ? configured.map((c) => ({ ...c }))
      : [{ accessKeyId: DEV_ACCESS_KEY_ID, accessKeySecret: DEV_ACCESS_KEY_SECRET }];
  return {
    credentials,
    usesDevCredentials: configured.length === 0,
    domains: options.domains,
    media: options.media ?? {},
    account: options.account ?? 'active',
    quotas: { ...DEFAULT_QUOTA_LIMITS, ...stripUndefined(options.quotas ?? {}) },
    quotaUtcOffsetMinutes: options.quotaUtcOffsetMinutes ?? DEFAULT_QUOTA_UTC_OFFSET_MINUTES,
    tasks: { ...DEFAULT_TASK_TIMING, ...stripUndefined(options.tasks ?? {}) },
    faults: stripUndefined(options.faults ?? {}),
    clockOffsetMs: options.clockOffsetMs ?? 0,
    frozenAt: toMs(options.frozenAt),
    wallClock: options.wallClock ?? Date.now,
    timestampToleranceMs: options.timestampToleranceMs ?? 15 * MINUTE_MS,
    timestampSkewMs: options.timestampSkewMs ?? 0,
    firstTaskId: options.firstTaskId ?? 70_000_000_001,
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
