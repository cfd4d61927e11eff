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
  TaskStore,
  type Redis,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { CredentialSource, describeCredentialSettings, VodClient } from '@refreshq/vod-client';
import type { Worker } from 'bullmq';
import { createAdmitter } from './admitter.js';
import { BatchSubmitter } from './batch-submitter.js';
import { CallbackSender } from './callback-sender.js';
import { Dispatcher } from './dispatcher.js';
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
  const redis = createRedis(env.REDIS_URL, 'consumer', 'worker');
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection problem'));
  const bullConnection = createRedis(env.REDIS_URL, 'consumer', 'worker-bullmq');
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

  const clock = new RedisClock(redis);
  const requests = new RequestStore(redis, keys);
  const breaker = new CircuitBreaker(redis, keys);
  const governor = new QuotaGovernor(redis, keys, clock, {
    urlsPerDay: env.QUOTA_URLS_PER_DAY,
    dirsPerDay: env.QUOTA_DIRS_PER_DAY,
    urlsPerMinute: env.QUOTA_URLS_PER_MINUTE,
    dirsPerMinute: env.QUOTA_DIRS_PER_MINUTE,
    callsPerSecond: env.QUOTA_CALLS_PER_SECOND,
    highReservePercent: env.QUOTA_HIGH_RESERVE_PERCENT,
    utcOffsetMinutes: parseUtcOffset(env.QUOTA_UTC_OFFSET) ?? 480,
    clockMode: env.QUOTA_CLOCK,
  });
  const quotaSync = new QuotaSync(vod, governor, env.QUOTA_SYNC_INTERVAL_MS, logger);
  const taskStore = new TaskStore(redis, keys);
  const submitter = new BatchSubmitter(
    vod,
    clock,
    {
      breakerProbeMs: env.BREAKER_PROBE_MS,
      backoff: { baseMs: 500, maxMs: 60_000 },
      lookup: { skewMs: env.UPSTREAM_CLOCK_SKEW_MS },
    },
    metrics,
    logger,
  );
  const pool = new PendingPool(redis, keys, clock);
  const quotaReport = new QuotaReport(
    redis,
    keys,
    clock,
    governor,
    pool,
    env.QUOTA_HIGH_RESERVE_PERCENT,
    breaker,
    env.COALESCE_WINDOW_MS,
    metrics,
    logger,
  );
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
    submitter,
    {
      concurrency: env.DISPATCH_CONCURRENCY,
      pool: {
        maxFilesPerCall: env.MAX_URLS_PER_CALL,
        maxDirsPerCall: env.MAX_DIRS_PER_CALL,
        windowMs: env.COALESCE_WINDOW_MS,
        quietMs: env.COALESCE_QUIET_MS,
        leaseMs: env.BATCH_LEASE_MS,
        // A task's first look comes by its deadline at the latest, so it can end on time.
        firstPollMs: Math.min(env.TASK_FIRST_POLL_MS, env.TASK_DEADLINE_MS),
      },
      idlePollMs: 200,
      // A dead worker's batch is taken back at most this long after its lease ran out.
      reclaimEveryMs: 1000,
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
      admit: {
        windowMs: env.COALESCE_WINDOW_MS,
        maxFilesPerCall: env.MAX_URLS_PER_CALL,
        maxDirsPerCall: env.MAX_DIRS_PER_CALL,
        retentionSeconds: env.STATUS_RETENTION_SECONDS,
        promoteAt: env.DIRECTORY_PROMOTION_MIN_FILES,
      },
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
