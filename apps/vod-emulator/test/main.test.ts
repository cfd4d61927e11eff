import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET } from '../src/index.js';
import { popClient } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** Runs src/main.ts through tsx, as `pnpm start:emulator` runs dist/main.js. */
function run(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function listening(proc: Proc): Promise<string> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    for (const line of proc.out().split('\n')) {
      if (line.includes('VOD emulator listening')) return (JSON.parse(line) as { url: string }).url;
    }
    if (proc.child.exitCode !== null) throw new Error(`exited early: ${proc.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not listening: ${proc.out()} ${proc.err()}`);
}

describe('main (the start:emulator process)', () => {
  it('prints the dev pair loudly, serves pop-core, logs one line per request, stops on SIGTERM', async () => {
    const proc = run({ EMULATOR_PORT: '0' });
    const url = await listening(proc);
    expect(proc.err()).toContain(DEV_ACCESS_KEY_ID);
    expect(proc.err()).toContain(DEV_ACCESS_KEY_SECRET);
    const client = popClient(url);
    await client.request('RefreshVodObjectCaches', { ObjectPath: 'https://cdn.example.com/a.png' }, {});
    await client.request('DescribeVodRefreshQuota', {}, {});
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const lines = proc
      .out()
      .split('\n')
      .filter((l) => l.includes('"rpc request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.action, l.code, l.status])).toEqual([
      ['RefreshVodObjectCaches', 'OK', 200],
      ['DescribeVodRefreshQuota', 'OK', 200],
    ]);
    for (const l of lines) expect(typeof l.durationMs).toBe('number');
    expect(proc.out()).not.toContain('Signature=');
  });

  it('never prints a configured secret, nor the Signature', async () => {
    const keys = { accessKeyId: 'LTAIconfiguredKey42', accessKeySecret: 'configured-secret-never-printed' };
    const proc = run({
      EMULATOR_PORT: '0',
      ALIBABA_CLOUD_ACCESS_KEY_ID: keys.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: keys.accessKeySecret,
      EMULATOR_LOG_LEVEL: 'trace',
    });
    const url = await listening(proc);
    const client = popClient(url, keys);
    await client.request('RefreshVodObjectCaches', { ObjectPath: 'https://cdn.example.com/a.png' }, {});
    await client.request('RefreshVodObjectCaches', { ObjectPath: 'bad' }, {}).catch(() => undefined);
    await popClient(url, { ...keys, accessKeySecret: 'wrong' })
      .request('DescribeVodRefreshQuota', {}, {})
      .catch(() => undefined);
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    const all = proc.out() + proc.err();
    expect(all).not.toContain(keys.accessKeySecret);
    expect(all).not.toContain(keys.accessKeyId);
    expect(all).not.toContain(DEV_ACCESS_KEY_SECRET);
    expect(all).toContain('SignatureDoesNotMatch'); // the code is logged ...
    expect(all).not.toMatch(/"Signature"|Signature=|string to sign/); // ... never a signature
  });

  it('stops with a message naming a bad variable', async () => {
    const proc = run({ EMULATOR_PORT: 'ninety' });
    expect(await proc.exited).toBe(1);
    expect(proc.err()).toContain('EMULATOR_PORT: must be a whole number from 0 to 65535');
  });
});
