#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, prints a table each and writes bench-results/results.json.
// BENCH_DURATION (seconds per measured HTTP run, default 10), BENCH_CONNECTIONS (default 32),
// BENCH_ONLY (comma-separated names: intake, coalescing, quota, naive).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchCoalescing } from './bench/coalescing.mjs';
import { benchIntake } from './bench/intake.mjs';
import { benchNaiveVsRefreshq } from './bench/naive-vs-refreshq.mjs';
import { benchQuota } from './bench/quota.mjs';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
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

if (wanted('intake')) {
  const intake = await benchIntake({ duration, connections });
  results.push(intake);
  table([
    [
      `intake (${intake.settings.tool}, ${connections} connections, ${duration} s)`,
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors+non2xx',
    ],
    [
      'bare express (baseline)',
      intake.bareExpress.requestsPerSecond,
      intake.bareExpress.p50Ms,
      intake.bareExpress.p99Ms,
      intake.bareExpress.errors + intake.bareExpress.non2xx,
    ],
    [
      'intake POST /v1/refreshes',
      intake.intake.requestsPerSecond,
      intake.intake.p50Ms,
      intake.intake.p99Ms,
      intake.intake.errors + intake.intake.non2xx,
    ],
    ['intake / bare (ratio)', intake.ratio.throughput, '', intake.ratio.p99, ''],
  ]);
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

mkdirSync('bench-results', { recursive: true });
const file = 'bench-results/results.json';
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
console.log(
  `written: ${file} (machine: ${machine.cpus} cpus, ${machine.memoryGiB} GiB, node ${machine.node})`,
);
