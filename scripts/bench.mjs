#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, prints a table and writes bench-results/results.json.
// BENCH_DURATION (seconds per measured run, default 10) and BENCH_CONNECTIONS (default 32).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchIntake } from './bench/intake.mjs';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const intake = await benchIntake({ duration, connections });

const rows = [
  ['benchmark', 'req/s', 'p50 ms', 'p99 ms', 'errors+non2xx'],
  ['bare express (baseline)', intake.bareExpress.requestsPerSecond, intake.bareExpress.p50Ms, intake.bareExpress.p99Ms, intake.bareExpress.errors + intake.bareExpress.non2xx],
  ['intake POST /v1/refreshes', intake.intake.requestsPerSecond, intake.intake.p50Ms, intake.intake.p99Ms, intake.intake.errors + intake.intake.non2xx],
  ['intake / bare (ratio)', intake.ratio.throughput, '', intake.ratio.p99, ''],
];
const widths = rows[0].map((_cell, column) => Math.max(...rows.map((row) => String(row[column]).length)));
for (const row of rows) console.log(row.map((cell, column) => String(cell).padEnd(widths[column])).join('  '));

mkdirSync('bench-results', { recursive: true });
const file = 'bench-results/results.json';
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, results: [intake] }, null, 2)}\n`);
console.log(`\nload tool: ${intake.settings.tool}; written: ${file} (machine: ${machine.cpus} cpus, ${machine.memoryGiB} GiB, node ${machine.node})`);
