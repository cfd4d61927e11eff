import { AccessRegistry } from './access.js';
import type { AccountState } from './account.js';
import { Clock } from './clock.js';
import { emptyCounts, type CallCounts } from './counts.js';
import { DomainRegistry } from './domains.js';
import { FaultState } from './faults.js';
import { MediaStore } from './media.js';
import { NonceStore } from './nonces.js';
import type { ResolvedOptions } from './options.js';
import { freshUsage, rollUsage, type QuotaLimits, type QuotaUsage } from './quota.js';
import { EMPTY_RATE_WINDOW, type RateWindow } from './rate-limit.js';
import { type PreloadSubmission, SubmissionLog } from './submissions.js';
import { initialTaskIdState, type TaskIdState } from './task-ids.js';
import { TaskStore, type TaskTiming } from './tasks.js';

/** Everything the emulator remembers, in one place, with a reset to the start settings. */
export class EmulatorState {
  readonly clock: Clock;
  /** Key pairs, STS credentials and denied actions. */
  readonly access: AccessRegistry;
  readonly nonces: NonceStore;
  readonly domains: DomainRegistry;
  readonly tasks = new TaskStore();
  readonly submissions = new SubmissionLog();
  readonly preloads = new SubmissionLog<PreloadSubmission>();
  /** Media and their play URLs (registered through the control API), and media refresh jobs. */
  readonly media: MediaStore;
  readonly faults: FaultState;
  readonly quotaUtcOffsetMinutes: number;
  readonly timestampToleranceMs: number;
  /** Added to real time before a request's Timestamp is checked: as if the client's clock were this far behind. */
  timestampSkewMs: number;
  account: AccountState;
  limits: QuotaLimits;
  timing: TaskTiming;
  private quotaUsage: QuotaUsage;
  /** Admitted calls in the current second, by rate group (an action name). */
  rateWindows = new Map<string, RateWindow>();
  taskIds: TaskIdState;
  counts: CallCounts = emptyCounts();

  constructor(private readonly options: ResolvedOptions) {
    this.clock = new Clock(options.wallClock, options.clockOffsetMs);
    if (options.frozenAt !== undefined) this.clock.freeze(options.frozenAt);
    this.access = new AccessRegistry(options.credentials);
    // A request is valid for ±tolerance around its Timestamp, so its nonce must be kept twice that.
    this.nonces = new NonceStore(2 * options.timestampToleranceMs);
    this.domains = new DomainRegistry(options.domains);
    this.media = new MediaStore(options.media);
    this.faults = new FaultState(options.faults);
    this.quotaUtcOffsetMinutes = options.quotaUtcOffsetMinutes;
    this.timestampToleranceMs = options.timestampToleranceMs;
    this.timestampSkewMs = options.timestampSkewMs;
    this.account = options.account;
    this.limits = { ...options.quotas };
    this.timing = { ...options.tasks };
    this.quotaUsage = freshUsage(this.clock.now(), this.quotaUtcOffsetMinutes);
    this.taskIds = initialTaskIdState(options.firstTaskId);
  }

  /** Quota usage as of emulated now (past days and minutes rolled over). */
  get usage(): QuotaUsage {
    this.quotaUsage = rollUsage(this.quotaUsage, this.clock.now(), this.quotaUtcOffsetMinutes);
    return this.quotaUsage;
  }

  set usage(value: QuotaUsage) {
    this.quotaUsage = value;
  }

  rateWindow(group: string): RateWindow {
    return this.rateWindows.get(group) ?? EMPTY_RATE_WINDOW;
  }

  /** Back to the start settings: clock and skew, quotas and usage, domains, media, account, STS credentials and denials, faults, tasks, logs. */
  reset(): void {
    const o = this.options;
    this.clock.reset(o.clockOffsetMs, o.frozenAt);
    this.nonces.clear();
    this.access.clear();
    this.timestampSkewMs = o.timestampSkewMs;
    this.domains.reset();
    this.faults.reset();
    this.tasks.clear();
    this.submissions.clear();
    this.preloads.clear();
    this.media.reset();
    this.account = o.account;
    this.limits = { ...o.quotas };
    this.timing = { ...o.tasks };
    this.quotaUsage = freshUsage(this.clock.now(), this.quotaUtcOffsetMinutes);
    this.rateWindows.clear();
    this.taskIds = initialTaskIdState(o.firstTaskId);
    this.counts = emptyCounts();
  }
}
