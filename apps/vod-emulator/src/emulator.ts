import type { Express } from 'express';
import type { AccessSnapshot, IssueStsOptions, StsCredential } from './access.js';
import type { Logger } from 'pino';
import type { AccountState } from './account.js';
import { nextDayStart, nextMinuteStart } from './calendar.js';
import type { Clock, ClockSnapshot } from './clock.js';
import type { CallCounts } from './counts.js';
import type { DomainsOption, DomainsSnapshot, DomainState } from './domains.js';
import type { FaultConfig, FaultOptions } from './faults.js';
import { HeldResponses } from './held.js';
import type { MediaJob, MediaRecord, MediaSpec } from './media.js';
import { createLogger } from './logger.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import { remaining, type QuotaLimits, type QuotaRemaining, type QuotaUsage } from './quota.js';
import { createApp } from './server.js';
import { EmulatorState } from './state.js';
import type { PreloadSubmission, Submission } from './submissions.js';
import type { TaskTiming, TaskView } from './tasks.js';

export interface QuotaSnapshot {
  limits: QuotaLimits;
  used: QuotaUsage;
  remaining: QuotaRemaining;
  /** Zone of the quota day, minutes east of UTC (480 = UTC+8). */
  utcOffsetMinutes: number;
  /** When the daily counters next start from zero (emulated time, ISO). */
  nextDayAt: string;
  /** When the per-minute counters next start from zero (emulated time, ISO). */
  nextMinuteAt: string;
}

export interface QuotaPatch {
  limits?: Partial<QuotaLimits>;
  used?: Partial<
    Pick<QuotaUsage, 'urlsToday' | 'dirsToday' | 'urlsThisMinute' | 'dirsThisMinute' | 'preloadsToday'>
  >;
}

export type StoredTask = TaskView & { Domain: string; Listed: boolean };

export interface EmulatorSnapshot {
  clock: ClockSnapshot;
  account: AccountState;
  domains: DomainsSnapshot;
  quota: QuotaSnapshot;
  taskTiming: TaskTiming;
  faults: FaultConfig;
  counts: CallCounts;
  tasksStored: number;
  submissionsLogged: number;
  preloadsLogged: number;
  mediaRegistered: number;
  mediaJobs: number;
  heldResponses: number;
}

export interface Emulator {
  /** The express application: mount it, or pass it to `http.createServer`. */
  readonly app: Express;
  /** All mutable state, for tests that need to look deeper than the methods below. */
  readonly state: EmulatorState;
  /** The emulated clock (also moved by the control API). */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Accepted RefreshVodObjectCaches submissions, oldest first. */
  submissions(): Submission[];
  /** Accepted PreloadVodObjectCaches calls, oldest first. */
  preloads(): PreloadSubmission[];
  /** Registered media and their play URLs. */
  media(): MediaRecord[];
  /** Registers (or replaces) a media and its play URLs; `forbidden` puts it in ForbiddenMediaIds. */
  registerMedia(mediaId: string, spec: MediaSpec): MediaRecord;
  /** Forgets a media: it comes back in NonExistMediaIds. */
  removeMedia(mediaId: string): boolean;
  /** Media refresh jobs made by RefreshMediaPlayUrls, oldest first. */
  mediaJobs(): MediaJob[];
  /** Stored tasks with their status at emulated now, oldest first. */
  tasks(): StoredTask[];
  counts(): CallCounts;
  quota(): QuotaSnapshot;
  setQuota(patch: QuotaPatch): QuotaSnapshot;
  /** Emulated now, epoch ms. */
  now(): number;
  advanceClock(ms: number): ClockSnapshot;
  toNextMinute(): ClockSnapshot;
  /** To 00:00:00.000 of the next quota day (UTC+8 unless configured otherwise). */
  toNextDay(): ClockSnapshot;
  setNow(ms: number): ClockSnapshot;
  freezeClock(atMs?: number): ClockSnapshot;
  unfreezeClock(): ClockSnapshot;
  domains(): DomainsSnapshot;
  setDomainState(domain: string, state: DomainState): void;
  /** The account no longer owns the domain (InvalidDomain.NotFound). */
  removeDomain(domain: string): void;
  /** Replaces the domain list; `undefined` = own every non-wildcard domain. */
  setDomains(domains: DomainsOption | undefined): void;
  account(): AccountState;
  setAccountState(state: AccountState): void;
  /** Issues a temporary credential (AccessKeyId `STS.…`, secret, token) trusted until `ttlMs` from now. */
  issueSts(options: IssueStsOptions): StsCredential;
  /** Replaces the actions `accessKeyId` may not call (answered `Forbidden.RAM`); `[]` allows all again. */
  denyActions(accessKeyId: string, actions: readonly string[]): AccessSnapshot;
  /** STS credentials issued (no secrets) and denied actions. */
  access(): AccessSnapshot;
  /** Real time is shifted by `ms` before the `Timestamp` check: as if clients' clocks were `ms` behind. */
  setTimestampSkew(ms: number): { timestampSkewMs: number };
  faults(): FaultConfig;
  /** Replaces the faults (unset settings = no fault). */
  setFaults(faults: FaultOptions): FaultConfig;
  /** Changes only the given fault settings. */
  updateFaults(patch: FaultOptions): FaultConfig;
  clearFaults(): void;
  taskTiming(): TaskTiming;
  setTaskTiming(patch: Partial<TaskTiming>): TaskTiming;
  snapshot(): EmulatorSnapshot;
  /** Back to the start options: clock, skew, quotas, usage, domains, media, account, STS credentials, denials, faults, tasks, logs, nonces. */
  reset(): void;
  /** Destroys the connections of responses withheld by timeout faults. */
  releaseHeld(): void;
}

/** Everything but the express app: what the control API drives. */
export type EmulatorControls = Omit<Emulator, 'app'>;

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const resolved = resolveOptions(options);
  const state = new EmulatorState(resolved);
  const logger = createLogger(options);
  const held = new HeldResponses();
  const clock = state.clock;

  const quota = (): QuotaSnapshot => {
    const used = state.usage;
    const now = clock.now();
    return {
      limits: { ...state.limits },
      used: { ...used },
      remaining: remaining(state.limits, used),
      utcOffsetMinutes: state.quotaUtcOffsetMinutes,
      nextDayAt: new Date(nextDayStart(now, state.quotaUtcOffsetMinutes)).toISOString(),
      nextMinuteAt: new Date(nextMinuteStart(now)).toISOString(),
    };
  };

  const controls: EmulatorControls = {
    state,
    clock,
    logger,
    submissions: () => state.submissions.list(),
    preloads: () => state.preloads.list(),
    media: () => state.media.list(),
    registerMedia: (mediaId, spec) => structuredClone(state.media.register(mediaId, spec)),
    removeMedia: (mediaId) => state.media.remove(mediaId),
    mediaJobs: () => state.media.allJobs(),
    tasks: () => state.tasks.all(clock.now(), state.timing),
    counts: () => structuredClone(state.counts),
    quota,
    setQuota(patch) {
      if (patch.limits) state.limits = { ...state.limits, ...stripUndefined(patch.limits) };
      if (patch.used) state.usage = { ...state.usage, ...stripUndefined(patch.used) };
      return quota();
    },
    now: () => clock.now(),
    advanceClock(ms) {
      clock.advance(ms);
      return clock.snapshot();
    },
    toNextMinute() {
      clock.toNextMinute();
      return clock.snapshot();
    },
    toNextDay() {
      clock.toNextDay(state.quotaUtcOffsetMinutes);
      return clock.snapshot();
    },
    setNow(ms) {
      clock.set(ms);
      return clock.snapshot();
    },
    freezeClock(atMs) {
      clock.freeze(atMs);
      return clock.snapshot();
    },
    unfreezeClock() {
      clock.unfreeze();
      return clock.snapshot();
    },
    domains: () => state.domains.snapshot(),
    setDomainState: (domain, domainState) => state.domains.set(domain, domainState),
    removeDomain: (domain) => state.domains.remove(domain),
    setDomains: (domains) => state.domains.replace(domains),
    account: () => state.account,
    setAccountState(accountState) {
      state.account = accountState;
    },
    issueSts: (options) => state.access.issueSts(options, clock.wallNow()),
    denyActions(accessKeyId, actions) {
      state.access.setDenied(accessKeyId, actions);
      return state.access.snapshot(clock.wallNow());
    },
    access: () => state.access.snapshot(clock.wallNow()),
    setTimestampSkew(ms) {
      state.timestampSkewMs = ms;
      return { timestampSkewMs: ms };
    },
    faults: () => state.faults.snapshot(),
    setFaults(faults) {
      state.faults.set(stripUndefined(faults));
      return state.faults.snapshot();
    },
    updateFaults(patch) {
      state.faults.update(stripUndefined(patch));
      return state.faults.snapshot();
    },
    clearFaults: () => state.faults.clear(),
    taskTiming: () => ({ ...state.timing }),
    setTaskTiming(patch) {
      state.timing = { ...state.timing, ...stripUndefined(patch) };
      return { ...state.timing };
    },
    snapshot: () => ({
      clock: clock.snapshot(),
      account: state.account,
      domains: state.domains.snapshot(),
      quota: quota(),
      taskTiming: { ...state.timing },
      faults: state.faults.snapshot(),
      counts: structuredClone(state.counts),
      tasksStored: state.tasks.size,
      submissionsLogged: state.submissions.size,
      preloadsLogged: state.preloads.size,
      mediaRegistered: state.media.list().length,
      mediaJobs: state.media.allJobs().length,
      heldResponses: held.size,
    }),
    reset() {
      held.releaseAll();
      state.reset();
    },
    releaseHeld: () => held.releaseAll(),
  };
  const app = createApp(controls, held);
  return { ...controls, app };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
