import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createClient, EXIT } from '@refreshq/cli';
import { waitForEnd } from '../apps/cli/src/wait.js';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, type TestIntake, type TestStack, getJson, startTestStack } from './support/stack.js';

// The built CLI (apps/cli/dist/main.js, what the `bin` installs) run as its own process, as a user
// would, against a real stack: intake, a worker, the emulator, Redis.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const INTAKE_TOKEN = 'intake-token-0123456789';
const ADMIN_TOKEN = 'admin-token-0123456789';

let upstream: RunningEmulator;
let intake: TestIntake;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    domains: { 'ok.example.com': 'online', 'gone.example.com': 'offline' },
    tasks: { pendingMs: 50, completeAfterMs: 250, failureRate: 0, seed: 1 },
  });
  ({ intake } = stack = await startTestStack(
    upstream.url,
    { TASK_FIRST_POLL_MS: '150' },
    { INTAKE_TOKENS: INTAKE_TOKEN, ADMIN_TOKENS: ADMIN_TOKEN },
  ));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  env: Record<string, string> = {},
  command: string[] = [process.execPath, 'apps/cli/dist/main.js'],
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [file, ...prefix] = command as [string, ...string[]];
    const child = spawn(file, [...prefix, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        REFRESHQ_URL: intake.url,
        REFRESHQ_TOKEN: ADMIN_TOKEN,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A loopback port nothing listens on (just released by a server of ours). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const fast = ['--wait', '--interval', '0.1', '--timeout', '20'];

describe('refreshq purge --wait', () => {
  it('follows the request in plain lines when not on a terminal, and exits 0 when every path completed', async () => {
    const result = await run([
      'purge',
      'https://ok.example.com/cli/a.mp4',
      'https://ok.example.com/cli/b.mp4',
      ...fast,
    ]);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^queued 2 path\(s\) as request [0-9a-f-]{36}/);
    expect(result.stdout).toMatch(/ complete · 2 complete\n/);
    expect(result.stdout).toContain('complete   https://ok.example.com/cli/a.mp4  (task ');
    // Progress: one plain line per change, no terminal control codes.
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/ complete · 2 complete$/);
    expect(new Set(lines).size).toBe(lines.length);
    expect(result.stderr).not.toContain('\x1b');
  });

  it('with --json prints the final status as the API gives it; exit 1 when a path was rejected', async () => {
    const result = await run([
      '--json',
      'purge',
      'https://ok.example.com/cli/c.mp4',
      'https://gone.example.com/cli/d.mp4',
      ...fast,
    ]);
    expect(result.code).toBe(EXIT.unsuccessful);
    const final = JSON.parse(result.stdout);
    expect(final.state).toBe('partially_failed');
    expect(final).toEqual(
      (await getJson(`${intake.url}/v1/refreshes/${final.id}`, { authorization: `Bearer ${ADMIN_TOKEN}` }))
        .body,
    );
  });

  it('draws a live line on a terminal, rewritten in place', async () => {
    const client = createClient(intake.url, ADMIN_TOKEN);
    const { id } = await client.call<{ id: string }>('POST', '/v1/refreshes', {
      paths: ['https://ok.example.com/cli/tty.mp4'],
    });
    let written = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk, _encoding, callback) {
          written += String(chunk);
          callback();
        },
      }),
      { isTTY: true },
    );
    const ended = await waitForEnd(client, id, { intervalMs: 50, timeoutMs: 20_000, out: terminal });
    expect(ended.state).toBe('complete');
    expect(written.startsWith('\r\x1b[2K')).toBe(true);
    expect(written.split('\n')).toHaveLength(2);
    expect(written.endsWith('\n')).toBe(true);
  });

  it('gives up after --timeout with exit 5 while submitting is paused', async () => {
    expect((await run(['pause', '--reason', 'cli test'])).stdout).toMatch(
      /^submitting: PAUSED since .* \(cli test\)/,
    );
    try {
      const result = await run([
        'purge',
        'https://ok.example.com/cli/held.mp4',
        '--wait',
        '--interval',
        '0.1',
        '--timeout',
        '0.5',
      ]);
      expect(result.code).toBe(EXIT.timedOut);
      expect(result.stderr).toMatch(/submitting paused/);
      expect(result.stderr).toMatch(/gave up waiting: request .* is still queued/);
    } finally {
      expect((await run(['resume'])).stdout.trim()).toBe('submitting: on');
    }
  });

  it('queues directories with --dir, in the lane --priority names', async () => {
    const result = await run([
      '--json',
      'purge',
      '--dir',
      '--priority',
      'high',
      'https://ok.example.com/cli/dir/',
    ]);
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({
      accepted: 1,
      objectType: 'Directory',
      priority: 'high',
    });
  });
});

describe('the other commands', () => {
  it('status, lookup and list', async () => {
    const purge = await run(['--json', 'purge', 'https://ok.example.com/cli/s.mp4', ...fast]);
    const final = JSON.parse(purge.stdout);

    const status = await run(['status', final.id]);
    expect(status.code).toBe(EXIT.ok);
    expect(status.stdout).toContain(`${final.id} complete · 1 complete`);

    const lookup = await run(['lookup', 'HTTPS://OK.EXAMPLE.COM/cli/s.mp4']);
    expect(lookup.code).toBe(EXIT.ok);
    expect(lookup.stdout).toContain(
      `https://ok.example.com/cli/s.mp4 (File): complete on request ${final.id}`,
    );
    expect(lookup.stdout).toContain(
      `task ${final.paths[0].taskId}, upstream RequestId ${final.paths[0].upstreamRequestId}`,
    );
    const lookupJson = JSON.parse(
      (await run(['--json', 'lookup', 'https://ok.example.com/cli/s.mp4'])).stdout,
    );
    expect(lookupJson.lastSubmission.taskId).toBe(final.paths[0].taskId);

    const list = JSON.parse((await run(['--json', 'list', '--limit', '1'])).stdout);
    expect(list.refreshes).toHaveLength(1);
    expect(list.nextCursor).toEqual(expect.any(String));
    const next = JSON.parse(
      (await run(['--json', 'list', '--limit', '1', '--cursor', list.nextCursor])).stdout,
    );
    expect(next.refreshes[0].id).not.toBe(list.refreshes[0].id);
    const human = await run(['list', '--state', 'complete', '--limit', '50']);
    expect(human.stdout).toContain(final.id);
  });

  it('quota', async () => {
    const human = await run(['quota']);
    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toMatch(/^backlog File: high \d+, normal \d+, low \d+$/m);
    expect(human.stdout).toMatch(/^breaker: closed$/m);
    expect(human.stdout).toMatch(/^submitting: on$/m);
    const json = JSON.parse((await run(['--json', 'quota'])).stdout);
    expect(json.pause).toEqual({ paused: false });
  });

  it('retry and cancel', async () => {
    const failed = JSON.parse(
      (await run(['--json', 'purge', 'https://gone.example.com/cli/r.mp4', ...fast])).stdout,
    );
    expect(failed.state).toBe('failed');
    upstream.emulator.setDomainState('gone.example.com', 'online');
    try {
      const retried = await run(['retry', failed.id, ...fast]);
      expect(retried.code, retried.stderr).toBe(EXIT.ok);
      expect(retried.stdout).toMatch(
        new RegExp(`^queued 1 path\\(s\\) as request .* \\(retry of ${failed.id}\\)`),
      );
    } finally {
      upstream.emulator.setDomainState('gone.example.com', 'offline');
    }

    await run(['pause']);
    try {
      const queued = JSON.parse(
        (await run(['--json', 'purge', 'https://ok.example.com/cli/cancel.mp4'])).stdout,
      );
      // Cancelling needs the request admitted; until a worker has taken it the API says 409.
      let cancel = await run(['cancel', queued.id]);
      for (let tries = 0; tries < 100 && cancel.stderr.includes('not_admitted'); tries += 1)
        cancel = await run(['cancel', queued.id]);
      expect(cancel.code).toBe(EXIT.ok);
      expect(cancel.stdout).toContain(
        `request ${queued.id}: 1 path(s) cancelled, 0 already gone; now cancelled`,
      );
    } finally {
      await run(['resume']);
    }
  });

  it('exit codes: 3 for a refusal (its JSON with --json), 4 for no service, 2 for a bad command line', async () => {
    const unknown = await run(['--json', 'status', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(EXIT.refused);
    expect(JSON.parse(unknown.stdout).error.code).toBe('not_found');

    const forbidden = await run(['pause'], { REFRESHQ_TOKEN: INTAKE_TOKEN });
    expect(forbidden.code).toBe(EXIT.refused);
    expect(forbidden.stderr).toContain('refreshq: forbidden: this action needs a token of ADMIN_TOKENS');
    expect((await run(['quota'], { REFRESHQ_TOKEN: '' })).code).toBe(EXIT.refused);

    const port = await closedPort();
    const closed = await run(['quota'], { REFRESHQ_URL: `http://127.0.0.1:${port}` });
    expect(closed.code).toBe(EXIT.unavailable);
    expect(closed.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);

    expect((await run(['frobnicate'])).code).toBe(EXIT.usage);
    expect((await run(['purge'])).code).toBe(EXIT.usage);
    expect((await run(['purge', '--priority', 'urgent', 'https://ok.example.com/x'])).code).toBe(EXIT.usage);
    expect((await run(['--help'])).code).toBe(EXIT.ok);
  });

  it('runs as the root script `pnpm refreshq` straight after install', async () => {
    const pnpm = [process.execPath, 'node_modules/pnpm/bin/pnpm.cjs', '-s', 'refreshq'];
    const result = await run(['--json', 'quota'], {}, pnpm);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout).pause).toEqual({ paused: false });
  });
});
