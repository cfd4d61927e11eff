import { z } from 'zod';
import { THROTTLING_CODES } from './errors.js';
import { createRng } from './random.js';

/**
 * Fault injection: what to break and how often. `*Rate` is a share of calls (0..1, drawn from a
 * seeded generator so runs repeat); `*Next` breaks the next N calls. At most one fault hits a
 * call; "next N" counters go first (timeout, reset, serverError, throttle), then the rates.
 * `lostAnswer*` hits only calls that succeeded: the effect (submission recorded, quota spent)
 * stays, and the answer is lost (socket destroyed, or never sent).
 */

const share = z.number().min(0).max(1);
const count = z.number().int().min(0);

export const faultOptionsSchema = z
  .object({
    /** Added delay before every answer, ms (real time). */
    latencyMs: z.number().min(0),
    /** Extra random delay 0..latencyJitterMs, ms. */
    latencyJitterMs: z.number().min(0),
    throttleRate: share,
    throttleNext: count,
    throttleCode: z.enum(THROTTLING_CODES),
    /** HTTP status of injected throttling; default: that of the code (Throttling 503). */
    throttleStatus: z.number().int().min(400).max(599).nullable(),
    /** 5xx with a non-JSON (HTML) body. */
    serverErrorRate: share,
    serverErrorNext: count,
    serverErrorStatus: z.number().int().min(500).max(599),
    /** The connection is destroyed without an answer. */
    resetRate: share,
    resetNext: count,
    /** No answer until the client gives up. */
    timeoutRate: share,
    timeoutNext: count,
    /** Accepted, then the answer lost. */
    lostAnswerRate: share,
    lostAnswerNext: count,
    lostAnswerMode: z.enum(['reset', 'timeout']),
    /** Actions the faults apply to; empty = all actions. */
    actions: z.array(z.string()),
    /** Seed of the draws for the `*Rate` settings. */
    seed: z.number().int(),
  })
  .strict();

export type FaultConfig = z.infer<typeof faultOptionsSchema>;
export type FaultOptions = Partial<FaultConfig>;

export const NO_FAULTS: FaultConfig = {
  latencyMs: 0,
  latencyJitterMs: 0,
  throttleRate: 0,
  throttleNext: 0,
  throttleCode: 'Throttling',
  throttleStatus: null,
  serverErrorRate: 0,
  serverErrorNext: 0,
  serverErrorStatus: 502,
  resetRate: 0,
  resetNext: 0,
  timeoutRate: 0,
  timeoutNext: 0,
  lostAnswerRate: 0,
  lostAnswerNext: 0,
  lostAnswerMode: 'reset',
  actions: [],
  seed: 1,
};

export type FaultKind = 'timeout' | 'reset' | 'serverError' | 'throttle';
const KINDS: readonly FaultKind[] = ['timeout', 'reset', 'serverError', 'throttle'];

export class FaultState {
  private config: FaultConfig;
  private rng: () => number;

  constructor(private readonly initial: FaultOptions = {}) {
    this.config = { ...NO_FAULTS, ...initial };
    this.rng = createRng(this.config.seed);
  }

  /** Replaces the settings (unset ones fall back to no fault). */
  set(options: FaultOptions): void {
    this.config = { ...NO_FAULTS, ...options };
    this.rng = createRng(this.config.seed);
  }

  /** Changes only the given settings. */
  update(patch: FaultOptions): void {
    const reseed = patch.seed !== undefined && patch.seed !== this.config.seed;
    this.config = { ...this.config, ...patch };
    if (reseed) this.rng = createRng(this.config.seed);
  }

  clear(): void {
    this.set({});
  }

  reset(): void {
    this.set(this.initial);
  }

  snapshot(): FaultConfig {
    return { ...this.config, actions: [...this.config.actions] };
  }

  applies(action: string): boolean {
    return this.config.actions.length === 0 || this.config.actions.includes(action);
  }

  /** The fault (if any) that hits this call before it is handled. */
  pick(action: string): FaultKind | undefined {
    if (!this.applies(action)) return undefined;
    for (const kind of KINDS) {
      const key = `${kind}Next` as const;
      if (this.config[key] > 0) {
        this.config = { ...this.config, [key]: this.config[key] - 1 };
        return kind;
      }
    }
    const r = this.rng();
    let edge = 0;
    for (const kind of KINDS) {
      edge += this.config[`${kind}Rate`];
      if (r < edge) return kind;
    }
    return undefined;
  }

  /** Whether the answer of this successful call is lost, and how. */
  pickLostAnswer(action: string): 'reset' | 'timeout' | undefined {
    if (!this.applies(action)) return undefined;
    if (this.config.lostAnswerNext > 0) {
      this.config = { ...this.config, lostAnswerNext: this.config.lostAnswerNext - 1 };
      return this.config.lostAnswerMode;
    }
    if (this.config.lostAnswerRate > 0 && this.rng() < this.config.lostAnswerRate)
      return this.config.lostAnswerMode;
    return undefined;
  }

  /** Delay before answering, ms. */
  latency(action: string): number {
    if (!this.applies(action)) return 0;
    const { latencyMs, latencyJitterMs } = this.config;
    return latencyMs + (latencyJitterMs > 0 ? this.rng() * latencyJitterMs : 0);
  }

  get throttle(): { code: FaultConfig['throttleCode']; status: number | null } {
    return { code: this.config.throttleCode, status: this.config.throttleStatus };
  }

  get serverErrorStatus(): number {
    return this.config.serverErrorStatus;
  }
}
