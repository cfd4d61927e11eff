import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signCallback, type RunningWorker } from '@refreshq/worker';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_KEY,
  type TestIntake,
  type TestStack,
  eventually,
  postJson,
  startTestStack,
} from './support/stack.js';

const SECRET = 'callback-secret-0123456789';
interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let failFirst = true;

let upstream: RunningEmulator;
let intake: TestIntake;
let worker: RunningWorker;
let stack: TestStack;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(failFirst ? 500 : 204);
      failFirst = false;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/refreshq`;
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    domains: { 'ok.example.com': 'online', 'gone.example.com': 'offline' },
    tasks: { pendingMs: 50, completeAfterMs: 300 },
  });
  // The receiver is on loopback: allowed the way an operator would, by naming host and port to both.
  const allowed = { CALLBACK_ALLOWED_HOSTS: new URL(receiverUrl).host };
  ({ intake, worker } = stack = await startTestStack(
    upstream.url,
    { TASK_FIRST_POLL_MS: '200', CALLBACK_SIGNING_SECRET: SECRET, ...allowed },
    allowed,
  ));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('completion callbacks', () => {
  it('POSTs the final status once every path has ended, signed, and retries a failed delivery', async () => {
    const accepted = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://ok.example.com/a.png', 'https://gone.example.com/b.png'],
      callbackUrl: receiverUrl,
    });
    expect(accepted.status).toBe(202);
    await eventually(
      async () => (received.length >= 2 ? true : undefined),
      20_000,
      'two deliveries (one failed, one accepted)',
    );
    const [first, second] = received as [Received, Received];
    expect(first.headers['x-refreshq-attempt']).toBe('1');
    expect(second.headers['x-refreshq-attempt']).toBe('2');
    const body = JSON.parse(second.body);
    expect(body).toMatchObject({ id: accepted.body.id, state: 'partially_failed' });
    expect(body.paths.map((p: { state: string }) => p.state).sort()).toEqual(['complete', 'rejected']);
    const timestamp = String(second.headers['x-refreshq-timestamp']);
    expect(second.headers['x-refreshq-signature']).toBe(signCallback(SECRET, timestamp, second.body));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received).toHaveLength(2);
    expect(await worker.metrics.registry.metrics()).toMatch(
      /refreshq_callbacks_total\{result="delivered"[^}]*\} 1/,
    );
  });

  it('rejects a bad callbackUrl at intake', async () => {
    for (const [callbackUrl, code] of [
      ['ftp://127.0.0.1/x', 'invalid_callback_url'],
      ['not a url', 'invalid_callback_url'],
      ['http://user:pw@127.0.0.1/x', 'invalid_callback_url'],
      ['https://elsewhere.example/x', 'callback_host_not_allowed'],
    ] as const) {
      const answer = await postJson(`${intake.url}/v1/refreshes`, {
        paths: ['https://ok.example.com/c.png'],
        callbackUrl,
      });
      expect(answer.status, callbackUrl).toBe(400);
      expect(answer.body.error.code).toBe(code);
    }
  });
});
