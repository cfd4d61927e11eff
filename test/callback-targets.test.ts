import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyspace } from '@refreshq/store';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import type { Resolve, RunningWorker } from '@refreshq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanNamespace,
  eventually,
  postJson,
  startTestIntake,
  startTestWorker,
  TEST_KEY,
  type TestIntake,
} from './support/stack.js';

/**
 * Nothing reaches inward (DESIGN.md invariant 8), end to end: intake, a worker and the emulator,
 * callback receivers on 127.0.0.1 only. Names that point inside "resolve" through a stub
 * resolver handed to the worker, so no packet ever goes anywhere but loopback.
 */

interface Receiver {
  server: Server;
  port: number;
  received: string[];
}

async function receiver(
  answer: (req: IncomingMessage) => [number, Record<string, string>?],
): Promise<Receiver> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(`${req.url ?? ''} ${String(req.headers['x-refreshq-request-id'] ?? '')}`);
      const [status, headers] = answer(req);
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

/** Names this test's worker resolves; every one of them points at loopback. */
const resolveStub: Resolve = (hostname, _options, callback) => {
  if (hostname === 'inside.test') callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(Object.assign(new Error(`stub: no such name ${hostname}`), { code: 'ENOTFOUND' }), []);
};

let emulator: RunningEmulator;
let hooks: Receiver;
let redirecting: Receiver;
const stacks: { intake: TestIntake; worker: RunningWorker }[] = [];

async function stack(
  intakeEnv: Record<string, string>,
  workerEnv: Record<string, string>,
): Promise<{ intake: TestIntake; worker: RunningWorker }> {
  const intake = await startTestIntake(intakeEnv);
  const worker = await startTestWorker(
    intake.namespace,
    emulator.url,
    { CALLBACK_MAX_ATTEMPTS: '2', ...workerEnv },
    { resolve: resolveStub },
  );
  const started = { intake, worker };
  stacks.push(started);
  return started;
}

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    // An offline domain: its paths are rejected at once, so the request ends and its callback is due.
    domains: { 'gone.example.com': 'offline' },
  });
  hooks = await receiver(() => [204]);
  redirecting = await receiver(() => [307, { location: `http://127.0.0.1:${hooks.port}/redirected` }]);
});

afterAll(async () => {
  for (const { intake, worker } of stacks) {
    await worker.stop();
    await intake.close();
    await cleanNamespace(intake.namespace);
  }
  await emulator?.close();
  for (const listener of [hooks, redirecting]) {
    listener?.server.closeAllConnections();
    await new Promise((resolve) => listener?.server.close(resolve));
  }
});

/** Posts a request whose one path is rejected upstream at once, so its callback is due within a second. */
async function request(intake: TestIntake, callbackUrl: string) {
  return postJson(`${intake.url}/v1/refreshes`, {
    paths: [`https://gone.example.com/${Math.random()}`],
    callbackUrl,
  });
}

async function callbackRecord(stackOf: { intake: TestIntake; worker: RunningWorker }, id: string) {
  const raw = await stackOf.worker.redis.hget(keyspace(stackOf.intake.namespace).request(id), 'callback');
  return raw === null
    ? undefined
    : (JSON.parse(raw) as { state: string; attempts: number; lastStatus?: number });
}

describe('default policy (no CALLBACK_ALLOWED_HOSTS, no CALLBACK_ALLOW_PRIVATE)', () => {
  let open: { intake: TestIntake; worker: RunningWorker };
  beforeAll(async () => {
    open = await stack({}, {});
  });

  it('intake refuses every spelling of an inside address with 400 callback_host_not_allowed, and queues nothing', async () => {
    const port = hooks.port;
    const before = await open.intake.queueCounts();
    for (const host of [
      '127.0.0.1',
      '2130706433',
      '0x7f.1',
      '0177.0.0.1',
      '127.1',
      '0.0.0.0',
      '[::ffff:127.0.0.1]',
      '[::1]',
      'localhost',
      '169.254.169.254',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.0.1',
      '100.64.0.1',
      '[fd00::1]',
      '[fe80::1]',
      '224.0.0.1',
      '255.255.255.255',
    ]) {
      const answer = await request(open.intake, `http://${host}:${port}/hook?token=secret`);
      expect(answer.status, host).toBe(400);
      expect(answer.body.error.code, host).toBe('callback_host_not_allowed');
      expect(answer.body.error.message, host).not.toContain('secret');
    }
    expect(await open.intake.queueCounts()).toBe(before);
    expect(hooks.received).toEqual([]);
  });

  it('intake refuses CR, LF and other control characters in a callbackUrl instead of stripping them', async () => {
    for (const url of [
      'https://hooks.example.com/a\r\nX-Injected: 1',
      'https://hooks.example.com/a\nb',
      'https://hooks.example.com/\tb',
      '\u0000https://hooks.example.com/',
      'https://hooks.example.com/a\udfff',
      'https://hooks.example.com/a b',
    ]) {
      const answer = await request(open.intake, url);
      expect(answer.status, JSON.stringify(url)).toBe(400);
      expect(answer.body.error.code, JSON.stringify(url)).toBe('invalid_callback_url');
    }
  });

  it('a name that resolves inside passes intake but is refused at connect time: never sent, not retried', async () => {
    const accepted = await request(open.intake, `http://inside.test:${hooks.port}/hook?token=secret`);
    expect(accepted.status).toBe(202);
    const record = await eventually(
      async () =>
        (await callbackRecord(open, accepted.body.id))?.state === 'failed'
          ? callbackRecord(open, accepted.body.id)
          : undefined,
      20_000,
      'the callback refused',
    );
    expect(record).toMatchObject({ state: 'failed', attempts: 1, lastStatus: 0 });
    expect(hooks.received).toEqual([]);
    expect(await open.worker.metrics.registry.metrics()).toMatch(
      /refreshq_callbacks_total\{result="refused"[^}]*\} 1/,
    );
  });
});

describe('CALLBACK_ALLOWED_HOSTS names host:port', () => {
  let allowed: { intake: TestIntake; worker: RunningWorker };
  beforeAll(async () => {
    const list = { CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${hooks.port},127.0.0.1:${redirecting.port}` };
    allowed = await stack(list, list);
  });

  it('delivers to the named host and port, in another spelling of the host too', async () => {
    const accepted = await request(allowed.intake, `http://2130706433:${hooks.port}/named`);
    expect(accepted.status).toBe(202);
    await eventually(
      async () => (hooks.received.includes(`/named ${accepted.body.id}`) ? true : undefined),
      20_000,
      'the callback delivered',
    );
  });

  it('refuses the same host on another port at intake', async () => {
    const answer = await request(allowed.intake, `http://127.0.0.1:${hooks.port + 1}/x`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('callback_host_not_allowed');
  });

  it('does not follow a redirect, even to an allowed target: the 307 is a failed delivery, retried, then given up', async () => {
    const accepted = await request(allowed.intake, `http://127.0.0.1:${redirecting.port}/moved`);
    expect(accepted.status).toBe(202);
    const record = await eventually(
      async () =>
        (await callbackRecord(allowed, accepted.body.id))?.state === 'failed'
          ? callbackRecord(allowed, accepted.body.id)
          : undefined,
      20_000,
      'the redirected callback given up',
    );
    expect(record).toMatchObject({ state: 'failed', attempts: 2, lastStatus: 307 });
    expect(redirecting.received.filter((line) => line === `/moved ${accepted.body.id}`)).toHaveLength(2);
    expect(hooks.received.some((line) => line.startsWith('/redirected'))).toBe(false);
  });
});

describe('the worker judges again: intake allows private targets, the worker does not', () => {
  it('a loopback callback that intake accepted is refused by the worker, never sent', async () => {
    const mismatched = await stack({ CALLBACK_ALLOW_PRIVATE: 'true' }, {});
    const accepted = await request(mismatched.intake, `http://127.0.0.1:${hooks.port}/mismatch`);
    expect(accepted.status).toBe(202);
    await eventually(
      async () =>
        (await callbackRecord(mismatched, accepted.body.id))?.state === 'failed' ? true : undefined,
      20_000,
      'the callback refused by the worker',
    );
    expect(hooks.received.some((line) => line.startsWith('/mismatch'))).toBe(false);
  });

  it('with CALLBACK_ALLOW_PRIVATE=true on both, it is delivered', async () => {
    const both = await stack({ CALLBACK_ALLOW_PRIVATE: 'true' }, { CALLBACK_ALLOW_PRIVATE: 'true' });
    const accepted = await request(both.intake, `http://127.0.0.1:${hooks.port}/private`);
    expect(accepted.status).toBe(202);
    await eventually(
      async () => (hooks.received.includes(`/private ${accepted.body.id}`) ? true : undefined),
      20_000,
      'the callback delivered',
    );
  });
});
