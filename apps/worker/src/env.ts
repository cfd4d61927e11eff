import {
  callbackTargetEnv,
  credentialsEnv,
  csvList,
  logEnv,
  nonNegativeInt,
  port,
  positiveInt,
  quotaEnv,
  redisEnv,
  url,
  withRedisTarget,
} from '@refreshq/config';
import { credentialSettingsFromEnv, DEFAULT_VOD_ENDPOINT } from '@refreshq/vod-client';
import { SCARCITY_POLICIES } from '@refreshq/domain';
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
    /** PreloadVodObjectCaches: its own daily URL budget (VOD default 500), per-minute budget and per-call maximum (undocumented upstream). */
    QUOTA_PRELOADS_PER_DAY: positiveInt(500),
    QUOTA_PRELOADS_PER_MINUTE: positiveInt(500),
    MAX_PRELOADS_PER_CALL: positiveInt(100, 1000),
    /** PreloadVodObjectCaches calls per second across all workers (undocumented upstream). */
    QUOTA_PRELOAD_CALLS_PER_SECOND: positiveInt(10, 1000),
    /** RefreshMediaPlayUrls calls per second across all workers (Alibaba: 50 per account). */
    MEDIA_CALLS_PER_SECOND: positiveInt(50, 1000),
    /** Media ids per RefreshMediaPlayUrls call (at most 20). */
    MAX_MEDIA_IDS_PER_CALL: positiveInt(20, 20),
    /** Play URLs one media id is expected to expand to: the units its grant reserves until its job reports the real count. */
    MEDIA_PLAY_URLS_PER_ID: positiveInt(6, 1000),
    /** GetMediaRefreshJobs calls per second across all workers (Alibaba: 50 per account). */
    MEDIA_JOB_CALLS_PER_SECOND: positiveInt(10, 1000),
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
    /** How a scarce day is spent (docs/scarcity.md): spend-well (default) or fifo (as before). */
    SCARCITY_POLICY: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.enum(SCARCITY_POLICIES, { error: 'must be spend-well or fifo' }).default('spend-well'),
    ),
    /** How far ahead arrivals at the present rate count as today's demand (ms; 0: pending only). */
    PRESSURE_HORIZON_MS: nonNegativeInt(3_600_000, 86_400_000),
    /** Under pressure, the most quiet a hot path needs before it goes (ms). */
    HOT_PATH_MAX_QUIET_MS: positiveInt(120_000, 3_600_000),
    /** Under pressure, the longest a hot path is held after it was queued (ms). */
    HOT_PATH_MAX_HOLD_MS: positiveInt(900_000, 86_400_000),
    /** Under pressure, refresh directories instead of the files under them when the URL budget is short: budget or off. */
    DIRECTORY_PROMOTION: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.enum(['budget', 'off'], { error: 'must be budget or off' }).default('budget'),
    ),
    /** A promoted directory covers at least this many pending files. */
    PROMOTION_MIN_FILES: positiveInt(3, 100_000),
    /** Path segments below the host a promoted directory has at least (0 allows the domain root). */
    PROMOTION_MIN_DEPTH: nonNegativeInt(1, 64),
    PROMOTION_MAX_DEPTH: positiveInt(64, 64),
    /** Comma-separated `*`-globs of directory URLs that may be promoted (unset: all). */
    PROMOTION_ALLOW: csvList(z.string().min(1)),
    /** Comma-separated `*`-globs of directory URLs never promoted, nor any directory above them. */
    PROMOTION_DENY: csvList(z.string().min(1)),
  })
  // Any one source of Alibaba's chain is enough; half a configuration stops the worker.
  .transform((env, ctx) => {
    const picked = credentialSettingsFromEnv(env);
    for (const problem of picked.problems)
      ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
    return picked.settings ? { ...env, credentials: picked.settings } : z.NEVER;
  })
  .transform(withRedisTarget);

export type WorkerEnv = z.output<typeof workerEnvSchema>;
