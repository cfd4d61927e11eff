import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
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
let stack: TestStack;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    domains: { 'cdn.example.com': 'online', 'gone.example.com': 'offline' },
    silent: true,
  });
  ({ intake } = stack = await startTestStack(upstream.url, {}));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

async function settled(id: string) {
  return eventually(
    async () => {
      const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
      return body.counts.queued === 0 ? body : undefined;
    },
    10_000,
    `request ${id} to leave the queue`,
  );
}

describe('intake -> worker -> VOD emulator', () => {
  it('submits to the emulator and shows the emulator task id on every path', async () => {
    const paths = ['https://cdn.example.com/v/1.mp4', 'https://cdn.example.com/v/2.mp4'];
    const accepted = await postJson(`${intake.url}/v1/refreshes`, { paths });
    const body = await settled(accepted.body.id);
    expect(body.state).toBe('submitted');
    const submissions = upstream.emulator.submissions();
    expect(submissions.flatMap((s) => s.paths).sort()).toEqual(paths);
    const taskIdOf = new Map(submissions.flatMap((s) => s.paths.map((p, i) => [p, s.taskIds[i]] as const)));
    for (const path of body.paths) expect(path.taskId).toBe(taskIdOf.get(path.path));
  });

  it('rejects paths of an offline domain with the upstream code, and others still go through', async () => {
    const bad = await postJson(`${intake.url}/v1/refreshes`, { paths: ['https://gone.example.com/x.png'] });
    const good = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://cdn.example.com/dir/'],
      objectType: 'Directory',
    });
    const badBody = await settled(bad.body.id);
    const goodBody = await settled(good.body.id);
    expect(badBody.paths[0]).toMatchObject({ state: 'rejected', error: { code: 'InvalidDomain.Offline' } });
    expect(goodBody.paths[0]).toMatchObject({ state: 'submitted' });
  });
});
