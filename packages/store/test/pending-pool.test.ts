import { domainOf, type Priority, type RefreshRequest } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  keyspace,
  PendingPool,
  RedisClock,
  RequestStore,
  type ClaimedBatch,
  type PathOutcome,
  type PoolSettings,
  type Redis,
} from '../src/index.js';

let redis: Redis;
let namespace: string;
let pool: PendingPool;
let requests: RequestStore;

const settings: PoolSettings = {
  maxFilesPerCall: 1000,
  maxDirsPerCall: 100,
  windowMs: 0,
  quietMs: 0,
  leaseMs: 60_000,
};

beforeEach(async () => {
  namespace = testNamespace('pool');
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  pool = new PendingPool(redis, keyspace(namespace), new RedisClock(redis));
  requests = new RequestStore(redis, keyspace(namespace));
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

let counter = 0;
function request(
  paths: string[],
  objectType: 'File' | 'Directory' = 'File',
  priority: Priority = 'normal',
): RefreshRequest {
  counter += 1;
  return { id: `req-${counter}`, objectType, priority, paths, receivedAt: Date.now() };
}

async function admit(req: RefreshRequest, windowMs = 0, maxFilesPerCall = 1000, promoteAt = 0) {
  return requests.admit(req, req.paths.map(domainOf), {
    windowMs,
    maxFilesPerCall,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt,
  });
}

async function claimAll(
  objectType: 'File' | 'Directory' = 'File',
  poolSettings = settings,
  lane: Priority = 'normal',
): Promise<ClaimedBatch[]> {
  const batches: ClaimedBatch[] = [];
  for (;;) {
    const claim = await pool.claim(objectType, lane, `b-${batches.length}-${Math.random()}`, poolSettings);
    if (!claim.batch) return batches;
    batches.push(claim.batch);
  }
}

const submittedAll = (batch: ClaimedBatch): Map<string, PathOutcome> =>
  new Map(
    batch.items.map((item) => [item.path, { status: { state: 'submitted', taskId: 't1', submittedAt: 1 } }]),
  );

describe('admission', () => {
  it('is idempotent per request id', async () => {
    const req = request(['https://a.com/1']);
    expect(await admit(req)).toEqual({ admitted: true, coalesced: 0 });
    expect(await admit(req)).toEqual({ admitted: false });
    const [batch] = await claimAll();
    expect(batch?.items).toEqual([
      expect.objectContaining({ path: 'https://a.com/1', requestIds: [req.id] }),
    ]);
  });

  it('coalesces a path already pending: one entry, every request linked, every request sees the outcome', async () => {
    const first = request(['https://a.com/1', 'https://a.com/2']);
    const second = request(['https://a.com/1']);
    await admit(first);
    expect(await admit(second)).toEqual({ admitted: true, coalesced: 1 });
    const batches = await claimAll();
    expect(batches).toHaveLength(1);
    const item = batches[0]?.items.find((i) => i.path === 'https://a.com/1');
    expect(item?.requestIds.sort()).toEqual([first.id, second.id].sort());
    expect(
      await pool.finish(batches[0] as ClaimedBatch, submittedAll(batches[0] as ClaimedBatch), settings),
    ).toBe(true);
    for (const id of [first.id, second.id]) {
      const stored = await requests.read(id);
      expect(stored?.paths.get('https://a.com/1')).toMatchObject({ state: 'submitted', taskId: 't1' });
    }
  });

  it('links the request that pends a path in its meta, the ones that join it in a set, and reads sets written before that', async () => {
    const keys = keyspace(namespace);
    const first = request(['https://l.example/a', 'https://l.example/b']);
    const second = request(['https://l.example/a']);
    await admit(first);
    await admit(second);
    // One set: the path someone joined; the other is linked by its meta alone.
    expect(await redis.smembers(keys.links('File', 'https://l.example/a'))).toEqual([second.id]);
    expect(await redis.exists(keys.links('File', 'https://l.example/b'))).toBe(0);
    // A path pended before the meta held its request: every link in the set.
    const raw = JSON.parse((await redis.hget(keys.pendingMeta('File'), 'https://l.example/b')) ?? '{}');
    delete raw.r;
    await redis.hset(keys.pendingMeta('File'), 'https://l.example/b', JSON.stringify(raw));
    await redis.sadd(keys.links('File', 'https://l.example/b'), first.id, 'req-before-upgrade');
    const [batch] = await claimAll();
    const linked = new Map(batch?.items.map((item) => [item.path, [...item.requestIds].sort()]));
    expect(linked).toEqual(
      new Map([
        ['https://l.example/a', [first.id, second.id].sort()],
        ['https://l.example/b', [first.id, 'req-before-upgrade'].sort()],
      ]),
    );
    // Nothing of the links outlives the claim, nor goes into the batch's meta.
    expect(
      await redis.exists(
        keys.links('File', 'https://l.example/a'),
        keys.links('File', 'https://l.example/b'),
      ),
    ).toBe(0);
    expect(batch?.items.every((item) => !('r' in (item.meta as object)))).toBe(true);
  });

  it('makes a path pending again once it has left in a batch, but not in two calls at once', async () => {
    await admit(request(['https://a.com/1']));
    const [inFlight] = await claimAll();
    await admit(request(['https://a.com/1']));
    expect(await claimAll()).toHaveLength(0);
    await pool.finish(inFlight as ClaimedBatch, submittedAll(inFlight as ClaimedBatch), settings);
    const [again] = await claimAll();
    expect(inFlight?.items.map((i) => i.path)).toEqual(['https://a.com/1']);
    expect(again?.items.map((i) => i.path)).toEqual(['https://a.com/1']);
  });
});

describe('claiming', () => {
  it('waits out the coalescing window, but takes a full batch at once', async () => {
    await admit(request(['https://a.com/1']), 5_000, 3);
    const small = { maxFilesPerCall: 3, maxDirsPerCall: 3, windowMs: 5_000, quietMs: 0, leaseMs: 1000 };
    const early = await pool.claim('File', 'normal', 'b1', small);
    expect(early.batch).toBeUndefined();
    expect(early.batch === undefined && early.retryInMs).toBeGreaterThan(4_000);
    await admit(request(['https://a.com/2', 'https://a.com/3']), 5_000, 3);
    const full = await pool.claim('File', 'normal', 'b2', small);
    expect(full.batch?.items).toHaveLength(3);
  });

  it('cuts batches of one type and one domain, none over the limit, no path twice', async () => {
    const paths = Array.from({ length: 2500 }, (_v, i) => `https://big.com/${i}`);
    await admit(request(paths.slice(0, 1200)));
    await admit(request(paths.slice(1000)));
    await admit(request(['https://other.com/x']));
    await admit(request(['https://big.com/dir/'], 'Directory'));
    const files = await claimAll('File');
    const dirs = await claimAll('Directory');
    expect(files.map((b) => [b.domain, b.items.length]).sort()).toEqual(
      [
        ['big.com', 1000],
        ['big.com', 1000],
        ['big.com', 500],
        ['other.com', 1],
      ].sort(),
    );
    const claimed = files.flatMap((b) => b.items.map((i) => i.path));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(2501);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]?.items.map((i) => i.path)).toEqual(['https://big.com/dir/']);
  });

  it('never hands one path to two concurrent claimers', async () => {
    const paths = Array.from({ length: 3000 }, (_v, i) => `https://d${i % 7}.com/${i}`);
    await admit(request(paths));
    const small = { maxFilesPerCall: 50, maxDirsPerCall: 50, windowMs: 0, quietMs: 0, leaseMs: 60_000 };
    const claimers = Array.from({ length: 8 }, () => claimAll('File', small));
    const claimed = (await Promise.all(claimers)).flat().flatMap((b) => b.items.map((i) => i.path));
    expect(claimed.length).toBe(3000);
    expect(new Set(claimed).size).toBe(3000);
  });
});

describe('finishing', () => {
  it('requeues with a delay and keeps meta; the path is not claimable before', async () => {
    await admit(request(['https://a.com/1']));
    const [batch] = await claimAll();
    const item = batch?.items[0];
    await pool.finish(
      batch as ClaimedBatch,
      new Map([['https://a.com/1', { requeue: { delayMs: 60_000, meta: { ...item!.meta, attempts: 2 } } }]]),
      settings,
    );
    expect(await claimAll()).toHaveLength(0);
  });

  it('puts back a batch whose holder died, as uncertain, merged with newer requests', async () => {
    const first = request(['https://a.com/1']);
    await admit(first);
    const [batch] = await claimAll('File', { ...settings, leaseMs: 30 });
    const second = request(['https://a.com/1']);
    await admit(second);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await pool.reclaimExpired(settings)).toBe(1);
    const [again] = await claimAll();
    expect(again?.items).toHaveLength(1);
    expect(again?.items[0]?.requestIds.sort()).toEqual([first.id, second.id].sort());
    expect(again?.items[0]?.meta.uncertainSince).toBe(batch?.claimedAt);
    // Its calls were all made by the time it was taken back: the look-up window ends there.
    expect(again?.items[0]?.meta.uncertainUntil).toBeGreaterThanOrEqual((batch?.claimedAt ?? 0) + 60);
    // The dead holder's late finish is refused: the batch is no longer its.
    expect(await pool.finish(batch as ClaimedBatch, submittedAll(batch as ClaimedBatch), settings)).toBe(
      false,
    );
  });

  it('keeps a batch whose holder renews its lease; a renewal after it was taken back fails', async () => {
    await admit(request(['https://a.com/1']));
    const short = { ...settings, leaseMs: 600 };
    const [batch] = await claimAll('File', short);
    for (let beat = 0; beat < 4; beat += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await pool.renew(batch!.id, short.leaseMs)).toBe(true);
    }
    // A second past the claim, well beyond the first lease: still held.
    expect(await pool.reclaimExpired(short)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await pool.reclaimExpired(short)).toBe(1);
    expect(await pool.renew(batch!.id, short.leaseMs)).toBe(false);
    const [again] = await claimAll();
    expect(again?.items[0]?.meta.uncertainSince).toBe(batch?.claimedAt);
  });

  it('does not reclaim a batch whose lease still runs', async () => {
    await admit(request(['https://a.com/1']));
    await claimAll();
    expect(await pool.reclaimExpired(settings)).toBe(0);
    expect(await pool.inflightCount()).toBe(1);
  });
});

describe('lanes', () => {
  it('keeps lanes apart and lifts a pending path to the highest lane asked for', async () => {
    await admit(request(['https://a.com/1', 'https://a.com/2'], 'File', 'low'));
    await admit(request(['https://a.com/2'], 'File', 'high'));
    const high = await claimAll('File', settings, 'high');
    const low = await claimAll('File', settings, 'low');
    expect(high.map((b) => b.items.map((i) => i.path))).toEqual([['https://a.com/2']]);
    expect(low.map((b) => b.items.map((i) => i.path))).toEqual([['https://a.com/1']]);
    expect(await claimAll('File', settings, 'normal')).toHaveLength(0);
    expect(high[0]?.lane).toBe('high');
  });
});

describe('directory cover', () => {
  it('covers files admitted under a pending directory: never submitted, their requests see its outcome', async () => {
    const dirReq = request(['https://a.com/videos/'], 'Directory');
    await admit(dirReq);
    const fileReq = request([
      'https://a.com/videos/1.mp4',
      'https://a.com/videos/sub/2.mp4',
      'https://a.com/other.mp4',
    ]);
    expect(await admit(fileReq)).toEqual({ admitted: true, coalesced: 2 });
    expect((await claimAll('File')).flatMap((b) => b.items.map((i) => i.path))).toEqual([
      'https://a.com/other.mp4',
    ]);
    const [dirBatch] = await claimAll('Directory');
    expect(dirBatch?.items.map((i) => i.path)).toEqual(['https://a.com/videos/']);
    expect((await requests.read(fileReq.id))?.paths.get('https://a.com/videos/1.mp4')).toMatchObject({
      state: 'queued',
      coveredBy: 'https://a.com/videos/',
    });
    await pool.finish(
      dirBatch as ClaimedBatch,
      new Map([['https://a.com/videos/', { status: { state: 'submitted', taskId: 'd1', submittedAt: 1 } }]]),
      settings,
    );
    const stored = await requests.read(fileReq.id);
    expect(stored?.paths.get('https://a.com/videos/1.mp4')).toMatchObject({
      state: 'submitted',
      taskId: 'd1',
      coveredBy: 'https://a.com/videos/',
    });
    expect(stored?.paths.get('https://a.com/videos/sub/2.mp4')).toMatchObject({
      state: 'submitted',
      taskId: 'd1',
    });
    expect(stored?.paths.get('https://a.com/other.mp4')).toMatchObject({ state: 'queued' });
  });

  it('absorbs pending files and sub-directories when a directory above them arrives, taking the highest lane', async () => {
    const files = request(
      ['https://a.com/v/1.mp4', 'https://a.com/v/x/2.mp4', 'https://a.com/w/3.mp4'],
      'File',
      'high',
    );
    const sub = request(['https://a.com/v/x/'], 'Directory', 'low');
    await admit(files);
    await admit(sub);
    await admit(request(['https://a.com/v/'], 'Directory', 'normal'));
    expect((await claimAll('File', settings, 'high')).flatMap((b) => b.items.map((i) => i.path))).toEqual([
      'https://a.com/w/3.mp4',
    ]);
    expect(await claimAll('Directory', settings, 'low')).toHaveLength(0);
    const [dirBatch] = await claimAll('Directory', settings, 'high');
    expect(dirBatch?.items.map((i) => i.path)).toEqual(['https://a.com/v/']);
    await pool.finish(
      dirBatch as ClaimedBatch,
      new Map([['https://a.com/v/', { status: { state: 'rejected', error: { code: 'X', message: 'm' } } }]]),
      settings,
    );
    expect((await requests.read(files.id))?.paths.get('https://a.com/v/x/2.mp4')).toMatchObject({
      state: 'rejected',
      coveredBy: 'https://a.com/v/',
    });
    expect((await requests.read(sub.id))?.paths.get('https://a.com/v/x/')).toMatchObject({
      state: 'rejected',
      coveredBy: 'https://a.com/v/',
    });
  });

  it('covers files admitted while the directory is in flight, and keeps them covered if it is requeued', async () => {
    await admit(request(['https://a.com/d/'], 'Directory'));
    const [dirBatch] = await claimAll('Directory');
    const late = request(['https://a.com/d/late.png']);
    await admit(late);
    expect(await claimAll('File')).toHaveLength(0);
    const item = dirBatch!.items[0]!;
    await pool.finish(
      dirBatch as ClaimedBatch,
      new Map([[item.path, { requeue: { delayMs: 0, meta: item.meta } }]]),
      settings,
    );
    expect(await claimAll('File')).toHaveLength(0);
    const [again] = await claimAll('Directory');
    await pool.finish(
      again as ClaimedBatch,
      new Map([[item.path, { status: { state: 'submitted', taskId: 'd2', submittedAt: 1 } }]]),
      settings,
    );
    expect((await requests.read(late.id))?.paths.get('https://a.com/d/late.png')).toMatchObject({
      state: 'submitted',
      taskId: 'd2',
      coveredBy: 'https://a.com/d/',
    });
  });

  it('does not cover another scheme, host or a mere name prefix', async () => {
    await admit(request(['https://a.com/d/'], 'Directory'));
    await admit(request(['http://a.com/d/x', 'https://b.com/d/x', 'https://a.com/dx', 'https://a.com/d']));
    const claimed = (await claimAll('File')).flatMap((b) => b.items.map((i) => i.path)).sort();
    expect(claimed).toEqual(['http://a.com/d/x', 'https://a.com/d', 'https://a.com/dx', 'https://b.com/d/x']);
  });

  it('promotes K pending files under one directory to that directory when promotion is on', async () => {
    const req = request(['https://a.com/p/1', 'https://a.com/p/2', 'https://a.com/p/3', 'https://a.com/q/1']);
    await admit(req, 0, 1000, 3);
    expect((await claimAll('File')).flatMap((b) => b.items.map((i) => i.path))).toEqual([
      'https://a.com/q/1',
    ]);
    const [dirBatch] = await claimAll('Directory');
    expect(dirBatch?.items.map((i) => [i.path, i.meta.promoted])).toEqual([['https://a.com/p/', true]]);
    await pool.finish(
      dirBatch as ClaimedBatch,
      new Map([['https://a.com/p/', { status: { state: 'submitted', taskId: 'p1', submittedAt: 1 } }]]),
      settings,
    );
    const stored = await requests.read(req.id);
    for (const path of ['https://a.com/p/1', 'https://a.com/p/2', 'https://a.com/p/3']) {
      expect(stored?.paths.get(path)).toMatchObject({
        state: 'submitted',
        taskId: 'p1',
        coveredBy: 'https://a.com/p/',
      });
    }
  });
});

describe('a refused promotion', () => {
  const rejected = (dir: string): Map<string, PathOutcome> =>
    new Map([[dir, { status: { state: 'rejected', error: { code: 'IllegalOperation', message: 'no' } } }]]);

  it('gives the files a promoted directory covered back to the pool as files, still queued', async () => {
    const first = request(['https://a.com/p/1', 'https://a.com/p/2', 'https://a.com/p/3'], 'File', 'high');
    await admit(first, 0, 1000, 3);
    const late = request(['https://a.com/p/4']);
    await admit(late);
    const [dirBatch] = await claimAll('Directory', settings, 'high');
    expect(dirBatch?.items.map((item) => item.meta.promoted)).toEqual([true]);
    await pool.finish(dirBatch as ClaimedBatch, rejected('https://a.com/p/'), settings);

    for (const [req, path] of [
      [first, 'https://a.com/p/1'],
      [late, 'https://a.com/p/4'],
    ] as const) {
      const status = (await requests.read(req.id))?.paths.get(path);
      expect(status?.state).toBe('queued');
      expect(status?.coveredBy).toBeUndefined();
    }
    const high = await claimAll('File', settings, 'high');
    const normal = await claimAll('File', settings, 'normal');
    expect(high.flatMap((batch) => batch.items.map((item) => item.path)).sort()).toEqual([
      'https://a.com/p/1',
      'https://a.com/p/2',
      'https://a.com/p/3',
    ]);
    expect(normal.flatMap((batch) => batch.items.map((item) => [item.path, item.requestIds]))).toEqual([
      ['https://a.com/p/4', [late.id]],
    ]);
    await pool.finish(high[0] as ClaimedBatch, submittedAll(high[0] as ClaimedBatch), settings);
    expect((await requests.read(first.id))?.paths.get('https://a.com/p/2')).toMatchObject({
      state: 'submitted',
    });
  });

  it('a directory someone asked for passes its rejection on to what it covers', async () => {
    const dir = request(['https://a.com/d/'], 'Directory');
    await admit(dir);
    const file = request(['https://a.com/d/x']);
    await admit(file);
    const [dirBatch] = await claimAll('Directory');
    await pool.finish(dirBatch as ClaimedBatch, rejected('https://a.com/d/'), settings);
    expect((await requests.read(file.id))?.paths.get('https://a.com/d/x')).toMatchObject({
      state: 'rejected',
      coveredBy: 'https://a.com/d/',
    });
    expect(await claimAll('File')).toHaveLength(0);
  });
});

describe('quiet time (debounce)', () => {
  it('holds back a path requested again within the quiet time, and takes it once quiet', async () => {
    const quiet = { ...settings, quietMs: 300 };
    await admit(request(['https://a.com/calm']));
    await new Promise((resolve) => setTimeout(resolve, 350));
    await admit(request(['https://a.com/hot']));
    const [first] = await claimAll('File', quiet);
    expect(first?.items.map((i) => i.path)).toEqual(['https://a.com/calm']);
    await admit(request(['https://a.com/hot']));
    expect(await claimAll('File', quiet)).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const [second] = await claimAll('File', quiet);
    expect(second?.items.map((i) => [i.path, i.requestIds.length])).toEqual([['https://a.com/hot', 2]]);
  });
});

describe('requests that arrive while their path is in flight', () => {
  it('are satisfied by the call if received before it started; later ones make the path go again', async () => {
    const first = request(['https://a.com/x']);
    await admit(first);
    const [inFlight] = await claimAll();
    const callStartedAt = Date.now() + 60_000;
    const before = { ...request(['https://a.com/x']), receivedAt: callStartedAt - 1 };
    await admit(before);
    const submitted = (batch: ClaimedBatch) =>
      new Map<string, PathOutcome>(
        batch.items.map((i) => [
          i.path,
          { status: { state: 'submitted', taskId: 't1', submittedAt: callStartedAt } },
        ]),
      );
    await pool.finish(inFlight as ClaimedBatch, submitted(inFlight as ClaimedBatch), settings);
    expect((await requests.read(before.id))?.paths.get('https://a.com/x')).toMatchObject({
      state: 'submitted',
      taskId: 't1',
    });
    expect(await claimAll()).toHaveLength(0);

    await admit(request(['https://a.com/y']));
    const [second] = await claimAll();
    const after = { ...request(['https://a.com/y']), receivedAt: callStartedAt + 1 };
    await admit(after);
    await pool.finish(second as ClaimedBatch, submitted(second as ClaimedBatch), settings);
    expect((await requests.read(after.id))?.paths.get('https://a.com/y')).toMatchObject({ state: 'queued' });
    const [again] = await claimAll();
    expect(again?.items.map((i) => [i.path, i.requestIds])).toEqual([['https://a.com/y', [after.id]]]);
  });
});

describe('re-sent calls (a reply lost on reconnect)', () => {
  it('claiming again under the same batch id returns the same batch and strands nothing', async () => {
    await admit(request(Array.from({ length: 5 }, (_v, i) => `https://r.com/${i}`)));
    const small = { ...settings, maxFilesPerCall: 2 };
    const first = await pool.claim('File', 'normal', 'same-id', small);
    const again = await pool.claim('File', 'normal', 'same-id', small);
    expect(again.batch?.items.map((i) => i.path)).toEqual(first.batch?.items.map((i) => i.path));
    const rest = await claimAll('File', small);
    expect(rest.flatMap((b) => b.items.map((i) => i.path)).length).toBe(3);
  });
});
