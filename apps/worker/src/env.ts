import {
  callbackTargetEnv,
  credentialsEnv,
  logEnv,
  nonNegativeInt,
  port,
  positiveInt,
  quotaEnv,
  redisEnv,
  url,
} from '@refreshq/config';
import { credentialSettingsFromEnv, DEFAULT_VOD_ENDPOINT } from '@refreshq/vod-client';
import { z } from 'zod';

export const workerEnvSchema = z
  .object({
    ...redisEnv,
    ...logEnv,
    ...credentialsEnv,
    ...quotaEnv,
    VOD_ENDPOINT: url(DEFAULT_VOD_ENDPOINT, ['https:', 'http:']),
    VOD_CALL_TIMEOUT_MS: positiveInt(10_000, 120_000),
    WORKER_METRICS_PORT: port(9464),
    WORKER_METRICS_HOST: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().default('0.0.0.0'),
    ),
    /** RefreshVodObjectCaches calls per second across all workers (undocumented upstream; other VOD actions allow 30). */
    QUOTA_CALLS_PER_SECOND: positiveInt(10, 1000),
    /** Share (percent) of each day's budgets that only the high lane may use. */
    QUOTA_HIGH_RESERVE_PERCENT: nonNegativeInt(0, 100),
    /** How often DescribeVodRefreshQuota is read (ms); 0 = only at start and after quota errors. */
    QUOTA_SYNC_INTERVAL_MS: nonNegativeInt(300_000, 86_400_000),
    /** Tests only: 'offset' adds the {ns}:clock-offset key to Redis TIME in the quota scripts. */
    QUOTA_CLOCK: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.enum(['redis', 'offset'], { error: 'must be redis or offset' }).default('redis'),
    ),
    /** When a submitted task is first looked at with DescribeVodRefreshTasks (ms). */
    TASK_FIRST_POLL_MS: positiveInt(5000, 3_600_000),
    /** Longest pause between two looks at a task still running (ms). */
    TASK_POLL_MAX_INTERVAL_MS: positiveInt(60_000, 3_600_000),
    /** DescribeVodRefreshTasks calls per second across all workers. */
    TASK_POLL_CALLS_PER_SECOND: positiveInt(5, 1000),
    /** Key of the HMAC-SHA256 signature on completion callbacks (X-Refreshq-Signature). */
    CALLBACK_SIGNING_SECRET: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().min(16, 'must be at least 16 characters').optional(),
    ),
    CALLBACK_TIMEOUT_MS: positiveInt(5000, 60_000),
    ...callbackTargetEnv,
    CALLBACK_MAX_ATTEMPTS: positiveInt(10, 100),
    /** Batches one worker process submits at the same time. */
    DISPATCH_CONCURRENCY: positiveInt(2, 64),
    /** Intake jobs one worker process admits at the same time. */
    ADMIT_CONCURRENCY: positiveInt(16, 256),
    /**
     * Lease of claimed work (a batch, the tracked tasks and the callbacks in hand), renewed by the
     * holder every third of it while it works: a dead holder's work is back in the pool about one
     * lease after it died.
     */
    BATCH_LEASE_MS: positiveInt(5000, 3_600_000),
    /** A submitted task whose end the upstream has not shown this long after the call ends `unconfirmed` (at most 3 days). */
    TASK_DEADLINE_MS: positiveInt(3_600_000, 3 * 24 * 3_600_000),
    /** How far the upstream's clock may be from Redis' when an uncertain call's task is matched (ms). */
    UPSTREAM_CLOCK_SKEW_MS: nonNegativeInt(5000, 3_600_000),
    /** How long submitting stays stopped after OperationDenied* or an account error before a probe. */
    BREAKER_PROBE_MS: positiveInt(300_000, 86_400_000),
    STATUS_RETENTION_SECONDS: positiveInt(7 * 24 * 3600),
    /** A path requested again within this long waits for the next batch (debounce); 0 = off. */
    COALESCE_QUIET_MS: nonNegativeInt(200, 60_000),
    /** Pending files under one directory that make it refreshed as a directory instead; 0 = off. */
    DIRECTORY_PROMOTION_MIN_FILES: nonNegativeInt(0, 100_000),
  })
  // Any one source of Alibaba's chain is enough; half a configuration stops the worker.
  .transform((env, ctx) => {
    const picked = credentialSettingsFromEnv(env);
    for (const problem of picked.problems)
      ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
    return picked.settings ? { ...env, credentials: picked.settings } : z.NEVER;
  });

export type WorkerEnv = z.output<typeof workerEnvSchema>;
