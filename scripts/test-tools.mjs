#!/usr/bin/env node
// Makes sure the system tools the test suites drive are on PATH, so that the README's one test
// command is all a fresh machine needs. Each tool comes from the system's package manager where
// this process may use it (root with apt-get); otherwise it stops with the exact command to run.
// Suites that need a tool the operator chose to skip (SKIP_PROMETHEUS_TESTS=1,
// SKIP_BROWSER_TESTS=1) drop it.
// `--bench` adds the benchmarks' tools (wrk, the HTTP load generator); the bench asks for them too.
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** tool on PATH → Debian package that brings it, and the suites that need it. */
const TOOLS = [
  { command: 'redis-server', pkg: 'redis-server', needed: () => true, why: 'every integration test' },
  { command: 'redis-cli', pkg: 'redis-tools', needed: () => true, why: 'the Redis Cluster suite' },
  {
    command: 'prometheus',
    pkg: 'prometheus',
    needed: () => !process.env.SKIP_PROMETHEUS_TESTS,
    why: 'test/monitoring.test.ts',
  },
  {
    command: 'promtool',
    pkg: 'prometheus',
    needed: () => !process.env.SKIP_PROMETHEUS_TESTS,
    why: 'test/monitoring.test.ts',
  },
  {
    command: 'chromium',
    pkg: 'chromium',
    needed: () => !process.env.SKIP_BROWSER_TESTS,
    why: 'test/operator-page.test.ts (headless, driven by playwright-core)',
  },
];

/** The benchmarks' load generator: C, one thread, so it takes little CPU from the servers it measures. */
export const BENCH_TOOLS = [
  { command: 'wrk', pkg: 'wrk', needed: () => true, why: 'the intake benchmarks (BENCH_ONLY=intake, bulk)' },
];

const onPath = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

export function missingTools(tools = TOOLS) {
  return tools.filter((tool) => tool.needed() && !onPath(tool.command));
}

function install(packages) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) return false;
  console.log(`test-tools: installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) return false;
  const result = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  return result.status === 0;
}

/** Installs what is missing where it can; returns the tools still missing (with the command to run printed). */
export function ensureTools(tools) {
  const missing = missingTools(tools);
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  if (install(packages) && missingTools(missing).length === 0) return [];
  const still = missingTools(missing);
  console.error('test-tools: these tools are needed and could not be installed here:');
  for (const tool of still) console.error(`  ${tool.command} (for ${tool.why})`);
  console.error(
    `Install them, e.g. on Debian/Ubuntu: sudo apt-get install ${[...new Set(still.map((t) => t.pkg))].join(' ')}`,
  );
  return still;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tools = process.argv.includes('--bench') ? [...TOOLS, ...BENCH_TOOLS] : TOOLS;
  if (ensureTools(tools).length > 0) {
    console.error(
      '(SKIP_PROMETHEUS_TESTS=1 skips the monitoring suite; SKIP_BROWSER_TESTS=1 the operator page suite.)',
    );
    process.exit(1);
  }
}
