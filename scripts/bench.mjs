#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, prints a table each and writes bench-results/results.json.
// BENCH_DURATION (seconds per measured HTTP round, default 10), BENCH_ROUNDS (alternating rounds
// per server, default 5), BENCH_CONNECTIONS (default 32; bulk uses 8), BENCH_PROFILE=1 (a CPU
// profile of intake, summarised), BENCH_ONLY (comma-separated names: intake, bulk, admission,
// coalescing, quota, naive, scarcity). admission: ADMISSION_JOBS (200 requests of 1,000 paths).
// scarcity: SCARCITY_SEED (1), SCARCITY_SCALE (1), SCARCITY_SECONDS (trace length, 60),
// SCARCITY_QUIET_SECONDS (30), SCARCITY_POLICIES (fifo,spend-well; fifo-tuned on request).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchCoalescing } from './bench/coalescing.mjs';
import { benchAdmission } from './bench/admission.mjs';
import { benchIntake, benchIntakeBulk } from './bench/intake.mjs';
import { benchNaiveVsRefreshq } from './bench/naive-vs-refreshq.mjs';
import { benchQuota } from './bench/quota.mjs';
import { benchScarcity } from './bench/scarcity.mjs';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const wanted = (name) => !only || only.includes(name);

function table(rows) {
  const widths = rows[0].map((_cell, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  for (const row of rows)
    console.log(row.map((cell, column) => String(cell).padEnd(widths[column])).join('  '));
  console.log('');
}

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
const results = [];

/** The table of an intake comparison (single-path or bulk): medians of alternating rounds. */
function intakeTable(result, title, unit) {
  const row = (label, r) => [
    label,
    r.requestsPerSecond,
    ...(unit === 'paths/s' ? [r.pathsPerSecond] : []),
    r.p50Ms,
    r.p99Ms,
    r.cpuUsPerRequest ?? '-',
    r.errors + r.non2xx,
    r.rounds.join(' / '),
    r.p99ByRound.join(' / '),
  ];
  table([
    [
      title,
      'req/s',
      ...(unit === 'paths/s' ? ['paths/s'] : []),
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'errors+non2xx',
      'req/s by round',
      'p99 ms by round',
    ],
    row('bare express (baseline)', result.bareExpress),
    row('intake POST /v1/refreshes', result.intake),
    ...(result.baseline ? [row(`baseline intake (${result.baseline.root})`, result.baseline)] : []),
    [
      'intake / bare (ratio)',
      result.ratio.throughput,
      ...(unit === 'paths/s' ? [result.ratio.throughput] : []),
      '',
      result.ratio.p99,
      result.ratio.cpuPerRequest ?? '',
      '',
      '',
      '',
    ],
  ]);
  if (result.baseline)
    console.log(
      `baseline / bare: throughput ${result.baseline.ratio.throughput}, p99 ${result.baseline.ratio.p99}, CPU per request ${result.baseline.ratio.cpuPerRequest}\n`,
    );
  for (const profiled of [result.baseline?.profile, result.profile])
    if (profiled) console.log(`${profiled.text}\n`);
}

if (wanted('intake')) {
  const intake = await benchIntake({ duration, connections, rounds });
  results.push(intake);
  intakeTable(
    intake,
    `intake, 1 path per POST (wrk -t1, ${connections} connections, ${rounds} x ${duration} s)`,
    'req/s',
  );
}

if (wanted('bulk')) {
  const bulk = await benchIntakeBulk({ duration, connections: 8, rounds });
  results.push(bulk);
  intakeTable(
    bulk,
    `intake, 1,000 paths per POST (wrk -t1, 8 connections, ${rounds} x ${duration} s)`,
    'paths/s',
  );
}

if (wanted('admission')) {
  const a = await benchAdmission();
  results.push(a);
  const row = (label, r) => [
    label,
    r.pathsPerSecond,
    r.seconds,
    r.redisCores ?? '-',
    (r.workerCores ?? []).join(' + ') || '-',
    r.redisCpuUsPerPath ?? '-',
    r.workerCpuUsPerPath ?? '-',
    (r.byRound ?? []).join(' '),
  ];
  table([
    [
      `admission: ${a.settings.jobs} requests of ${a.settings.pathsPerRequest} paths, ${a.settings.domains} domains, median of ${a.settings.rounds} rounds`,
      'paths/s',
      'seconds',
      'redis-server cores',
      'worker cores',
      'redis CPU µs/path',
      'workers CPU µs/path',
      'paths/s by round',
    ],
    row('one worker process', a.one),
    row('two worker processes', a.two),
    ['two / one', a.scaling, '', '', '', '', '', ''],
    ...(a.baseline
      ? [
          row(`baseline (${a.baseline.root}): one worker`, a.baseline.one),
          row('baseline: two workers', a.baseline.two),
          ['baseline: two / one', a.baseline.scaling, '', '', '', '', '', ''],
        ]
      : []),
  ]);
  const runs = [
    ['one worker', a.one],
    ['two workers', a.two],
  ];
  if (a.baseline) runs.push(['baseline one', a.baseline.one], ['baseline two', a.baseline.two]);
  for (const [label, r] of runs)
    console.log(
      `redis µs/path by command, ${label}: ${Object.entries(r.redisCommands ?? {})
        .map(([name, us]) => `${name} ${us}`)
        .join(', ')}`,
    );
}

if (wanted('coalescing')) {
  const c = await benchCoalescing();
  results.push(c);
  table([
    ['coalescing', 'value'],
    ['requests admitted (1 path each)', c.settings.requests],
    ['distinct paths', c.settings.distinct],
    ['requests merged per second', c.requestsMergedPerSecond],
    ['paths submitted upstream', c.pathsSubmitted],
    ['upstream calls (ideal)', `${c.upstreamCalls} (${c.idealCalls})`],
    ['calls per distinct path (ideal)', `${c.callsPerDistinctPath} (${c.idealCallsPerDistinctPath})`],
    ['drain seconds', c.drainSeconds],
  ]);
}

if (wanted('quota')) {
  const q = await benchQuota();
  results.push(q);
  table([
    ['quota governor', 'value'],
    ['take-quota-9.lua decisions/s, granting (32 in flight)', q.grantDecisionsPerSecond],
    ['take-quota-9.lua decisions/s, refusing (32 in flight)', q.refusalDecisionsPerSecond],
    [
      `utilisation, VOD day budgets, ${q.dayBound.days} simulated days (URLs)`,
      `${q.dayBound.urls.used}/${q.dayBound.urls.available} = ${q.dayBound.urls.utilisation}`,
    ],
    [
      `utilisation, VOD day budgets, ${q.dayBound.days} simulated days (dirs)`,
      `${q.dayBound.dirs.used}/${q.dayBound.dirs.available} = ${q.dayBound.dirs.utilisation}`,
    ],
    [
      'utilisation, per-minute bound, 1 simulated day (URLs)',
      `${q.minuteBound.urls.used}/${q.minuteBound.urls.available} = ${q.minuteBound.urls.utilisation}`,
    ],
    [
      'utilisation, per-minute bound, 1 simulated day (dirs)',
      `${q.minuteBound.dirs.used}/${q.minuteBound.dirs.available} = ${q.minuteBound.dirs.utilisation}`,
    ],
  ]);
}

if (wanted('naive')) {
  const n = await benchNaiveVsRefreshq();
  results.push(n);
  table([
    [
      `the same CMS burst: ${n.settings.webhooks} webhooks over ${n.settings.distinctUrls} URLs`,
      'naive client',
      'refreshq',
    ],
    ['upstream calls', n.naive.calls, n.refreshq.calls],
    ['quota units spent', n.naive.quotaUnitsSpent, n.refreshq.quotaUnitsSpent],
    [
      'errors from the upstream',
      `${n.naive.errors} ${JSON.stringify(n.naive.errorsByCode)}`,
      `${n.refreshq.errors} ${JSON.stringify(n.refreshq.errorsByCode)}`,
    ],
    ['distinct paths refreshed', n.naive.distinctPathsRefreshed, n.refreshq.distinctPathsRefreshed],
    ['seconds', n.naive.seconds, n.refreshq.seconds],
    [
      'refreshq intake-to-submit ms (p50 / p99 / max)',
      '',
      `${n.intakeToSubmitMs.p50} / ${n.intakeToSubmitMs.p99} / ${n.intakeToSubmitMs.max}`,
    ],
  ]);
}

if (wanted('scarcity')) {
  const s = await benchScarcity({
    seed: Number(process.env.SCARCITY_SEED ?? 1),
    scale: Number(process.env.SCARCITY_SCALE ?? 1),
    traceSeconds: Number(process.env.SCARCITY_SECONDS ?? 60),
    quietSeconds: Number(process.env.SCARCITY_QUIET_SECONDS ?? 30),
    policies: process.env.SCARCITY_POLICIES?.split(',').map((name) => name.trim()),
  });
  results.push(s);
  const { trace, oracle, runs } = s;
  const { urlsPerDay, dirsPerDay } = s.settings.limits;
  const percent = (part, whole) => (whole === 0 ? '0%' : `${Math.round((100 * part) / whole)}%`);
  const row = (label, ofRun, ofOracle = '') => [label, ...runs.map(ofRun), ofOracle];
  table([
    [
      `scarcity: ${trace.distinctChangedPaths} changed paths (${trace.changedPerUrlUnit}x the day's ${urlsPerDay} URLs), ${dirsPerDay} dirs, seed ${s.settings.seed}`,
      ...runs.map((r) => `${r.label} (${r.policy})`),
      'oracle, same budgets',
    ],
    row(
      'coverage (refreshed at/after the last change)',
      (r) => `${r.coverage} (${r.covered}/${r.changedPaths})`,
      `${oracle.coverage} (${oracle.covered}/${oracle.changedPaths})`,
    ),
    row('coverage with URL units only', () => '', oracle.urlsOnlyCoverage),
    row('URL units spent', (r) => `${r.urlUnits}/${urlsPerDay}`, `${oracle.urlUnits}/${urlsPerDay}`),
    row('directory units spent', (r) => `${r.dirUnits}/${dirsPerDay}`, `${oracle.dirUnits}/${dirsPerDay}`),
    row(
      'URL units on paths already refreshed',
      (r) => `${r.urlRepeats} (${percent(r.urlRepeats, r.urlUnits)})`,
      '0',
    ),
    row('  of which nothing changed since', (r) => r.urlNeedless, '0'),
    row('directory units on folders already refreshed', (r) => r.dirRepeats, '0'),
    row('directories promoted (units)', (r) => r.promotedUnits, oracle.promotedUnits),
    row('unchanged objects under refreshed folders', (r) => r.sweptUnchanged, oracle.sweptUnchanged),
    row('upstream refusals', (r) => `${r.refusals.total} ${JSON.stringify(r.refusals.byCode)}`),
    row('URL budget gone at (s into the trace)', (r) => r.urlBudgetGoneAtSeconds ?? 'never'),
    row('directory budget gone at (s into the trace)', (r) => r.dirBudgetGoneAtSeconds ?? 'never'),
    row('staleness of covered paths p50 / p95 (s)', (r) =>
      [r.stalenessMs.p50, r.stalenessMs.p95]
        .map((ms) => (ms === null ? '-' : (ms / 1000).toFixed(1)))
        .join(' / '),
    ),
    row('last submission (s after the last hook)', (r) => r.drainSeconds ?? '-'),
    row('run ended', (r) => `${r.end.reason}, backlog ${r.end.backlogLeft}`),
    row(
      'hooks posted (not 202), latest send',
      (r) => `${r.replay.hooks} (${r.replay.notAccepted}), ${r.replay.maxLateMs} ms late`,
    ),
  ]);
}

mkdirSync('bench-results', { recursive: true });
const file = 'bench-results/results.json';
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
console.log(
  `written: ${file} (machine: ${machine.cpus} cpus, ${machine.memoryGiB} GiB, node ${machine.node})`,
);
