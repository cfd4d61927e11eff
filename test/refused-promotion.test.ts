import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareRpcServer, type BareRpcServer } from './support/bare-rpc-server.js';
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
 * A promoted directory (DIRECTORY_PROMOTION_MIN_FILES pending files replaced by their directory)
 * that the upstream refuses: nobody refused the files, so they are submitted as files. The
 * upstream here refuses every Directory call with IllegalOperation and accepts File calls.
 */

let upstream: BareRpcServer;
let intake: TestIntake;
let stack: TestStack;
let nextTask = 5000;

beforeAll(async () => {
  upstream = await startBareRpcServer(TEST_KEY);
  upstream.answer = (call) => {
    if (call.params.Action !== 'RefreshVodObjectCaches')
      return {
        status: 200,
        body: { RequestId: 'r', TotalCount: 0, PageNumber: 1, PageSize: 50, Tasks: { Task: [] } },
      };
    if (call.params.ObjectType === 'Directory')
      return {
        status: 403,
        body: {
          RequestId: 'r',
          HostId: 'h',
          Code: 'IllegalOperation',
          Message: 'no directories here',
          Recommend: '',
        },
      };
    return { status: 200, body: { RequestId: 'r', RefreshTaskId: String(nextTask++) } };
  };
  ({ intake } = stack = await startTestStack(upstream.url, {
    DIRECTORY_PROMOTION_MIN_FILES: '3',
    COALESCE_WINDOW_MS: '300',
  }));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

const refreshCalls = () => upstream.calls.filter((call) => call.params.Action === 'RefreshVodObjectCaches');

describe('a refused promotion', () => {
  it('submits the files the promoted directory covered as files', async () => {
    const paths = [
      'https://p.example.com/show/1.ts',
      'https://p.example.com/show/2.ts',
      'https://p.example.com/show/3.ts',
    ];
    const accepted = await postJson(`${intake.url}/v1/refreshes`, { paths });
    expect(accepted.status).toBe(202);

    const body = await eventually(
      async () => {
        const answer = (await getJson(`${intake.url}/v1/refreshes/${accepted.body.id}`)).body;
        return answer.counts.submitted === 3 ? answer : undefined;
      },
      15_000,
      'the three files submitted',
    );
    for (const path of body.paths) {
      expect(path.state).toBe('submitted');
      expect(path.taskId).toMatch(/^\d+$/);
      expect(path.coveredBy).toBeUndefined();
      expect(path.error).toBeUndefined();
    }
    const calls = refreshCalls();
    // First the promoted directory (refused), then the files, as files.
    expect(calls.map((call) => call.params.ObjectType)).toEqual(['Directory', 'File']);
    expect(calls[0]?.params.ObjectPath).toBe('https://p.example.com/show/');
    expect((calls[1]?.params.ObjectPath ?? '').split('\n').sort()).toEqual(paths);
  });
});
