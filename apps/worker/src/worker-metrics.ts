import {
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  type Registry,
} from '@refreshq/telemetry';

export interface WorkerMetrics {
  registry: Registry;
  upstreamCalls: Counter<'action' | 'code'>;
  upstreamDuration: Histogram<'action'>;
  requestsAdmitted: Counter;
  pathsCoalesced: Counter<'object_type'>;
  pathsSubmitted: Counter<'object_type'>;
  pathsRejected: Counter<'object_type' | 'code'>;
  pathsRequeued: Counter<'object_type' | 'reason'>;
  batchSize: Histogram<'object_type'>;
  uncertainLookups: Counter<'result'>;
  batchesReclaimed: Counter;
  quotaRefusals: Counter<'object_type' | 'lane' | 'budget'>;
  quotaUsed: Gauge<'object_type' | 'window'>;
  quotaBudget: Gauge<'object_type' | 'window'>;
  quotaHoldSeconds: Gauge<'object_type'>;
  backlog: Gauge<'object_type' | 'lane'>;
  backlogDrainSeconds: Gauge<'object_type' | 'lane'>;
  breakerOpen: Gauge;
  submitPaused: Gauge;
  quotaPressure: Gauge<'object_type'>;
  directoriesPromoted: Counter<'result'>;
  filesPromoted: Counter;
  repeatsHeld: Counter<'object_type'>;
  breakerOpened: Counter<'code'>;
  accountErrors: Counter<'action' | 'code'>;
  credentialRefreshes: Counter<'action' | 'code'>;
  oldestPendingAge: Gauge<'object_type' | 'lane'>;
  intakeToSubmit: Histogram<'object_type'>;
  submitToComplete: Histogram<'object_type'>;
  taskOutcomes: Counter<'object_type' | 'status' | 'description'>;
  pathsUnconfirmed: Counter<'object_type' | 'reason'>;
  tasksTracked: Gauge;
  callbacks: Counter<'result'>;
  mediaJobs: Counter<'object_type' | 'status'>;
  playUrlsSubmitted: Counter<'object_type'>;
  followOnPreloads: Counter;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = createMetricsRegistry('worker');
  const registers = [registry];
  const metrics: WorkerMetrics = {
    registry,
    upstreamCalls: new Counter({
      name: 'refreshq_upstream_calls_total',
      help: 'Calls to the VOD API by action and result code (Success, an upstream code, or Timeout/ConnectionError/InvalidResponse).',
      labelNames: ['action', 'code'],
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'refreshq_upstream_call_duration_seconds',
      help: 'Duration of calls to the VOD API.',
      labelNames: ['action'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    requestsAdmitted: new Counter({
      name: 'refreshq_requests_admitted_total',
      help: 'Requests moved from the intake queue into the pending pool.',
      registers,
    }),
    pathsCoalesced: new Counter({
      name: 'refreshq_paths_coalesced_total',
      help: 'Requested paths that joined a path already pending instead of being added again.',
      labelNames: ['object_type'],
      registers,
    }),
    pathsSubmitted: new Counter({
      name: 'refreshq_paths_submitted_total',
      help: 'Paths accepted by RefreshVodObjectCaches (or found already accepted after an uncertain call).',
      labelNames: ['object_type'],
      registers,
    }),
    pathsRejected: new Counter({
      name: 'refreshq_paths_rejected_total',
      help: 'Paths ended as rejected by an upstream error code.',
      labelNames: ['object_type', 'code'],
      registers,
    }),
    pathsRequeued: new Counter({
      name: 'refreshq_paths_requeued_total',
      help: 'Paths put back to wait, by reason (backoff, hold-minute, hold-day, retry, breaker, uncertain).',
      labelNames: ['object_type', 'reason'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'refreshq_batch_size_paths',
      help: 'Paths per claimed batch.',
      labelNames: ['object_type'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    uncertainLookups: new Counter({
      name: 'refreshq_uncertain_lookups_total',
      help: 'Paths whose earlier call got no answer, looked up with DescribeVodRefreshTasks (one paged call per batch) before being resubmitted, by result.',
      labelNames: ['result'],
      registers,
    }),
    batchesReclaimed: new Counter({
      name: 'refreshq_batches_reclaimed_total',
      help: 'Batches taken back from a worker whose lease ran out.',
      registers,
    }),
    quotaUsed: new Gauge({
      name: 'refreshq_quota_used_units',
      help: 'Units spent in the current quota day, or in the last 60 s (window), account-wide (every worker reports the same value: aggregate with max).',
      labelNames: ['object_type', 'window'],
      registers,
    }),
    quotaBudget: new Gauge({
      name: 'refreshq_quota_budget_units',
      help: 'Budget in force per quota day or per 60 s (window), after what the upstream reported or taught (account-wide: aggregate with max).',
      labelNames: ['object_type', 'window'],
      registers,
    }),
    quotaHoldSeconds: new Gauge({
      name: 'refreshq_quota_hold_seconds',
      help: 'Seconds until a quota or throttling hold ends; 0 when none (account-wide: aggregate with max).',
      labelNames: ['object_type'],
      registers,
    }),
    backlog: new Gauge({
      name: 'refreshq_backlog_paths',
      help: 'Pending paths by object type and lane (account-wide: aggregate with max).',
      labelNames: ['object_type', 'lane'],
      registers,
    }),
    backlogDrainSeconds: new Gauge({
      name: 'refreshq_backlog_estimated_submit_seconds',
      help: 'Estimated seconds until the last pending path of this lane is submitted at the current budgets (+Inf: no budget).',
      labelNames: ['object_type', 'lane'],
      registers,
    }),
    quotaPressure: new Gauge({
      name: 'refreshq_quota_pressure',
      help: "1 while today's pending units of a type exceed what the day can still grant (docs/scarcity.md)",
      labelNames: ['object_type'],
      registers: [registry],
    }),
    directoriesPromoted: new Counter({
      name: 'refreshq_directories_promoted_total',
      help: 'Directory promotions tried under pressure, by result (promoted, no_directory_unit, too_few_files, already_covered)',
      labelNames: ['result'],
      registers: [registry],
    }),
    filesPromoted: new Counter({
      name: 'refreshq_files_promoted_total',
      help: 'Pending files absorbed by a promoted directory instead of costing a URL unit each',
      registers: [registry],
    }),
    repeatsHeld: new Counter({
      name: 'refreshq_repeats_held_total',
      help: "Times a path already refreshed today waited behind the lane's first refreshes",
      labelNames: ['object_type'],
      registers: [registry],
    }),
    breakerOpen: new Gauge({
      name: 'refreshq_breaker_open',
      help: '1 while submitting is stopped by OperationDenied* or an account error (account-wide: aggregate with max).',
      registers,
    }),
    submitPaused: new Gauge({
      name: 'refreshq_submit_paused',
      help: '1 while an operator has paused submitting (POST /v1/admin/pause); intake still accepts (account-wide: aggregate with max).',
      registers,
    }),
    breakerOpened: new Counter({
      name: 'refreshq_breaker_opened_total',
      help: 'Times this worker opened the shared breaker, by the code that made it (OperationDenied*, or an account error).',
      labelNames: ['code'],
      registers,
    }),
    accountErrors: new Counter({
      name: 'refreshq_account_errors_total',
      help: 'VOD calls answered with an account error (credentials, permission, clock), by action and code; README lists the codes.',
      labelNames: ['action', 'code'],
      registers,
    }),
    credentialRefreshes: new Counter({
      name: 'refreshq_credential_refreshes_total',
      help: 'Times an account error made the worker fetch its credentials anew and retry the call once, by action and code.',
      labelNames: ['action', 'code'],
      registers,
    }),
    oldestPendingAge: new Gauge({
      name: 'refreshq_oldest_pending_age_seconds',
      help: 'Age of the oldest pending path by object type and lane; 0 when none (account-wide: aggregate with max).',
      labelNames: ['object_type', 'lane'],
      registers,
    }),
    intakeToSubmit: new Histogram({
      name: 'refreshq_intake_to_submit_seconds',
      help: 'Time from a path entering the pending pool to the start of the call that submitted it.',
      labelNames: ['object_type'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400],
      registers,
    }),
    submitToComplete: new Histogram({
      name: 'refreshq_submit_to_complete_seconds',
      help: 'Time from submission to the task ending upstream (Complete or Failed), as seen by polling.',
      labelNames: ['object_type'],
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400],
      registers,
    }),
    taskOutcomes: new Counter({
      name: 'refreshq_task_outcomes_total',
      help: 'Paths whose refresh task ended upstream, by status and failure description.',
      labelNames: ['object_type', 'status', 'description'],
      registers,
    }),
    pathsUnconfirmed: new Counter({
      name: 'refreshq_paths_unconfirmed_total',
      help: 'Request paths ended unconfirmed: accepted upstream, but no end of their task seen by the task deadline (reason="deadline") or within the 3-day look-up window (reason="lookup_window").',
      labelNames: ['object_type', 'reason'],
      registers,
    }),
    tasksTracked: new Gauge({
      name: 'refreshq_tasks_tracked',
      help: 'Refresh tasks being followed to their end (account-wide: aggregate with max).',
      registers,
    }),
    callbacks: new Counter({
      name: 'refreshq_callbacks_total',
      help: 'Completion callback attempts by result: delivered, retried (will try again), failed (given up), refused (the target is an inside address or not allowed; not sent).',
      labelNames: ['result'],
      registers,
    }),
    mediaJobs: new Counter({
      name: 'refreshq_media_jobs_total',
      help: 'Media of RefreshMediaPlayUrls jobs whose play URLs the upstream finished submitting, by type (Media: refresh, Media!preload: prefetch) and job status (success, fail).',
      labelNames: ['object_type', 'status'],
      registers,
    }),
    playUrlsSubmitted: new Counter({
      name: 'refreshq_media_play_urls_total',
      help: 'Play URLs media refresh jobs submitted (each spends a unit of the URL refresh or preload budget).',
      labelNames: ['object_type'],
      registers,
    }),
    followOnPreloads: new Counter({
      name: 'refreshq_follow_on_preloads_total',
      help: 'Files of "then": "preload" requests queued for a prefetch once their refresh task completed.',
      registers,
    }),
    quotaRefusals: new Counter({
      name: 'refreshq_quota_refusals_total',
      help: 'Times the governor held a ready batch back, by the budget that was short (calls-per-second, minute, day, day-reserved-for-high, hold).',
      labelNames: ['object_type', 'lane', 'budget'],
      registers,
    }),
  };
  // The scarcity series exist from the start (at 0), so a quiet day reads as 0, not as no data.
  for (const type of ['File', 'Directory']) metrics.repeatsHeld.inc({ object_type: type }, 0);
  for (const result of ['promoted', 'no_directory_unit', 'too_few_files', 'already_covered'])
    metrics.directoriesPromoted.inc({ result }, 0);
  return metrics;
}
