#!/usr/bin/env node
// Crash tests in one command (RELIABILITY.md). Builds, then runs vitest on test/crash with the
// long form switched on, and prints every test's report as one table at the end.
//
//   node scripts/crash.mjs              long form (CRASH_LONG=1): more rounds, kills, paths
//   node scripts/crash.mjs --short      the short form CI runs inside `vitest run`
//   options: --seed N (CRASH_SEED), --only worker|recovery|intake|redis|known, --known-failures
//            (CRASH_KNOWN_FAILURES=1), --appendfsync-everysec (CRASH_APPENDFSYNC=everysec),
//            --fuzz (also the intake fuzz, FUZZ_SCALE=5 in the long form), --no-build
// Any CRASH_* / FUZZ_* variable already in the environment is passed through and wins.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};

const known = new Set([
  '--short',
  '--long',
  '--seed',
  '--only',
  '--known-failures',
  '--appendfsync-everysec',
  '--fuzz',
  '--no-build',
  '--help',
]);
for (const [index, arg] of args.entries()) {
  if (arg.startsWith('--') && !known.has(arg)) {
    process.stderr.write(`unknown option ${arg}\n`);
    process.exit(64);
  }
  if (!arg.startsWith('--') && !['--seed', '--only'].includes(args[index - 1] ?? '')) {
    process.stderr.write(`unexpected argument ${arg}\n`);
    process.exit(64);
  }
}
if (flag('--help')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  const header = lines.slice(
    0,
    lines.findIndex((line) => !line.startsWith('//')),
  );
  process.stdout.write(`${header.map((line) => line.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}

const long = !flag('--short');
const files = {
  worker: 'test/crash/worker-kill.test.ts',
  recovery: 'test/crash/worker-recovery.test.ts',
  intake: 'test/crash/intake-kill.test.ts',
  redis: 'test/crash/redis-restart.test.ts',
  known: 'test/crash/lost-replies.test.ts',
};
const only = option('--only');
if (only !== undefined && !(only in files)) {
  process.stderr.write(`--only takes one of: ${Object.keys(files).join(', ')}\n`);
  process.exit(64);
}
const targets = only ? [files[only]] : ['test/crash'];
if (flag('--fuzz')) targets.push('test/fuzz');

const workdir = mkdtempSync(join(tmpdir(), 'refreshq-crash-report-'));
const reportFile = join(workdir, 'crash.jsonl');
const fuzzFile = join(workdir, 'fuzz.json');
const env = {
  ...process.env,
  CRASH_REPORT_FILE: reportFile,
  FUZZ_REPORT_FILE: fuzzFile,
  ...(long ? { CRASH_LONG: '1' } : {}),
  ...(option('--seed') ? { CRASH_SEED: option('--seed'), FUZZ_SEED: option('--seed') } : {}),
  ...(flag('--known-failures') ? { CRASH_KNOWN_FAILURES: '1', FUZZ_KNOWN_FAILURES: '1' } : {}),
  ...(flag('--appendfsync-everysec') ? { CRASH_APPENDFSYNC: 'everysec' } : {}),
  ...(flag('--fuzz') && long && !process.env.FUZZ_SCALE ? { FUZZ_SCALE: '5' } : {}),
};
// Whatever the caller set explicitly wins over the flags' defaults.
for (const [key, value] of Object.entries(process.env))
  if (key.startsWith('CRASH_') || key.startsWith('FUZZ_')) env[key] = value;
env.CRASH_REPORT_FILE = reportFile;
env.FUZZ_REPORT_FILE = fuzzFile;

const say = (message) => process.stdout.write(`[crash] ${message}\n`);

if (!flag('--no-build')) {
  say('building (tsc -b tsconfig.build.json): the crash tests run the built processes');
  const built = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    { cwd: root, stdio: 'inherit' },
  );
  if (built.status !== 0) {
    say('the build failed; fix it, or run the tests against the existing build with --no-build');
    process.exit(built.status ?? 1);
  }
}

const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
say(
  `${long ? 'long' : 'short'} form: vitest run ${targets.join(' ')}${env.CRASH_SEED ? ` (seed ${env.CRASH_SEED})` : ''}`,
);
const started = Date.now();
const run = spawnSync(process.execPath, [vitest, 'run', ...targets], { cwd: root, env, stdio: 'inherit' });
const seconds = ((Date.now() - started) / 1000).toFixed(1);

const lines = existsSync(reportFile)
  ? readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
process.stdout.write(`\n==== crash reports (${long ? 'long' : 'short'} form, ${seconds} s) ====\n`);
const pick = (report, keys) =>
  keys
    .filter((key) => key in report)
    .map((key) => `${key}: ${typeof report[key] === 'string' ? report[key] : JSON.stringify(report[key])}`);
for (const report of lines) {
  process.stdout.write(`\n${report.test}\n`);
  const keys = Object.keys(report).filter(
    (key) =>
      !['test', 'at'].includes(key) &&
      !key.startsWith('killed') &&
      !key.startsWith('kills (') &&
      !key.startsWith('restarts ('),
  );
  for (const line of pick(report, keys)) process.stdout.write(`  ${line}\n`);
}
if (lines.length === 0) process.stdout.write('(no crash test wrote a report: see the vitest output above)\n');
if (existsSync(fuzzFile)) {
  const fuzz = JSON.parse(readFileSync(fuzzFile, 'utf8'));
  process.stdout.write(`\nintake fuzz: ${fuzz.total} inputs (seed ${fuzz.seed}, scale ${fuzz.scale})\n`);
  for (const row of fuzz.rows)
    process.stdout.write(
      `  ${row.class.padEnd(32)} ${String(row.tried).padStart(6)}${row.knownDefects ? `  known defects ${row.knownDefects}` : ''}\n`,
    );
}
rmSync(workdir, { recursive: true, force: true });
process.stdout.write(`\nvitest exit code ${run.status ?? run.signal}\n`);
process.exit(run.status ?? 1);
