import { afterEach, describe, expect, it } from 'vitest';
import type { RunningWorker } from '@refreshq/worker';
import {
  startBareRpcServer,
  type BareRpcServer,
  type RpcAnswer,
  type RpcCall,
} from './support/bare-rpc-server.js';
import {
  cleanNamespace,
  eventually,
  getJson,
  postJson,
  startTestIntake,
  startTestWorker,
  TEST_KEY,
  type TestIntake,
} from './support/stack.js';

interface Rig {
  upstream: BareRpcServer;
  intake: TestIntake;
  worker: RunningWorker;
}
const rigs: Rig[] = [];

async function rig(
  answer: (call: RpcCall, refreshCallNumber: number) => RpcAnswer | Promise<RpcAnswer> | undefined,
  env: Record<string, string> = {},
): Promise<Rig> {
  const upstream = await startBareRpcServer(TEST_KEY);
  const fallback = upstream.answer;
  let refreshCalls = 0;
  upstream.answer = (call) => {
    if (call.params.Action === 'RefreshVodObjectCaches') refreshCalls += 1;
    return answer(call, refreshCalls) ?? fallback(call);
  };
  const intake = await startTestIntake();
  const worker = await startTestWorker(intake.namespace, upstream.url, env);
  const made = { upstream, intake, worker };
  rigs.push(made);
  return made;
}

afterEach(async () => {
  for (const { upstream, intake, worker } of rigs.splice(0)) {
    await worker.stop();
    await intake.close();
    await upstream.close();
    await cleanNamespace(intake.namespace);
  }
});

const refusal = (status: number, code: string): RpcAnswer => ({
  status,
  body: { RequestId: 'r', HostId: 'h', Code: code, Message: `${code} happened`, Recommend: '' },
});
const refreshCalls = (upstream: BareRpcServer) =>
  upstream.calls.filter((call) => call.params.Action === 'RefreshVodObjectCaches');

async function submit(intake: TestIntake, paths: string[], objectType = 'File'): Promise<string> {
  const answer = await postJson(`${intake.url}/v1/refreshes`, { paths, objectType });
  expect(answer.status).toBe(202);
  return answer.body.id as string;
}

async function settledStatus(intake: TestIntake, id: string, done: (body: any) => boolean) {
  return eventually(
    async () => {
      const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
      return done(body) ? body : undefined;
    },
    15_000,
    `request ${id} to settle`,
  );
}

const waitMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('worker reactions to upstream outcomes', () => {
  it('rejects the paths of a domain the account does not own, without retrying', async () => {
    const { upstream, intake } = await rig(() => refusal(404, 'InvalidDomain.NotFound'));
    const id = await submit(intake, ['https://not-mine.example/a', 'https://not-mine.example/b']);
    const body = await settledStatus(intake, id, (b) => b.state === 'failed');
    expect(body.paths.map((p: any) => p.error.code)).toEqual([
      'InvalidDomain.NotFound',
      'InvalidDomain.NotFound',
    ]);
    expect(body.paths.every((p: any) => p.state === 'rejected')).toBe(true);
    await waitMs(300);
    expect(refreshCalls(upstream)).toHaveLength(1);
  });

  it('splits a batch with a malformed path: the good ones go through, the bad one is rejected', async () => {
    const { upstream, intake } = await rig((call) =>
      call.params.Action === 'RefreshVodObjectCaches' && (call.params.ObjectPath ?? '').includes('bad')
        ? refusal(400, 'InvalidObjectPath.Malformed')
        : undefined,
    );
    const paths = [
      'https://e.example/1',
      'https://e.example/2',
      'https://e.example/bad',
      'https://e.example/4',
      'https://e.example/5',
    ];
    const id = await submit(intake, paths);
    const body = await settledStatus(intake, id, (b) => b.counts.queued === 0);
    expect(body.state).toBe('in_progress');
    const byPath = Object.fromEntries(body.paths.map((p: any) => [p.path, p]));
    expect(byPath['https://e.example/bad']).toMatchObject({
      state: 'rejected',
      error: { code: 'InvalidObjectPath.Malformed' },
    });
    for (const good of paths.filter((p) => !p.includes('bad'))) expect(byPath[good].state).toBe('submitted');
    const accepted = refreshCalls(upstream).filter((call) => !(call.params.ObjectPath ?? '').includes('bad'));
    expect(accepted.flatMap((call) => (call.params.ObjectPath ?? '').split('\n')).sort()).toEqual(
      paths.filter((p) => !p.includes('bad')).sort(),
    );
  });

  it('holds paths when the daily quota is spent: they stay queued, nothing fails', async () => {
    const { upstream, intake } = await rig(() => refusal(400, 'QuotaExceeded.Refresh'));
    const id = await submit(intake, ['https://q.example/1']);
    await eventually(async () => (refreshCalls(upstream).length >= 1 ? true : undefined));
    await waitMs(500);
    const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
    expect(body.state).toBe('queued');
    expect(refreshCalls(upstream)).toHaveLength(1);
  });

  it('backs off on Throttling and then submits', async () => {
    const { upstream, intake } = await rig((call, n) =>
      call.params.Action === 'RefreshVodObjectCaches' && n <= 2 ? refusal(503, 'Throttling.User') : undefined,
    );
    const id = await submit(intake, ['https://t.example/1']);
    const body = await settledStatus(intake, id, (b) => b.state === 'submitted');
    expect(body.paths[0].taskId).toBeDefined();
    expect(refreshCalls(upstream)).toHaveLength(3);
  });

  it('opens the breaker on OperationDenied.Suspended: no more submitting, paths kept queued', async () => {
    const { upstream, intake, worker } = await rig(() => refusal(403, 'OperationDenied.Suspended'), {
      BREAKER_PROBE_MS: '60000',
    });
    const first = await submit(intake, ['https://s.example/1']);
    await eventually(async () => (refreshCalls(upstream).length >= 1 ? true : undefined));
    const second = await submit(intake, ['https://s2.example/2']);
    await waitMs(600);
    expect(refreshCalls(upstream)).toHaveLength(1);
    for (const id of [first, second])
      expect((await getJson(`${intake.url}/v1/refreshes/${id}`)).body.state).toBe('queued');
    const exposition = await worker.metrics.registry.metrics();
    expect(exposition).toMatch(/refreshq_paths_requeued_total\{[^}]*reason="breaker"[^}]*\} 1/);
  });

  it('after a timeout, finds the task the upstream did create and does not submit again', async () => {
    const { upstream, intake } = await rig(
      (call, n) => {
        if (call.params.Action === 'RefreshVodObjectCaches' && n === 1) return { hang: true };
        if (call.params.Action === 'DescribeVodRefreshTasks') {
          const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          return {
            status: 200,
            body: {
              RequestId: 'd',
              PageNumber: 1,
              PageSize: 50,
              TotalCount: 1,
              Tasks: {
                Task: [
                  {
                    TaskId: '777',
                    ObjectPath: 'https://u.example/1',
                    ObjectType: 'file',
                    Status: 'Refreshing',
                    Process: '50%',
                    CreationTime: created,
                  },
                ],
              },
            },
          };
        }
        return undefined;
      },
      { VOD_CALL_TIMEOUT_MS: '300' },
    );
    const id = await submit(intake, ['https://u.example/1']);
    const body = await settledStatus(intake, id, (b) => b.state === 'submitted');
    expect(body.paths[0].taskId).toBe('777');
    expect(refreshCalls(upstream)).toHaveLength(1);
    const lookup = upstream.calls.find((call) => call.params.Action === 'DescribeVodRefreshTasks');
    // One look-up by domain, type and the window since the uncertain call, matched per path locally.
    expect(lookup?.params).toMatchObject({ DomainName: 'u.example', ObjectType: 'file' });
    expect(lookup?.params.ObjectPath).toBeUndefined();
    expect(
      Date.parse(lookup?.params.EndTime ?? '') - Date.parse(lookup?.params.StartTime ?? ''),
    ).toBeLessThan(60_000);
  });

  it('after a 5xx with a body that is not JSON and no task found, submits again once', async () => {
    const { upstream, intake } = await rig((call, n) =>
      call.params.Action === 'RefreshVodObjectCaches' && n === 1
        ? { status: 502, raw: '<html>Bad Gateway</html>' }
        : undefined,
    );
    const id = await submit(intake, ['https://v.example/1']);
    await settledStatus(intake, id, (b) => b.state === 'submitted');
    expect(refreshCalls(upstream)).toHaveLength(2);
    expect(upstream.calls.filter((call) => call.params.Action === 'DescribeVodRefreshTasks')).toHaveLength(1);
  });

  it('on stop, finishes the batch in hand before returning', async () => {
    let release: (() => void) | undefined;
    const { upstream, intake, worker } = await rig((call) =>
      call.params.Action === 'RefreshVodObjectCaches'
        ? new Promise<RpcAnswer>((resolve) => {
            release = () => resolve({ status: 200, body: { RequestId: 'slow', RefreshTaskId: '4242' } });
          })
        : undefined,
    );
    const id = await submit(intake, ['https://slow.example/1']);
    await eventually(async () => (refreshCalls(upstream).length === 1 ? true : undefined));
    const stopped = worker.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await waitMs(200);
    expect(done).toBe(false);
    release?.();
    await stopped;
    const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
    expect(body.paths[0]).toMatchObject({ state: 'submitted', taskId: '4242' });
  });

  it('retries a connection reset and records the outcome', async () => {
    const { upstream, intake } = await rig((call, n) =>
      call.params.Action === 'RefreshVodObjectCaches' && n === 1 ? { destroy: true } : undefined,
    );
    const id = await submit(intake, ['https://w.example/1']);
    await settledStatus(intake, id, (b) => b.state === 'submitted');
    expect(refreshCalls(upstream)).toHaveLength(2);
  });
});
