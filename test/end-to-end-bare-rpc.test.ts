import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshedPaths, startBareRpcServer, type BareRpcServer } from './support/bare-rpc-server.js';
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
let stack: TestStack;

beforeAll(async () => {
  upstream = await startBareRpcServer(TEST_KEY);
  ({ intake } = stack = await startTestStack(upstream.url, {}));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

describe('intake -> queue -> worker -> any endpoint speaking the RPC protocol', () => {
  it('submits the paths with a valid signature and shows them submitted with a task id', async () => {
    const accepted = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://a.example.com/1.png', 'https://a.example.com/2.png'],
    });
    expect(accepted.status).toBe(202);
    const status = await eventually(
      async () => {
        const answer = await getJson(`${intake.url}/v1/refreshes/${accepted.body.id}`);
        return answer.body.state === 'submitted' ? answer.body : undefined;
      },
      10_000,
      'the request to be submitted',
    );
    expect(status.paths).toHaveLength(2);
    for (const path of status.paths) {
      expect(path.state).toBe('submitted');
      expect(path.taskId).toMatch(/^\d+$/);
      expect(Date.parse(path.submittedAt)).toBeGreaterThan(0);
    }
    expect(refreshedPaths(upstream).sort()).toEqual([
      'https://a.example.com/1.png',
      'https://a.example.com/2.png',
    ]);
    const call = upstream.calls.find((c) => c.params.Action === 'RefreshVodObjectCaches');
    expect(call?.method).toBe('POST');
    expect(call?.params.ObjectType).toBe('File');
  });

  it('batches one domain and one type per call, directories apart', async () => {
    const before = upstream.calls.length;
    const files = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://b.example.com/x', 'https://c.example.com/y', 'https://b.example.com/z'],
    });
    const dirs = await postJson(`${intake.url}/v1/refreshes`, {
      paths: ['https://b.example.com/d/'],
      objectType: 'Directory',
    });
    for (const id of [files.body.id, dirs.body.id]) {
      await eventually(async () =>
        (await getJson(`${intake.url}/v1/refreshes/${id}`)).body.state === 'submitted' ? true : undefined,
      );
    }
    const calls = upstream.calls.slice(before).map((call) => ({
      type: call.params.ObjectType,
      paths: (call.params.ObjectPath ?? '').split('\n').sort(),
    }));
    expect(calls).toHaveLength(3);
    expect(calls).toEqual(
      expect.arrayContaining([
        { type: 'File', paths: ['https://b.example.com/x', 'https://b.example.com/z'] },
        { type: 'File', paths: ['https://c.example.com/y'] },
        { type: 'Directory', paths: ['https://b.example.com/d/'] },
      ]),
    );
  });

  it('submits a path pending for several requests once, and every request sees the outcome', async () => {
    const before = refreshedPaths(upstream).length;
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (await postJson(`${intake.url}/v1/refreshes`, { paths: ['https://d.example.com/same.png'] })).body.id,
      );
    }
    const states = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
          return body.state === 'submitted' ? body.paths[0].taskId : undefined;
        }),
      ),
    );
    expect(new Set(states).size).toBe(1);
    expect(refreshedPaths(upstream).slice(before)).toEqual(['https://d.example.com/same.png']);
  });
});
