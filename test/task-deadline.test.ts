import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import type { RunningWorker } from '@refreshq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  getJson,
  postJson,
  startTestStack,
  TEST_KEY,
  type TestIntake,
  type TestStack,
} from './support/stack.js';

/**
 * Every task ends: the emulator accepts the calls but never lists their tasks
 * (task-timing `unlistedRate: 1`). At the task deadline (TASK_DEADLINE_MS) the paths end
 * `unconfirmed`, the request reaches its final state, the metrics count them, and the callback fires.
 */

const DEADLINE_MS = 2500;
let upstream: RunningEmulator;
let intake: TestIntake;
let worker: RunningWorker;
let stack: TestStack;
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString());
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    tasks: { pendingMs: 50, completeAfterMs: 200, unlistedRate: 1 },
  });
  const allowed = { CALLBACK_ALLOWED_HOSTS: new URL(receiverUrl).host };
  ({ intake, worker } = stack = await startTestStack(
    upstream.url,
    { TASK_DEADLINE_MS: String(DEADLINE_MS), ...allowed },
    allowed,
  ));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('a task the upstream never lists', () => {
  it('ends unconfirmed at the task deadline: the request ends, the metrics count it, the callback fires', async () => {
    const paths = ['https://never.example.com/a.mp4', 'https://never.example.com/b.mp4'];
    const accepted = await postJson(`${intake.url}/v1/refreshes`, { paths, callbackUrl: receiverUrl });
    expect(accepted.status).toBe(202);

    const submitted = await eventually(
      async () => {
        const body = (await getJson(`${intake.url}/v1/refreshes/${accepted.body.id}`)).body;
        return body.counts.submitted === 2 ? body : undefined;
      },
      10_000,
      'both paths submitted',
    );
    expect(upstream.emulator.tasks().map((task) => task.Listed)).toEqual([false, false]);

    const ended = await eventually(
      async () => {
        const body = (await getJson(`${intake.url}/v1/refreshes/${accepted.body.id}`)).body;
        return body.state === 'unconfirmed' ? body : undefined;
      },
      DEADLINE_MS + 15_000,
      'the request to end',
    );
    expect(ended.counts).toMatchObject({ unconfirmed: 2, submitted: 0, refreshing: 0 });
    for (const path of ended.paths) {
      const before = submitted.paths.find((p: { path: string }) => p.path === path.path);
      expect(path).toMatchObject({
        state: 'unconfirmed',
        taskId: before.taskId,
        error: { code: 'TaskUnconfirmed' },
      });
      expect(path.error.message).toMatch(/not listed upstream.*task deadline/);
      // Not given up before its deadline.
      expect(Date.parse(path.updatedAt) - Date.parse(path.submittedAt)).toBeGreaterThanOrEqual(DEADLINE_MS);
    }

    const callback = await eventually(
      async () => (received.length > 0 ? JSON.parse(received[0] as string) : undefined),
      10_000,
      'the completion callback',
    );
    expect(callback).toMatchObject({
      id: accepted.body.id,
      state: 'unconfirmed',
      counts: { unconfirmed: 2 },
    });

    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toMatch(
      /refreshq_paths_unconfirmed_total\{[^}]*object_type="File",reason="deadline"[^}]*\} 2/,
    );
    const described = upstream.emulator.counts().calls.DescribeVodRefreshTasks ?? {};
    expect(described.OK ?? 0).toBeGreaterThan(0);
  });
});
