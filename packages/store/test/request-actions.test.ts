import { domainOf, type ObjectType, type RefreshRequest } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  keyspace,
  PendingPool,
  RedisClock,
  RequestIndex,
  RequestStore,
  SubmitPause,
  type Keyspace,
  type PoolSettings,
  type Redis,
} from '../src/index.js';

let redis: Redis;
let keys: Keyspace;
let pool: PendingPool;
let requests: RequestStore;
let index: RequestIndex;

const settings: PoolSettings = {
  maxFilesPerCall: 1000,
  maxDirsPerCall: 100,
  windowMs: 0,
  quietMs: 0,
  leaseMs: 60_000,
};

beforeEach(() => {
  keys = keyspace(testNamespace('actions'));
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  pool = new PendingPool(redis, keys, new RedisClock(redis));
  requests = new RequestStore(redis, keys);
  index = new RequestIndex(redis, keys);
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), keys.namespace);
});

let counter = 0;
let clock = 1_700_000_000_000;
async function admit(paths: string[], objectType: ObjectType = 'File'): Promise<RefreshRequest> {
  counter += 1;
  clock += 1000;
  const request: RefreshRequest = {
    id: `req-${String(counter).padStart(4, '0')}`,
    objectType,
    priority: 'normal',
    paths,
    receivedAt: clock,
  };
  await requests.admit(request, paths.map(domainOf), {
    windowMs: 0,
    maxFilesPerCall: 1000,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt: 0,
  });
  return request;
}

const pairs = (paths: string[]) => paths.map((path) => [path, domainOf(path)] as const);
const stateOf = async (id: string, path: string) => (await requests.read(id))?.paths.get(path)?.state;

describe('cancelling a request', () => {
  it('takes its own paths out of the pool and only unlinks a path another request waits on', async () => {
    const a = await admit(['https://c.example/1', 'https://c.example/shared']);
    const b = await admit(['https://c.example/shared']);
    const outcome = await requests.cancel(a.id, a.objectType, pairs(a.paths));
    expect(Object.fromEntries(outcome)).toEqual({
      'https://c.example/1': 'cancelled',
      'https://c.example/shared': 'cancelled',
    });
    expect(await stateOf(a.id, 'https://c.example/1')).toBe('cancelled');
    expect((await pool.backlog()).File.normal).toBe(1);
    const [batch] = await claimAll();
    expect(batch?.items.map((item) => [item.path, item.requestIds])).toEqual([
      ['https://c.example/shared', [b.id]],
    ]);
    // Nothing of a is open any more.
    expect(await redis.hget(keys.request(a.id), 'open')).toBe('0');
  });

  it('unlinks a request that joined a pending path, leaving the one that pended it', async () => {
    const a = await admit(['https://c.example/joined']);
    const b = await admit(['https://c.example/joined']);
    expect(Object.fromEntries(await requests.cancel(b.id, b.objectType, pairs(b.paths)))).toEqual({
      'https://c.example/joined': 'cancelled',
    });
    expect(await stateOf(a.id, 'https://c.example/joined')).toBe('queued');
    const [batch] = await claimAll();
    expect(batch?.items.map((item) => [item.path, item.requestIds])).toEqual([
      ['https://c.example/joined', [a.id]],
    ]);
  });

  it('says what had already gone: in a batch in flight, or ended', async () => {
    const a = await admit(['https://c.example/x', 'https://c.example/y']);
    const [batch] = await claimAll();
    expect(batch).toBeDefined();
    expect(Object.fromEntries(await requests.cancel(a.id, a.objectType, pairs(a.paths)))).toEqual({
      'https://c.example/x': 'in_flight',
      'https://c.example/y': 'in_flight',
    });
    await pool.finish(
      batch!,
      new Map([
        ['https://c.example/x', { status: { state: 'submitted', taskId: 't1', submittedAt: clock } }],
        [
          'https://c.example/y',
          { status: { state: 'rejected', error: { code: 'IllegalOperation', message: '' } } },
        ],
      ]),
      settings,
    );
    expect(Object.fromEntries(await requests.cancel(a.id, a.objectType, pairs(a.paths)))).toEqual({
      'https://c.example/x': 'submitted',
      'https://c.example/y': 'rejected',
    });
    expect(await requests.cancel('req-unknown', 'File', pairs(a.paths))).toEqual(new Map());
  });

  it('unlinks a path covered by a pending directory; the directory goes when nobody waits on it', async () => {
    const dir = await admit(['https://c.example/d/'], 'Directory');
    const file = await admit(['https://c.example/d/video.mp4']);
    expect((await requests.read(file.id))?.paths.get('https://c.example/d/video.mp4')?.coveredBy).toBe(
      'https://c.example/d/',
    );
    expect(Object.fromEntries(await requests.cancel(dir.id, dir.objectType, pairs(dir.paths)))).toEqual({
      'https://c.example/d/': 'cancelled',
    });
    // Still pending: it covers the file of the other request.
    expect((await pool.backlog()).Directory.normal).toBe(1);
    expect(Object.fromEntries(await requests.cancel(file.id, file.objectType, pairs(file.paths)))).toEqual({
      'https://c.example/d/video.mp4': 'cancelled',
    });
    expect((await pool.backlog()).Directory.normal).toBe(0);
    expect(await claimAll('Directory')).toEqual([]);
  });
});

describe('the indexes', () => {
  it('a path remembers its last submission, its last end and the requests that asked for it', async () => {
    const first = await admit(['https://i.example/intro.m3u8']);
    const [batch] = await claimAll();
    await pool.finish(
      batch!,
      new Map([
        [
          'https://i.example/intro.m3u8',
          {
            status: { state: 'submitted', taskId: 'task-9', submittedAt: clock, upstreamRequestId: 'up-9' },
          },
        ],
      ]),
      settings,
    );
    const second = await admit(['https://i.example/intro.m3u8']);
    const history = await index.path('File', 'https://i.example/intro.m3u8');
    expect(history?.requests.map((request) => [request.id, request.status.state])).toEqual([
      [second.id, 'queued'],
      [first.id, 'submitted'],
    ]);
    expect(history?.lastSubmission).toEqual({
      requestId: first.id,
      at: clock - 1000,
      taskId: 'task-9',
      upstreamRequestId: 'up-9',
    });
    expect(history?.lastCompletion).toBeUndefined();
    expect(await redis.pttl(keys.pathRecord('File', 'https://i.example/intro.m3u8'))).toBeGreaterThan(0);
    expect(await index.path('Directory', 'https://i.example/intro.m3u8')).toBeUndefined();
  });

  it("a path's recent requests: the newest 20, across days, with those indexed before the day hashes", async () => {
    const path = 'https://i.example/hot.m3u8';
    const day = 86_400_000;
    clock = Math.ceil(clock / day) * day - 5_000; // four requests before midnight, 18 after
    const asked: RefreshRequest[] = [];
    for (let i = 0; i < 22; i += 1) asked.push(await admit([path]));
    const newest = asked.slice(-20).reverse();
    const history = await index.path('File', path);
    expect(history?.requests.map((request) => request.id)).toEqual(newest.map((request) => request.id));
    expect(history?.requests[0]?.receivedAt).toBe(clock);
    expect(new Set(history?.requests.map((request) => request.status.state))).toEqual(new Set(['queued']));
    // Each day has its own hash; the newest 20 are taken across them.
    const today = Math.floor(clock / day);
    const entries = async (d: number) =>
      (await redis.hget(keys.pathRequestsByDay('File', d), path))?.split(' ');
    expect(await entries(today)).toHaveLength(18);
    expect(await entries(today - 1)).toHaveLength(4);
    // At most 20 a path and day: the oldest leave.
    for (let i = 0; i < 3; i += 1) asked.push(await admit([path]));
    const kept = await entries(today);
    expect(kept).toHaveLength(20);
    expect(kept?.at(-1)).toBe(`${clock}:${asked.at(-1)?.id}`);
    expect(kept?.some((entry) => entry.endsWith(`:${asked[4]?.id}`))).toBe(false);
    expect(await redis.ttl(keys.pathRequestsByDay('File', today))).toBeGreaterThan(3600);

    // Indexed before the day hashes existed: a zset of its own, still read.
    const older = await admit(['https://i.example/old.m3u8']);
    const oldDay = Math.floor(older.receivedAt / day);
    await redis.hdel(keys.pathRequestsByDay('File', oldDay), 'https://i.example/old.m3u8');
    await redis.zadd(keys.pathRequests('File', 'https://i.example/old.m3u8'), older.receivedAt, older.id);
    const old = await index.path('File', 'https://i.example/old.m3u8');
    expect(old?.requests.map((request) => [request.id, request.receivedAt])).toEqual([
      [older.id, older.receivedAt],
    ]);
  });

  it("keeps queued paths in one field: a path's own field appears only once its status changes", async () => {
    const a = await admit(['https://q.example/1', 'https://q.example/2', 'https://q.example/3']);
    const fields = await redis.hkeys(keys.request(a.id));
    expect(fields.filter((field) => field.startsWith('p:'))).toEqual([]);
    const stored = await requests.read(a.id);
    expect(
      [...(stored?.paths ?? new Map())].map(([path, status]) => [path, status.state, status.updatedAt]),
    ).toEqual(a.paths.map((path) => [path, 'queued', expect.any(Number)]));
    const [batch] = await claimAll();
    await pool.finish(
      batch!,
      new Map([
        ['https://q.example/2', { status: { state: 'submitted', taskId: 't7', submittedAt: clock } }],
      ]),
      settings,
    );
    expect(await stateOf(a.id, 'https://q.example/2')).toBe('submitted');
    expect(await stateOf(a.id, 'https://q.example/1')).toBe('queued');
    expect(
      (await index.path('File', 'https://q.example/3'))?.requests.map((request) => request.status.state),
    ).toEqual(['queued']);
  });

  it('lists requests newest first in pages that neither skip nor repeat, filtered', async () => {
    const admitted: string[] = [];
    for (let n = 0; n < 7; n += 1) admitted.push((await admit([`https://l.example/${n}`])).id);
    // Two requests received in the same millisecond: the cursor tells them apart.
    const twin = { ...(await admit(['https://l.example/twin-a'])) };
    await requests.admit({ ...twin, id: 'req-twin', paths: ['https://l.example/twin-b'] }, ['l.example'], {
      windowMs: 0,
      maxFilesPerCall: 1000,
      maxDirsPerCall: 100,
      retentionSeconds: 3600,
      promoteAt: 0,
    });
    const seen: string[] = [];
    let cursor: Awaited<ReturnType<RequestIndex['page']>>['next'];
    do {
      const page = await index.page({ limit: 3, maxScan: 100, ...(cursor ? { cursor } : {}) });
      seen.push(...page.requests.map((request) => request.meta.id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(['req-twin', twin.id, ...admitted.reverse()]);

    const odd = await index.page({
      limit: 10,
      maxScan: 100,
      accept: (request) => Number(request.meta.id.slice(4)) % 2 === 1,
    });
    expect(odd.requests.length).toBeGreaterThan(2);
    expect(odd.requests.every((request) => Number(request.meta.id.slice(4)) % 2 === 1)).toBe(true);
    const since = await index.page({ limit: 10, maxScan: 100, since: twin.receivedAt });
    expect(since.requests.map((request) => request.meta.id)).toEqual(['req-twin', twin.id]);
  });
});

describe('the pause', () => {
  it('keeps the first pause in force and says what resume ended', async () => {
    const pause = new SubmitPause(redis, keys);
    expect(await pause.read()).toBeUndefined();
    expect(await pause.pause({ since: 5, reason: 'incident' })).toEqual({ since: 5, reason: 'incident' });
    expect(await pause.pause({ since: 9 })).toEqual({ since: 5, reason: 'incident' });
    expect(await pause.resume()).toEqual({ since: 5, reason: 'incident' });
    expect(await pause.resume()).toBeUndefined();
  });
});

async function claimAll(objectType: ObjectType = 'File') {
  const batches = [];
  for (;;) {
    const claim = await pool.claim(objectType, 'normal', `b-${Math.random()}`, settings);
    if (!claim.batch) return batches;
    batches.push(claim.batch);
  }
}
