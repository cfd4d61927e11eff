import { z } from 'zod';
import { parseHostRule, parseUtcOffset } from '@refreshq/domain';
import {
  csvList,
  flag,
  nonNegativeInt,
  optionalPositiveInt,
  optionalSecret,
  positiveInt,
  url,
} from './env-fields.js';
import { parseHostPort } from './redis-target.js';

const hostList = (what: string) =>
  csvList(
    z.string().refine((entry) => parseHostPort(entry, 1) !== undefined, `each ${what} must be host:port`),
  );

/** Variables every refreshq process reads (how they combine: redis-target.ts). */
export const redisEnv = {
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  /** Seeds of a Redis Cluster; the user, password and TLS of REDIS_URL apply to every node. */
  REDIS_CLUSTER_NODES: hostList('REDIS_CLUSTER_NODES entry'),
  /** Sentinels watching the master named REDIS_SENTINEL_NAME; REDIS_URL gives user, password, TLS, db. */
  REDIS_SENTINELS: hostList('REDIS_SENTINELS entry'),
  REDIS_SENTINEL_NAME: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1 to 128 of A-Z a-z 0-9 _ . : -')
      .default('mymaster'),
  ),
  /** When the sentinels themselves ask for a password (`requirepass` in sentinel.conf). */
  REDIS_SENTINEL_USERNAME: optionalSecret(),
  REDIS_SENTINEL_PASSWORD: optionalSecret(),
  /**
   * Replicas that must hold an accepted request (intake's 202) and a claimed batch (before the
   * worker calls upstream): WAIT after the write. 0 = don't wait (a failover may lose the last writes).
   */
  REDIS_WAIT_REPLICAS: nonNegativeInt(0, 16),
  REDIS_WAIT_TIMEOUT_MS: positiveInt(1000, 60_000),
  /** Hash tag that every refreshq and BullMQ key lives under, so all share one cluster slot. */
  REFRESHQ_NAMESPACE: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1 to 64 of A-Z a-z 0-9 _ . : -')
      .default('refreshq'),
  ),
};

const optionalText = (pattern: RegExp, message: string) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.string().regex(pattern, message).optional(),
  );

/**
 * Alibaba Cloud's standard credential variables (the names its SDKs and CLI read). Which source
 * they select, and what is missing from half a configuration, is decided by the worker.
 */
export const credentialsEnv = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalSecret(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalSecret(),
  ALIBABA_CLOUD_SECURITY_TOKEN: optionalSecret(),
  ALIBABA_CLOUD_ROLE_ARN: optionalText(
    /^acs:ram::\d+:role\/\S+$/,
    'must be a role ARN like acs:ram::<account id>:role/<name>',
  ),
  ALIBABA_CLOUD_ROLE_SESSION_NAME: optionalText(/^[\w.@-]{2,64}$/, 'must be 2 to 64 of A-Z a-z 0-9 _ . @ -'),
  ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION: optionalPositiveInt(43_200).refine(
    (value) => value === undefined || value >= 900,
    'must be a whole number of seconds from 900 to 43200',
  ),
  ALIBABA_CLOUD_STS_ENDPOINT: optionalText(
    /^[a-z0-9.-]+(:\d+)?$/i,
    'must be a host name like sts.cn-shanghai.aliyuncs.com',
  ),
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: optionalText(
    /^acs:ram::\d+:oidc-provider\/\S+$/,
    'must be an OIDC provider ARN like acs:ram::<account id>:oidc-provider/<name>',
  ),
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: optionalText(/^\S+$/, 'must be a file path'),
  ALIBABA_CLOUD_ECS_METADATA: optionalText(/^[\w.@-]{1,64}$/, 'must be the name of the instance RAM role'),
  ALIBABA_CLOUD_CREDENTIALS_URI: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string()
      .refine((value) => {
        try {
          return ['http:', 'https:'].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, 'must be a URL starting with http: or https:')
      .optional(),
  ),
};

export const quotaEnv = {
  QUOTA_URLS_PER_DAY: positiveInt(2000),
  QUOTA_DIRS_PER_DAY: positiveInt(100),
  QUOTA_URLS_PER_MINUTE: positiveInt(2000),
  QUOTA_DIRS_PER_MINUTE: positiveInt(100),
  MAX_URLS_PER_CALL: positiveInt(1000, 1000),
  MAX_DIRS_PER_CALL: positiveInt(100, 100),
  QUOTA_UTC_OFFSET: z.preprocess(
    (value) => (value === '' || value === undefined ? '+08:00' : value),
    z
      .string()
      .refine((value) => parseUtcOffset(value) !== undefined, 'must be an offset like +08:00, -05:30 or Z'),
  ),
  COALESCE_WINDOW_MS: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number({ error: 'must be a whole number of milliseconds from 0 to 600000' })
      .int('must be a whole number of milliseconds from 0 to 600000')
      .min(0, 'must be a whole number of milliseconds from 0 to 600000')
      .max(600_000, 'must be a whole number of milliseconds from 0 to 600000')
      .default(1000),
  ),
};

/**
 * Where requests to URLs a caller gave (completion callbacks) may go. Intake and worker read the
 * same two variables and judge with the same policy (@refreshq/domain outboundPolicy).
 */
export const callbackTargetEnv = {
  CALLBACK_ALLOWED_HOSTS: csvList(
    z
      .string()
      .refine(
        (entry) => parseHostRule(entry) !== undefined,
        'each entry must be host or host:port, optionally starting with *. or . for sub-domains',
      ),
  ),
  /** Opt-in: callbacks may reach loopback, private, link-local and other inside addresses. */
  CALLBACK_ALLOW_PRIVATE: flag(false),
};

export const logEnv = {
  LOG_LEVEL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),
};

export { csvList };
