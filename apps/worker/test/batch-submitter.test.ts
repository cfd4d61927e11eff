import type { Settlement } from '@refreshq/domain';
import type { BatchItem, ClaimedBatch, PathOutcome } from '@refreshq/store';
import { createLogger } from '@refreshq/telemetry';
import { type DescribeTasksQuery, UpstreamError, type VodClient } from '@refreshq/vod-client';
import { describe, expect, it } from 'vitest';
import { BatchSubmitter } from '../src/batch-submitter.js';
import { createWorkerMetrics } from '../src/worker-metrics.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const SKEW_MS = 5000;
const SETTINGS = {
  backoff: { baseMs: 500, maxMs: 60_000 },
  breakerProbeMs: 60_000,
  random: () => 1,
  lookup: { skewMs: SKEW_MS, pageRetryMs: 1 },
};

type Answer = { taskId: string } | UpstreamError;

/** A task the fake upstream lists; created at NOW, as a file, unless said otherwise. */
interface FakeTask {
  taskId: string;
  objectPath: string;
  createdAt?: number;
  objectType?: string;
}

/** What the fake upstream's DescribeVodRefreshTasks answers: its tasks (one page of 50 at a time), a failure, or a script per call. */
type Listing =
  | FakeTask[]
  | UpstreamError
  | ((query: DescribeTasksQuery, n: number) => FakeTask[] | UpstreamError);

/** A VodClient whose calls answer from a script, recording each refresh call's paths and each look-up's query. */
function fakeVod(answer: (paths: readonly string[]) => Answer, listing: Listing = []) {
  const calls: string[][] = [];
  const lookups: DescribeTasksQuery[] = [];
  const vod = {
    refreshObjectCaches: async (paths: readonly string[]) => {
      calls.push([...paths]);
      const reply = answer(paths);
      if (reply instanceof UpstreamError) throw reply;
      return { refreshTaskId: reply.taskId, requestId: 'req-1' };
    },
    describeRefreshTasks: async (query: DescribeTasksQuery) => {
      lookups.push(query);
      const tasks = typeof listing === 'function' ? listing(query, lookups.length) : listing;
      if (tasks instanceof UpstreamError) throw tasks;
      const page = query.pageNumber ?? 1;
      return {
        tasks: tasks
          .slice((page - 1) * 50, page * 50)
          .map(({ createdAt = NOW, objectType = 'file', ...task }) => ({
            ...task,
            objectType,
            creationTime: new Date(createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            status: 'Complete',
          })),
        totalCount: tasks.length,
      };
    },
  } as unknown as VodClient;
  return { vod, calls, lookups };
}

function batch(paths: string[], meta: Partial<BatchItem['meta']> = {}): ClaimedBatch {
  return {
    id: 'b1',
    objectType: 'File',
    lane: 'normal',
    domain: 'cdn.example.com',
    claimedAt: NOW,
    items: paths.map((path) => ({
      path,
      requestIds: ['r1'],
      meta: { domain: 'cdn.example.com', lane: 'normal', attempts: 0, ...meta },
    })),
  };
}

const paths = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example.com/v/${i}.mp4`);
const refused = (code: string) => new UpstreamError(`the upstream answered ${code}`, 'refused', code, 'up-1');

async function run(
  answer: (paths: readonly string[]) => Answer,
  claimed: ClaimedBatch,
  listing?: Listing,
  lease?: AbortSignal,
) {
  const { vod, calls, lookups } = fakeVod(answer, listing);
  const submitter = new BatchSubmitter(
    vod,
    { now: () => NOW },
    SETTINGS,
    createWorkerMetrics(),
    createLogger({ name: 't', level: 'silent' }),
  );
  return { ...(await submitter.run(claimed, lease)), calls, lookups };
}

const states = (outcomes: Map<string, PathOutcome>) =>
  [...outcomes.values()].map((outcome) => ('status' in outcome ? outcome.status.state : 'requeue'));

describe('BatchSubmitter: each row of the reaction table gives its settlement and outcomes', () => {
  it('success: every path submitted with its task id; units spent; answer success', async () => {
    const { outcomes, settlement } = await run(() => ({ taskId: 't1' }), batch(paths(3)));
    expect(states(outcomes)).toEqual(['submitted', 'submitted', 'submitted']);
    expect(outcomes.get(paths(1)[0] as string)).toEqual({
      status: { state: 'submitted', taskId: 't1', submittedAt: NOW, upstreamRequestId: 'req-1' },
    });
    expect(settlement).toEqual<Settlement>({ spent: 3, answer: 'success' });
  });

  it('Throttling: requeued at once, nothing spent, every call held briefly and the rate halved', async () => {
    const { outcomes, settlement } = await run(() => refused('Throttling.User'), batch(paths(2)));
    expect([...outcomes.values()]).toEqual(
      paths(2).map(() => expect.objectContaining({ requeue: expect.objectContaining({ delayMs: 0 }) })),
    );
    expect(settlement).toEqual({
      spent: 0,
      answer: 'refused',
      hold: {
        budget: 'calls',
        until: { kind: 'after', ms: 500 },
        tune: 'halve-call-rate',
        reason: 'Throttling.User',
      },
    });
  });

  it('connection refused: a backoff, nothing spent, no hold', async () => {
    const { outcomes, settlement } = await run(
      () => new UpstreamError('refused', 'not-sent', 'ECONNREFUSED'),
      batch(paths(1)),
    );
    expect([...outcomes.values()][0]).toMatchObject({
      requeue: { delayMs: 500, meta: { backoffs: 1, lastCode: 'ECONNREFUSED' } },
    });
    expect(settlement).toEqual({ spent: 0, answer: 'refused' });
  });

  it('QuotaPerMinuteExceeded: hold the type to the next minute and lower the budget', async () => {
    const { settlement, outcomes } = await run(
      () => refused('QuotaPerMinuteExceeded.Refresh'),
      batch(paths(2)),
    );
    expect(states(outcomes)).toEqual(['requeue', 'requeue']);
    expect(settlement).toEqual({
      spent: 0,
      answer: 'refused',
      resyncQuota: true,
      hold: {
        budget: 'type',
        until: { kind: 'next-minute' },
        tune: 'lower-minute',
        reason: 'QuotaPerMinuteExceeded.Refresh',
      },
    });
  });

  it('QuotaExceeded: hold the type to the next quota day; nothing fails', async () => {
    const { settlement, outcomes } = await run(() => refused('QuotaExceeded.Refresh'), batch(paths(2)));
    expect(states(outcomes)).toEqual(['requeue', 'requeue']);
    expect(settlement.hold).toEqual({
      budget: 'type',
      until: { kind: 'next-quota-day' },
      reason: 'QuotaExceeded.Refresh',
    });
  });

  it.each([
    ['ServiceBusy', 6, 300_000],
    ['InvalidDomain.Configure_failed', 3, 60_000],
    ['SomethingNobodyDocumented', 5, 60_000],
  ])('%s: retried every %d-th call at most, then rejected', async (code, maxAttempts, delayMs) => {
    const early = await run(() => refused(code), batch(paths(1), { attempts: maxAttempts - 2 }));
    expect([...early.outcomes.values()][0]).toMatchObject({
      requeue: { delayMs: delayMs + delayMs / 10, meta: { attempts: maxAttempts - 1, lastCode: code } },
    });
    const last = await run(() => refused(code), batch(paths(1), { attempts: maxAttempts - 1 }));
    expect([...last.outcomes.values()][0]).toMatchObject({ status: { state: 'rejected', error: { code } } });
    expect(last.settlement).toEqual({ spent: 0, answer: 'refused' });
  });

  it.each(['IllegalOperation', 'InvalidDomain.NotFound', 'InvalidDomain.Offline', 'MissingParameter'])(
    '%s: every path rejected with the code and the upstream message',
    async (code) => {
      const { outcomes, settlement } = await run(() => refused(code), batch(paths(2)));
      expect([...outcomes.values()]).toEqual(
        paths(2).map(() => ({
          status: {
            state: 'rejected',
            error: { code, message: `the upstream answered ${code}` },
            upstreamRequestId: 'up-1',
          },
        })),
      );
      expect(settlement).toEqual({ spent: 0, answer: 'refused' });
    },
  );

  it('InvalidObjectPath.Malformed: bisects until the bad path is alone; the rest go', async () => {
    const bad = paths(5)[3] as string;
    const { outcomes, settlement, calls } = await run(
      (sent) => (sent.includes(bad) ? refused('InvalidObjectPath.Malformed') : { taskId: `t${sent.length}` }),
      batch(paths(5)),
    );
    expect(outcomes.get(bad)).toMatchObject({
      status: { state: 'rejected', error: { code: 'InvalidObjectPath.Malformed' } },
    });
    expect(states(outcomes).filter((state) => state === 'submitted')).toHaveLength(4);
    expect(calls.map((call) => call.length)).toEqual([5, 3, 2, 1, 1]);
    expect(settlement).toEqual({ spent: 4, answer: 'success' });
  });

  it('OperationDenied: the breaker opens for the probe time; paths wait that long', async () => {
    const { outcomes, settlement } = await run(() => refused('OperationDenied.Suspended'), batch(paths(1)));
    expect([...outcomes.values()][0]).toMatchObject({ requeue: { delayMs: 60_000 } });
    expect(settlement).toEqual({
      spent: 0,
      answer: 'refused',
      breaker: { code: 'OperationDenied.Suspended', probeMs: 60_000 },
    });
  });

  it('no answer: uncertain since the call, units stay spent', async () => {
    const { outcomes, settlement } = await run(
      () => new UpstreamError('timeout', 'unknown', 'ETIMEDOUT'),
      batch(paths(2)),
    );
    expect([...outcomes.values()][0]).toMatchObject({
      requeue: { meta: { uncertainSince: NOW, uncertainUntil: NOW, backoffs: 1 } },
    });
    expect(settlement).toEqual({ spent: 2, answer: 'uncertain' });
  });

  it('an uncertain path found upstream is submitted without a call; one not found is called again', async () => {
    const [found, missing] = paths(2) as [string, string];
    const { outcomes, calls, settlement } = await run(
      () => ({ taskId: 'new' }),
      batch([found, missing], { uncertainSince: NOW - 1000 }),
      [{ taskId: 'old', objectPath: found }],
    );
    expect(outcomes.get(found)).toMatchObject({ status: { state: 'submitted', taskId: 'old' } });
    expect(outcomes.get(missing)).toMatchObject({ status: { state: 'submitted', taskId: 'new' } });
    expect(calls).toEqual([[missing]]);
    expect(settlement).toEqual({ spent: 1, answer: 'success' });
  });

  it('uncertain paths cost one look-up for the batch: its domain, type and the tightest window', async () => {
    const batchPaths = paths(4);
    const { lookups } = await run(() => ({ taskId: 'new' }), {
      ...batch(batchPaths),
      items: batch(batchPaths).items.map((item, index) => ({
        ...item,
        meta: { ...item.meta, uncertainSince: NOW - 10_000 + index * 1000 },
      })),
    });
    expect(lookups).toEqual([
      {
        domainName: 'cdn.example.com',
        objectType: 'file',
        startTime: '2026-12-01T09:59:45Z',
        endTime: '2026-12-01T10:00:05Z',
        pageNumber: 1,
        pageSize: 50,
      },
    ]);
  });

  it('only a task our uncertain call could have made counts: same path and type, created inside its window', async () => {
    const [early, other, late, ok] = paths(4) as [string, string, string, string];
    const since = NOW - 20_000;
    const { outcomes, calls } = await run(
      () => ({ taskId: 'new' }),
      batch([early, other, late, ok], { uncertainSince: since }),
      [
        { taskId: 'before-our-call', objectPath: early, createdAt: since - SKEW_MS - 2000 },
        { taskId: 'a-directory', objectPath: other, objectType: 'directory' },
        { taskId: 'after-now', objectPath: late, createdAt: NOW + SKEW_MS + 2000 },
        { taskId: 'second', objectPath: ok, createdAt: since + 3000 },
        { taskId: 'first', objectPath: ok, createdAt: since - 1000 },
      ],
    );
    expect(outcomes.get(ok)).toMatchObject({ status: { state: 'submitted', taskId: 'first' } });
    expect(calls).toEqual([[early, other, late]]);
  });

  it('a failed look-up: the uncertain paths wait together, one delay, still uncertain; nothing is called', async () => {
    const { outcomes, calls, settlement } = await run(
      () => ({ taskId: 'new' }),
      batch(paths(3), { uncertainSince: NOW - 1000, backoffs: 2 }),
      new UpstreamError('timeout', 'unknown', 'Timeout'),
    );
    expect(calls).toEqual([]);
    const requeues = [...outcomes.values()].map((outcome) =>
      'requeue' in outcome ? outcome.requeue : undefined,
    );
    expect(requeues).toEqual(
      paths(3).map(() => ({
        delayMs: 2000,
        meta: expect.objectContaining({ uncertainSince: NOW - 1000, backoffs: 3 }),
      })),
    );
    expect(settlement).toEqual({ spent: 0, answer: 'unused' });
  });

  it('a page that fails is asked again; what earlier pages matched is kept when one never answers', async () => {
    const many = Array.from({ length: 120 }, (_v, i) => `https://cdn.example.com/m/${i}.mp4`);
    const since = NOW - 5000;
    const listed = many.map((objectPath, i) => ({ taskId: `t${i}`, objectPath, createdAt: since + 1000 }));
    const timeout = new UpstreamError('timeout', 'unknown', 'Timeout');
    // Page 1 answers at the second try; page 2 answers; page 3 never does.
    const flaky = (query: DescribeTasksQuery, n: number) =>
      n === 1 || (query.pageNumber ?? 1) >= 3 ? timeout : listed;
    const { outcomes, calls, lookups } = await run(
      () => ({ taskId: 'new' }),
      batch(many, { uncertainSince: since }),
      flaky,
    );
    expect(lookups.map((query) => query.pageNumber)).toEqual([1, 1, 2, 3, 3, 3]);
    expect(calls).toEqual([]);
    const found = many.filter((path) => {
      const outcome = outcomes.get(path);
      return outcome !== undefined && 'status' in outcome;
    });
    expect(found).toEqual(many.slice(0, 100));
    expect(outcomes.get(many[110] as string)).toMatchObject({
      requeue: { meta: { uncertainSince: since, backoffs: 1 } },
    });
  });

  it('a look-up refused with a code that will not change is not asked again', async () => {
    const { lookups } = await run(
      () => ({ taskId: 'new' }),
      batch(paths(1), { uncertainSince: NOW - 1000 }),
      refused('InvalidStartTime.ValueNotSupported'),
    );
    expect(lookups).toHaveLength(1);
  });

  it('a path the look-up did not find goes out as a first try: its backoff count starts again', async () => {
    const { outcomes } = await run(
      () => new UpstreamError('reset', 'unknown', 'ConnectionError'),
      batch(paths(1), { uncertainSince: NOW - 1000, backoffs: 6 }),
      [],
    );
    expect([...outcomes.values()][0]).toMatchObject({
      requeue: { delayMs: 500, meta: { backoffs: 1, uncertainSince: NOW } },
    });
  });

  it('a lost lease: no call is made for the batch any more', async () => {
    const lease = new AbortController();
    lease.abort();
    const { outcomes, calls, lookups, settlement } = await run(
      () => ({ taskId: 't1' }),
      batch([...paths(2)]),
      [],
      lease.signal,
    );
    expect(calls).toEqual([]);
    expect(lookups).toEqual([]);
    expect(outcomes.size).toBe(0);
    expect(settlement).toEqual({ spent: 0, answer: 'unused' });
  });
});
