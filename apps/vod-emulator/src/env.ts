import { z } from 'zod';
import { ACCOUNT_STATES } from './account.js';
import { parseUtcOffset } from './calendar.js';
import { DOMAIN_STATES, type DomainState } from './domains.js';
import { THROTTLING_CODES } from './errors.js';
import type { FaultOptions } from './faults.js';
import type { EmulatorOptions } from './options.js';

/**
 * The emulator process's environment, read once and validated. A bad value stops the process
 * with a message naming the variable and what is allowed. Empty values count as unset.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const trimmed = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  return t === '' ? undefined : t;
};

function int(min: number, max: number, fallback: number) {
  const allowed = `a whole number from ${min} to ${max}`;
  return z
    .preprocess(
      trimmed,
      z
        .string()
        .regex(/^-?\d+$/, `must be ${allowed}`)
        .transform(Number)
        .refine((n) => n >= min && n <= max, `must be ${allowed}`)
        .optional(),
    )
    .transform((v) => v ?? fallback);
}

/** A limit that may be switched off: `off` (or unset) = no limit. */
function limitOrOff(fallback: number | null) {
  const allowed = `"off" or a whole number from 0 to 1000000000`;
  return z
    .preprocess(
      trimmed,
      z
        .string()
        .regex(/^(off|\d+)$/i, `must be ${allowed}`)
        .transform((s) => (s.toLowerCase() === 'off' ? null : Number(s)))
        .refine((n) => n === null || n <= 1_000_000_000, `must be ${allowed}`)
        .optional(),
    )
    .transform((v) => (v === undefined ? fallback : v));
}

function share() {
  return z
    .preprocess(
      trimmed,
      z
        .string()
        .regex(/^(0|1|0?\.\d+|1\.0*)$/, 'must be a share from 0 to 1, e.g. 0.25')
        .transform(Number)
        .optional(),
    )
    .transform((v) => v ?? 0);
}

function oneOf<T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z
    .preprocess(trimmed, z.enum(values, { error: `must be one of: ${values.join(', ')}` }).optional())
    .transform((v) => v ?? fallback);
}

const optionalText = z.preprocess(trimmed, z.string().optional());

const domainList = z.preprocess(
  trimmed,
  z
    .string()
    .transform((text, ctx) => {
      const out: Record<string, DomainState> = {};
      for (const item of text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const [name = '', state = 'online', ...extra] = item.split('=').map((s) => s.trim());
        if (name === '' || extra.length > 0 || !(DOMAIN_STATES as readonly string[]).includes(state)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${item}" is not "domain" or "domain=state" (states: ${DOMAIN_STATES.join(', ')})`,
          });
          return z.NEVER;
        }
        out[name.toLowerCase()] = state as DomainState;
      }
      return out;
    })
    .optional(),
);

const utcOffset = z.preprocess(
  trimmed,
  z
    .string()
    .transform((text, ctx) => {
      const minutes = parseUtcOffset(text);
      if (minutes === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a UTC offset like +08:00 or -05:30' });
        return z.NEVER;
      }
      return minutes;
    })
    .optional(),
);

const actionList = z.preprocess(
  trimmed,
  z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .optional(),
);

export const envSchema = z
  .object({
    EMULATOR_PORT: int(0, 65535, 9300),
    EMULATOR_HOST: z.preprocess(trimmed, z.string().optional()).transform((v) => v ?? '127.0.0.1'),
    ALIBABA_CLOUD_ACCESS_KEY_ID: optionalText,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalText,
    EMULATOR_DOMAINS: domainList,
    EMULATOR_ACCOUNT_STATE: oneOf(ACCOUNT_STATES, 'active'),
    EMULATOR_URLS_PER_DAY: int(0, 1_000_000_000, 2000),
    EMULATOR_DIRS_PER_DAY: int(0, 1_000_000_000, 100),
    EMULATOR_URLS_PER_MINUTE: limitOrOff(null),
    EMULATOR_DIRS_PER_MINUTE: limitOrOff(null),
    EMULATOR_MAX_URLS_PER_CALL: int(1, 1_000_000, 1000),
    EMULATOR_MAX_DIRS_PER_CALL: int(1, 1_000_000, 100),
    EMULATOR_CALLS_PER_SECOND: limitOrOff(null),
    EMULATOR_DESCRIBE_CALLS_PER_SECOND: limitOrOff(null),
    EMULATOR_PRELOAD_PER_DAY: int(0, 1_000_000_000, 500),
    EMULATOR_BLOCK_PER_DAY: int(0, 1_000_000_000, 500),
    EMULATOR_MAX_PRELOADS_PER_CALL: int(1, 1_000_000, 1000),
    EMULATOR_PRELOAD_QUEUE_LIMIT: limitOrOff(null),
    EMULATOR_PRELOAD_CALLS_PER_SECOND: limitOrOff(null),
    EMULATOR_MEDIA_CALLS_PER_SECOND: limitOrOff(50),
    EMULATOR_MEDIA_JOB_CALLS_PER_SECOND: limitOrOff(50),
    EMULATOR_MEDIA_SUBMIT_MS: int(0, 86_400_000, 500),
    EMULATOR_QUOTA_UTC_OFFSET: utcOffset.transform((v) => v ?? 480),
    EMULATOR_TASK_PENDING_MS: int(0, 86_400_000, 1000),
    EMULATOR_TASK_COMPLETE_AFTER_MS: int(0, 86_400_000, 5000),
    EMULATOR_TASK_FAILURE_RATE: share(),
    EMULATOR_TASK_UNLISTED_RATE: share(),
    EMULATOR_SEED: int(-2_147_483_648, 2_147_483_647, 1),
    EMULATOR_CLOCK_OFFSET_MS: int(-1e12, 1e12, 0),
    EMULATOR_TIMESTAMP_TOLERANCE_MS: int(0, 86_400_000, 900_000),
    EMULATOR_TIMESTAMP_SKEW_MS: int(-86_400_000, 86_400_000, 0),
    EMULATOR_FAULT_LATENCY_MS: int(0, 600_000, 0),
    EMULATOR_FAULT_LATENCY_JITTER_MS: int(0, 600_000, 0),
    EMULATOR_FAULT_THROTTLE_RATE: share(),
    EMULATOR_FAULT_THROTTLE_NEXT: int(0, 1_000_000_000, 0),
    EMULATOR_FAULT_THROTTLE_CODE: oneOf(THROTTLING_CODES, 'Throttling'),
    EMULATOR_FAULT_THROTTLE_STATUS: z
      .preprocess(
        trimmed,
        z
          .string()
          .regex(/^(4|5)\d\d$/, 'must be an HTTP status from 400 to 599')
          .transform(Number)
          .optional(),
      )
      .transform((v) => v ?? null),
    EMULATOR_FAULT_SERVER_ERROR_RATE: share(),
    EMULATOR_FAULT_SERVER_ERROR_NEXT: int(0, 1_000_000_000, 0),
    EMULATOR_FAULT_SERVER_ERROR_STATUS: int(500, 599, 502),
    EMULATOR_FAULT_RESET_RATE: share(),
    EMULATOR_FAULT_RESET_NEXT: int(0, 1_000_000_000, 0),
    EMULATOR_FAULT_TIMEOUT_RATE: share(),
    EMULATOR_FAULT_TIMEOUT_NEXT: int(0, 1_000_000_000, 0),
    EMULATOR_FAULT_LOST_ANSWER_RATE: share(),
    EMULATOR_FAULT_LOST_ANSWER_NEXT: int(0, 1_000_000_000, 0),
    EMULATOR_FAULT_LOST_ANSWER_MODE: oneOf(['reset', 'timeout'] as const, 'reset'),
    EMULATOR_FAULT_ACTIONS: actionList,
    EMULATOR_LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  })
  .superRefine((env, ctx) => {
    const hasId = env.ALIBABA_CLOUD_ACCESS_KEY_ID !== undefined;
    const hasSecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET !== undefined;
    if (hasId !== hasSecret) {
      ctx.addIssue({
        code: 'custom',
        path: [hasId ? 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' : 'ALIBABA_CLOUD_ACCESS_KEY_ID'],
        message:
          'set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or neither (then the dev pair is used)',
      });
    }
  });

export interface EmulatorEnv {
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** True when no key pair is configured and the fixed dev pair is trusted. */
  usesDevCredentials: boolean;
  options: EmulatorOptions;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment for the VOD emulator:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/** Reads the environment (only the variables above). Throws EnvError listing every bad variable. */
export function parseEnv(source: Readonly<Record<string, string | undefined>>): EmulatorEnv {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        // Never echo secrets back; other values help the reader.
        const raw = name.includes('SECRET') ? undefined : source[name];
        return `${name}: ${issue.message}${raw !== undefined ? ` (got "${raw}")` : ''}`;
      }),
    );
  }
  const e = result.data;
  const faults: FaultOptions = {
    latencyMs: e.EMULATOR_FAULT_LATENCY_MS,
    latencyJitterMs: e.EMULATOR_FAULT_LATENCY_JITTER_MS,
    throttleRate: e.EMULATOR_FAULT_THROTTLE_RATE,
    throttleNext: e.EMULATOR_FAULT_THROTTLE_NEXT,
    throttleCode: e.EMULATOR_FAULT_THROTTLE_CODE,
    throttleStatus: e.EMULATOR_FAULT_THROTTLE_STATUS,
    serverErrorRate: e.EMULATOR_FAULT_SERVER_ERROR_RATE,
    serverErrorNext: e.EMULATOR_FAULT_SERVER_ERROR_NEXT,
    serverErrorStatus: e.EMULATOR_FAULT_SERVER_ERROR_STATUS,
    resetRate: e.EMULATOR_FAULT_RESET_RATE,
    resetNext: e.EMULATOR_FAULT_RESET_NEXT,
    timeoutRate: e.EMULATOR_FAULT_TIMEOUT_RATE,
    timeoutNext: e.EMULATOR_FAULT_TIMEOUT_NEXT,
    lostAnswerRate: e.EMULATOR_FAULT_LOST_ANSWER_RATE,
    lostAnswerNext: e.EMULATOR_FAULT_LOST_ANSWER_NEXT,
    lostAnswerMode: e.EMULATOR_FAULT_LOST_ANSWER_MODE,
    actions: e.EMULATOR_FAULT_ACTIONS ?? [],
    seed: e.EMULATOR_SEED,
  };
  const usesDevCredentials = e.ALIBABA_CLOUD_ACCESS_KEY_ID === undefined;
  return {
    port: e.EMULATOR_PORT,
    host: e.EMULATOR_HOST,
    logLevel: e.EMULATOR_LOG_LEVEL,
    usesDevCredentials,
    options: {
      ...(!usesDevCredentials && {
        credentials: [
          {
            accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '',
            accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '',
          },
        ],
      }),
      domains: e.EMULATOR_DOMAINS,
      account: e.EMULATOR_ACCOUNT_STATE,
      quotas: {
        urlsPerDay: e.EMULATOR_URLS_PER_DAY,
        dirsPerDay: e.EMULATOR_DIRS_PER_DAY,
        urlsPerMinute: e.EMULATOR_URLS_PER_MINUTE,
        dirsPerMinute: e.EMULATOR_DIRS_PER_MINUTE,
        maxUrlsPerCall: e.EMULATOR_MAX_URLS_PER_CALL,
        maxDirsPerCall: e.EMULATOR_MAX_DIRS_PER_CALL,
        callsPerSecond: e.EMULATOR_CALLS_PER_SECOND,
        describeCallsPerSecond: e.EMULATOR_DESCRIBE_CALLS_PER_SECOND,
        preloadPerDay: e.EMULATOR_PRELOAD_PER_DAY,
        blockPerDay: e.EMULATOR_BLOCK_PER_DAY,
        maxPreloadsPerCall: e.EMULATOR_MAX_PRELOADS_PER_CALL,
        preloadQueueLimit: e.EMULATOR_PRELOAD_QUEUE_LIMIT,
        preloadCallsPerSecond: e.EMULATOR_PRELOAD_CALLS_PER_SECOND,
        mediaCallsPerSecond: e.EMULATOR_MEDIA_CALLS_PER_SECOND,
        mediaJobCallsPerSecond: e.EMULATOR_MEDIA_JOB_CALLS_PER_SECOND,
      },
      quotaUtcOffsetMinutes: e.EMULATOR_QUOTA_UTC_OFFSET,
      tasks: {
        pendingMs: e.EMULATOR_TASK_PENDING_MS,
        completeAfterMs: e.EMULATOR_TASK_COMPLETE_AFTER_MS,
        failureRate: e.EMULATOR_TASK_FAILURE_RATE,
        unlistedRate: e.EMULATOR_TASK_UNLISTED_RATE,
        seed: e.EMULATOR_SEED,
        mediaSubmitMs: e.EMULATOR_MEDIA_SUBMIT_MS,
      },
      faults,
      clockOffsetMs: e.EMULATOR_CLOCK_OFFSET_MS,
      timestampToleranceMs: e.EMULATOR_TIMESTAMP_TOLERANCE_MS,
      timestampSkewMs: e.EMULATOR_TIMESTAMP_SKEW_MS,
    },
  };
}
