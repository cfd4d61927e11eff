import { nextQuotaDayStart } from '@refreshq/domain';
import type { RunningWorker } from '@refreshq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareRpcServer, type BareRpcServer } from './support/bare-rpc-server.js';
import {
  TEST_KEY,
  type TestIntake,
  type TestStack,
  eventually,
  getJson,
  postJson,
  startTestStack,
} from './support/stack.js';

let upstream: BareRpcServer;
let intake: TestIntake;
let worker: RunningWorker;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startBareRpcServer(TEST_KEY);
  ({ intake, worker } = stack = await startTestStack(upstream.url, {
    QUOTA_URLS_PER_DAY: '2',
    QUOTA_SYNC_INTERVAL_MS: '0',
  }));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

describe('held paths say when they will go', () => {
  it('shows the estimated submission time and the backlog when the day budget is spent', async () => {
    const accepted = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://h.example/1', 'https://h.example/2', 'https://h.example/3'],
    });
    const body = await eventually(
      async () => {
        const answer = (await getJson(`${intake.url}/v1/refreshes/${accepted.body.id}`)).body;
        // The estimate is republished every 5 s; wait for one made after the budget ran out.
        return answer.counts.submitted === 2 &&
          Date.parse(answer.estimatedSubmitAt ?? '') > Date.now() + 3600_000
          ? answer
          : undefined;
      },
      15_000,
      'two paths submitted and a fresh estimate published',
    );
    expect(body.counts.queued).toBe(1);
    const expected = nextQuotaDayStart(Date.now(), 480);
    expect(Math.abs(Date.parse(body.estimatedSubmitAt) - expected)).toBeLessThan(5_000);
    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toMatch(/refreshq_backlog_paths\{object_type="File",lane="normal"[^}]*\} 1/);
    expect(metrics).toMatch(/refreshq_quota_used_units\{object_type="File",window="day"[^}]*\} 2/);
    expect(metrics).toMatch(
      /refreshq_quota_refusals_total\{object_type="File",lane="normal",budget="day"[^}]*\} \d+/,
    );
  });
});
