// Issue #11: a scarce day. One seeded CMS-like trace (more distinct changed paths than the day's
// URL budget) replayed in real time through intake against the emulator, once per policy, each
// on a fresh stack; judged from the emulator's log of accepted submissions, beside the bound a
// planner knowing the whole trace could reach with the same budgets.
import { budgetSpentAt, measureRun, refusalsOf } from './scarcity/coverage.mjs';
import { oracleBound } from './scarcity/oracle.mjs';
import { formatOffset, middayOffsetMinutes, quotaDayIndex } from './scarcity/quota-day.mjs';
import { replay, settle } from './scarcity/replay.mjs';
import { startStack } from './scarcity/stack.mjs';
import { changeTimes, describeTrace, generateTrace, requestedDirectories } from './scarcity/trace.mjs';

/**
 * The policies, by the worker env that selects each. `fifo` and `spend-well` run by default;
 * `fifo-tuned` (today's policy with the knobs it already has: a longer debounce, promotion of 4
 * pending files under a folder) only when SCARCITY_POLICIES names it.
 */
export const POLICIES = {
  fifo: { label: "today's policy", env: { SCARCITY_POLICY: 'fifo' } },
  'spend-well': { label: 'new policy', env: { SCARCITY_POLICY: 'spend-well' } },
  'fifo-tuned': {
    label: "today's, tuned",
    env: { SCARCITY_POLICY: 'fifo', COALESCE_QUIET_MS: '1500', DIRECTORY_PROMOTION_MIN_FILES: '4' },
  },
};
export const DEFAULT_POLICIES = ['fifo', 'spend-well'];

async function runPolicy(trace, policy, { limits, utcOffsetMinutes, quietMs }) {
  const stack = await startStack({
    limits,
    utcOffsetMinutes,
    extraWorkerEnv: POLICIES[policy].env,
    namespace: `bench-scarcity-${policy}`,
  });
  try {
    const sent = await replay(trace.events, stack.intakeUrl);
    const end = await settle(stack, sent.endedAt, { quietMs });
    const [{ submissions }, counts] = await Promise.all([
      stack.control('GET', '/submissions'),
      stack.control('GET', '/counts'),
    ]);
    stack.checkAlive();
    if (quotaDayIndex(sent.startedAt, utcOffsetMinutes) !== quotaDayIndex(Date.now(), utcOffsetMinutes))
      throw new Error('the run crossed a quota day boundary: its budgets were refilled halfway');
    const secondsInto = (atMs) =>
      atMs === null ? null : Number(((atMs - sent.startedAt) / 1000).toFixed(1));
    const measured = measureRun({
      changes: changeTimes(trace, (_event, index) => sent.sentAt[index]),
      submissions,
      requested: requestedDirectories(trace),
      catalogue: trace.catalogue,
    });
    return {
      policy,
      label: POLICIES[policy].label,
      workerEnv: stack.workerEnv,
      replay: {
        hooks: sent.hooks,
        notAccepted: sent.notAccepted,
        notAcceptedSample: sent.notAcceptedSample,
        maxLateMs: sent.maxLateMs,
        seconds: Number(((sent.endedAt - sent.startedAt) / 1000).toFixed(1)),
      },
      end: { reason: end.reason, backlogLeft: end.backlog },
      drainSeconds:
        measured.lastSubmissionAtMs === null
          ? null
          : Number(((measured.lastSubmissionAtMs - sent.endedAt) / 1000).toFixed(1)),
      urlBudgetGoneAtSeconds: secondsInto(budgetSpentAt(submissions, 'url', limits.urlsPerDay)),
      dirBudgetGoneAtSeconds: secondsInto(budgetSpentAt(submissions, 'directory', limits.dirsPerDay)),
      calls: counts.calls.RefreshVodObjectCaches ?? {},
      refusals: refusalsOf(counts),
      ...measured,
    };
  } finally {
    await stack.stop();
  }
}

export async function benchScarcity({
  seed = 1,
  scale = 1,
  traceSeconds = 60,
  quietSeconds = 30,
  policies = DEFAULT_POLICIES,
} = {}) {
  for (const policy of policies)
    if (!POLICIES[policy])
      throw new Error(`unknown policy ${policy}: one of ${Object.keys(POLICIES).join(', ')}`);
  const trace = generateTrace({ seed, scale, durationMs: traceSeconds * 1000 });
  // Per-minute limits as large as the day: the day's budget is the scarce one.
  const limits = {
    urlsPerDay: trace.budget.urls,
    dirsPerDay: trace.budget.dirs,
    urlsPerMinute: trace.budget.urls,
    dirsPerMinute: trace.budget.dirs,
  };
  // Both the emulator and the worker start the day at 00:00 of a zone where it is now about noon.
  const utcOffsetMinutes = middayOffsetMinutes(Date.now());
  const runs = [];
  for (const policy of policies)
    runs.push(await runPolicy(trace, policy, { limits, utcOffsetMinutes, quietMs: quietSeconds * 1000 }));
  const requested = requestedDirectories(trace);
  const oracle = oracleBound({
    changed: changeTimes(trace).keys(),
    catalogue: trace.catalogue,
    urls: trace.budget.urls,
    dirs: trace.budget.dirs,
  });
  return {
    name: 'scarcity',
    settings: {
      seed,
      scale,
      traceSeconds,
      quietSeconds,
      limits,
      quotaUtcOffset: formatOffset(utcOffsetMinutes),
    },
    trace: { ...describeTrace(trace), requestedDirectories: [...requested] },
    oracle: { ...oracle, promotedUnits: oracle.folders.filter((folder) => !requested.has(folder)).length },
    runs,
  };
}
