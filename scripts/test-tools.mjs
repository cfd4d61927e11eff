#!/usr/bin/env node
// Makes sure the system tools the test suites drive are on PATH, so that the README's one test
// command is all a fresh machine needs. Each tool comes from the system's package manager where
// this process may use it (root with apt-get); otherwise it stops with the exact command to run.
// Suites that need a tool the operator chose to skip (SKIP_PROMETHEUS_TESTS=1,
// SKIP_BROWSER_TESTS=1) drop it.
import { spawnSync } from 'node:child_process';

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

const missing = missingTools();
if (missing.length > 0) {
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  const installed = install(packages) && missingTools(missing).length === 0;
  if (!installed) {
    const still = missingTools(missing);
    console.error('test-tools: these tools are needed and could not be installed here:');
    for (const tool of still) console.error(`  ${tool.command} (for ${tool.why})`);
    console.error(
      `Install them, e.g. on Debian/Ubuntu: sudo apt-get install ${[...new Set(still.map((t) => t.pkg))].join(' ')}`,
    );
    console.error(
      '(SKIP_PROMETHEUS_TESTS=1 skips the monitoring suite; SKIP_BROWSER_TESTS=1 the operator page suite.)',
    );
    process.exit(1);
  }
}
