import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import type { RunningWorker } from '@refreshq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_KEY,
  type TestIntake,
  type TestStack,
  eventually,
  getJson,
  postJson,
  startTestStack,
} from './support/stack.js';

let upstream: RunningEmulator;
let intake: TestIntake;
let worker: RunningWorker;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    tasks: { pendingMs: 100, completeAfterMs: 600, failureRate: 0.5, seed: 3 },
  });
  ({ intake, worker } = stack = await startTestStack(upstream.url, { TASK_FIRST_POLL_MS: '300' }));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

async function ended(id: string) {
  return eventually(
    async () => {
      const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
      return body.counts.queued + body.counts.submitted + body.counts.refreshing === 0 ? body : undefined;
    },
    20_000,
    `request ${id} to end`,
  );
}

describe('following refresh tasks to their end', () => {
  it('moves every path to complete or failed with the upstream description, and the request to its final state', async () => {
    const paths = Array.from({ length: 12 }, (_v, i) => `https://t${i % 2}.example.com/v/${i}.mp4`);
    const accepted = await postJson(`${intake.url}/v1/refreshes`, { paths });
    const body = await ended(accepted.body.id);
    const tasks = new Map(upstream.emulator.tasks().map((task) => [task.ObjectPath, task]));
    for (const path of body.paths) {
      const task = tasks.get(path.path);
      expect(task, path.path).toBeDefined();
      if (task?.Status === 'Failed') {
        expect(path).toMatchObject({
          state: 'failed',
          error: { code: 'TaskFailed', message: task.Description },
        });
      } else {
        expect(path.state).toBe('complete');
      }
      expect(Date.parse(path.completedAt)).toBeGreaterThanOrEqual(Date.parse(path.submittedAt));
    }
    expect(body.counts.complete + body.counts.failed).toBe(12);
    expect(body.counts.complete).toBeGreaterThan(0);
    expect(body.counts.failed).toBeGreaterThan(0);
    expect(body.state).toBe('partially_failed');
    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toMatch(
      /refreshq_task_outcomes_total\{object_type="File",status="Complete",description=""[^}]*\} \d+/,
    );
    expect(metrics).toMatch(
      /refreshq_submit_to_complete_seconds_count\{[^}]*object_type="File"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/refreshq_intake_to_submit_seconds_count\{[^}]*object_type="File"[^}]*\} 12/);
  });

  it('gives covered paths the outcome of their directory task', async () => {
    const dir = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://c.example.com/d/'],
      objectType: 'Directory',
    });
    const file = await postJson(`${intake.url}/v1/refreshes`, { paths: ['https://c.example.com/d/x.png'] });
    const dirBody = await ended(dir.body.id);
    const fileBody = await ended(file.body.id);
    expect(fileBody.paths[0]).toMatchObject({
      coveredBy: 'https://c.example.com/d/',
      state: dirBody.paths[0].state,
      taskId: dirBody.paths[0].taskId,
    });
  });
});
