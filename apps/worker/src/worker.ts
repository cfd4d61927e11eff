import { accountErrorRule, outboundPolicy, parseUtcOffset } from '@refreshq/domain';
import {
  CallbackStore,
  CircuitBreaker,
  createRedis,
  keyspace,
  PendingPool,
  QuotaGovernor,
  RedisClock,
  RequestStore,
  SubmitPause,
  TaskStore,
  type PoolSettings,
  type Redis,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { CredentialSource, describeCredentialSettings, VodClient } from '@refreshq/vod-client';
import type { Worker } from 'bullmq';
import { createAdmitter } from './admitter.js';
import { DirectoryPromoter, promotionRules } from './directory-promoter.js';
import { BatchSubmitter } from './batch-submitter.js';
import { CallbackSender } from './callback-sender.js';
import { Dispatcher } from './dispatcher.js';
import { FollowOnPreloads } from './follow-on-preloads.js';
import { MediaJobFollower } from './media-jobs.js';
import type { Resolve } from './outbound-post.js';
import { QuotaReport } from './quota-report.js';
import { QuotaSync } from './quota-sync.js';
import { TaskTracker } from './task-tracker.js';
import type { WorkerEnv } from './env.js';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';

export interface RunningWorker {
  metrics: WorkerMetrics;
  governor: QuotaGovernor;
  redis: Redis;
  dispatcher: Dispatcher;
  admitter: Worker;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Name resolution for completion callbacks (under the connect-time guard); tests pass a stub. */
  resolve?: Resolve;
}

/** Builds and starts the worker's parts from a validated environment. */
export async function startWorker(
  env: WorkerEnv,
  logger: Logger,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const keys = keyspace(env.REFRESHQ_NAMESPACE);
  const metrics = createWorkerMetrics();
  const redis = createRedis(env.redis, 'consumer', 'worker');
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection problem'));
  const bullConnection = createRedis(env.redis, 'consumer', 'worker-bullmq');
  bullConnection.on('error', (error) =>
    logger.warn({ err: error }, 'redis connection problem (intake consumer)'),
  );

  const credentialSource = describeCredentialSettings(env.credentials);
  logger.info(
    credentialSource,
    `Alibaba Cloud credentials from the ${credentialSource.provider} source (asked before every call, renewed before they expire)`,
  );
  const vod = new VodClient({
    endpoint: env.VOD_ENDPOINT,
    credentials: new CredentialSource(env.credentials),
    timeoutMs: env.VOD_CALL_TIMEOUT_MS,
    onCall: ({ action, code, durationMs }) => {
      metrics.upstreamCalls.inc({ action, code });
      metrics.upstreamDuration.observe({ action }, durationMs / 1000);
      if (accountErrorRule(code)) metrics.accountErrors.inc({ action, code });
    },
    onCredentialsRefreshed: ({ action, code }) => {
      metrics.credentialRefreshes.inc({ action, code });
      logger.warn({ action, code }, 'account error: fetched the credentials anew; retrying the call once');
    },
  });

  const clock = new RedisClock(redis, keys.clockOffset);
  const requests = new RequestStore(redis, keys);
  const breaker = new CircuitBreaker(redis, keys);
  const utcOffsetMinutes = parseUtcOffset(env.QUOTA_UTC_OFFSET) ?? 480;
  const governor = new QuotaGovernor(redis, keys, clock, {
    urlsPerDay: env.QUOTA_URLS_PER_DAY,
    dirsPerDay: env.QUOTA_DIRS_PER_DAY,
    urlsPerMinute: env.QUOTA_URLS_PER_MINUTE,
    dirsPerMinute: env.QUOTA_DIRS_PER_MINUTE,
    callsPerSecond: env.QUOTA_CALLS_PER_SECOND,
    preloadsPerDay: env.QUOTA_PRELOADS_PER_DAY,
    preloadsPerMinute: env.QUOTA_PRELOADS_PER_MINUTE,
    preloadCallsPerSecond: env.QUOTA_PRELOAD_CALLS_PER_SECOND,
    mediaCallsPerSecond: env.MEDIA_CALLS_PER_SECOND,
    highReservePercent: env.QUOTA_HIGH_RESERVE_PERCENT,
    utcOffsetMinutes,
    clockMode: env.QUOTA_CLOCK,
  });
  const quotaSync = new QuotaSync(vod, governor, env.QUOTA_SYNC_INTERVAL_MS, logger);
  const reactions = { breakerProbeMs: env.BREAKER_PROBE_MS, backoff: { baseMs: 500, maxMs: 60_000 } };
  const submitter = new BatchSubmitter(
    vod,
    clock,
    {
      ...reactions,
      lookup: { skewMs: env.UPSTREAM_CLOCK_SKEW_MS },
      mediaPlayUrlsPerId: env.MEDIA_PLAY_URLS_PER_ID,
    },
    metrics,
    logger,
  );
  const admitSettings = {
    windowMs: env.COALESCE_WINDOW_MS,
    maxFilesPerCall: env.MAX_URLS_PER_CALL,
    maxDirsPerCall: env.MAX_DIRS_PER_CALL,
    retentionSeconds: env.STATUS_RETENTION_SECONDS,
    promoteAt: env.DIRECTORY_PROMOTION_MIN_FILES,
  };
  const pool = new PendingPool(redis, keys, clock);
  const poolSettings: PoolSettings = {
    maxFilesPerCall: env.MAX_URLS_PER_CALL,
    maxDirsPerCall: env.MAX_DIRS_PER_CALL,
    maxPreloadsPerCall: env.MAX_PRELOADS_PER_CALL,
    maxMediaPerCall: env.MAX_MEDIA_IDS_PER_CALL,
    windowMs: env.COALESCE_WINDOW_MS,
    quietMs: env.COALESCE_QUIET_MS,
    leaseMs: env.BATCH_LEASE_MS,
    // A task's first look comes by its deadline at the latest, so it can end on time.
    firstPollMs: Math.min(env.TASK_FIRST_POLL_MS, env.TASK_DEADLINE_MS),
    hotQuietMs: env.HOT_PATH_MAX_QUIET_MS,
    hotHoldMs: env.HOT_PATH_MAX_HOLD_MS,
  };
  const quotaReport = new QuotaReport(
    redis,
    keys,
    clock,
    governor,
    pool,
    env.QUOTA_HIGH_RESERVE_PERCENT,
    breaker,
    env.COALESCE_WINDOW_MS,
    env.SCARCITY_POLICY,
    { horizonMs: env.PRESSURE_HORIZON_MS, rateHalfLifeMs: 300_000 },
    metrics,
    logger,
  );
  const promoter =
    env.SCARCITY_POLICY === 'spend-well' && env.DIRECTORY_PROMOTION === 'budget'
      ? new DirectoryPromoter(
          pool,
          governor,
          {
            everyMs: 2000,
            rules: promotionRules(env),
            directoriesPerDay: env.QUOTA_DIRS_PER_DAY,
            utcOffsetMinutes,
            pool: poolSettings,
          },
          metrics,
          logger,
        )
      : undefined;
  const taskStore = new TaskStore(redis, keys);
  const tracker = new TaskTracker(
    vod,
    taskStore,
    {
      everyMs: 1000,
      batch: 20,
      leaseMs: env.BATCH_LEASE_MS,
      callsPerSecond: env.TASK_POLL_CALLS_PER_SECOND,
      maxPollMs: env.TASK_POLL_MAX_INTERVAL_MS,
      deadlineMs: env.TASK_DEADLINE_MS,
    },
    clock,
    metrics,
    logger,
    {
      mediaJobs: new MediaJobFollower(
        vod,
        taskStore,
        governor,
        clock,
        {
          ...reactions,
          jobCallsPerSecond: env.MEDIA_JOB_CALLS_PER_SECOND,
          describeCallsPerSecond: env.TASK_POLL_CALLS_PER_SECOND,
          maxPollMs: env.TASK_POLL_MAX_INTERVAL_MS,
          mediaPlayUrlsPerId: env.MEDIA_PLAY_URLS_PER_ID,
          windowMs: env.COALESCE_WINDOW_MS,
        },
        metrics,
        logger,
      ),
      followOns: new FollowOnPreloads(taskStore, requests, () => clock.now(), admitSettings, metrics, logger),
    },
  );
  const callbackSender = new CallbackSender(
    new CallbackStore(redis, keys, clock),
    requests,
    {
      ...(env.CALLBACK_SIGNING_SECRET ? { secret: env.CALLBACK_SIGNING_SECRET } : {}),
      timeoutMs: env.CALLBACK_TIMEOUT_MS,
      maxAttempts: env.CALLBACK_MAX_ATTEMPTS,
      everyMs: 500,
      leaseMs: env.BATCH_LEASE_MS,
      backoff: { baseMs: 2000, maxMs: 3_600_000 },
      policy: outboundPolicy(env.CALLBACK_ALLOWED_HOSTS, env.CALLBACK_ALLOW_PRIVATE),
      ...(options.resolve ? { resolve: options.resolve } : {}),
    },
    metrics,
    logger,
  );
  const dispatcher = new Dispatcher(
    pool,
    governor,
    breaker,
    new SubmitPause(redis, keys),
    submitter,
    {
      concurrency: env.DISPATCH_CONCURRENCY,
      pool: poolSettings,
      idlePollMs: 200,
      // A dead worker's batch is taken back at most this long after its lease ran out.
      reclaimEveryMs: 1000,
      mediaPlayUrlsPerId: env.MEDIA_PLAY_URLS_PER_ID,
    },
    metrics,
    logger,
    () => quotaSync.requestSoon(),
  );
  const admitter = createAdmitter(
    bullConnection,
    keys,
    requests,
    {
      admit: admitSettings,
      concurrency: env.ADMIT_CONCURRENCY,
      promotionAllowed: () => quotaReport.directoryBudgetAllows(),
    },
    metrics,
    logger,
  );

  void admitter.run().catch((error: unknown) => logger.error({ err: error }, 'intake consumer stopped'));
  await clock.start();
  await quotaSync.start();
  dispatcher.start();
  quotaReport.start();
  promoter?.start();
  tracker.start();
  callbackSender.start();

  return {
    metrics,
    governor,
    redis,
    dispatcher,
    admitter,
    stop: async () => {
      await quotaSync.stop();
      await quotaReport.stop();
      await promoter?.stop();
      clock.stop();
      await tracker.stop();
      await callbackSender.stop();
      await admitter.close();
      await dispatcher.stop();
      redis.disconnect();
      bullConnection.disconnect();
    },
  };
}
