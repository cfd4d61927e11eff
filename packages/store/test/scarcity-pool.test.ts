import { domainOf, type RefreshRequest } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  type Keyspace,
  keyspace,
  PendingPool,
  type PathOutcome,
  type PoolSettings,
  type Redis,
  RedisClock,
  RequestStore,
} from '../src/index.js';

/** The scarcity policy's steps on a real Redis (docs/scarcity.md). */

let redis: Redis;
let keys: Keyspace;
let namespace: string;
let pool: PendingPool;
let requests: RequestStore;
const DAY = 20_000;

const settings: PoolSettings = {
  maxFilesPerCall: 1000,
  maxDirsPerCall: 100,
  windowMs: 0,
  quietMs: 0,
  leaseMs: 60_000,
  hotQuietMs: 60_000,
  hotHoldMs: 600_000,
};

beforeEach(async () => {
  namespace = testNamespace('scarcity');
  keys = keyspace(namespace);
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  pool = new PendingPool(redis, keys, new RedisClock(redis));
  requests = new RequestStore(redis, keys);
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

let counter = 0;
async function admit(paths: string[], objectType: 'File' | 'Directory' = 'File'): Promise<string> {
  counter += 1;
  const req: RefreshRequest = {
    id: `req-${counter}`,
    objectType,
    priority: 'normal',
    paths,
    receivedAt: Date.now(),
  };
  await requests.admit(req, paths.map(domainOf), {
    windowMs: 0,
    maxFilesPerCall: 1000,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt: 0,
  });
  return req.id;
}

const submitted = (paths: string[]): Map<string, PathOutcome> =>
  new Map(paths.map((path) => [path, { status: { state: 'submitted', taskId: 't1', submittedAt: 1 } }]));

async function claimPaths(limit = Infinity): Promise<string[]> {
  const claim = await pool.claim('File', 'normal', `b-${Math.random()}`, settings, limit, DAY);
  if (!claim.batch) return [];
  const paths = claim.batch.items.map((item) => item.path);
  await pool.finish(claim.batch, submitted(paths), settings, DAY);
  return paths;
}

const pressure = (on: boolean, act = true) =>
  pool.publishPressure({ File: on, Directory: false }, act, 60_000);
const url = (name: string) => `https://cdn.example.com/v/${name}.mp4`;

describe('first refreshes before repeats', () => {
  it('under pressure, a path refreshed today waits while the lane has paths not refreshed today', async () => {
    await admit([url('hot')]);
    expect(await claimPaths()).toEqual([url('hot')]);
    await pressure(true);
    await admit([url('hot')]);
    await admit([url('a'), url('b')]);
    expect((await claimPaths()).sort()).toEqual([url('a'), url('b')]);
    // Nothing else is pending: the repeat goes now.
    expect(await claimPaths()).toEqual([url('hot')]);
  });

  it('without pressure, or with SCARCITY_POLICY=fifo, a repeat goes with the rest', async () => {
    await admit([url('hot')]);
    await claimPaths();
    await pressure(true, false);
    await admit([url('hot'), url('a')]);
    expect((await claimPaths()).sort()).toEqual([url('a'), url('hot')]);
  });

  it('marks what a directory covered as refreshed that day', async () => {
    const id = await admit(['https://cdn.example.com/s/'], 'Directory');
    await admit(['https://cdn.example.com/s/a.mp4']);
    const claim = await pool.claim('Directory', 'normal', 'dir-2', settings, Infinity, DAY);
    await pool.finish(claim.batch!, submitted(['https://cdn.example.com/s/']), settings, DAY);
    expect(await redis.sismember(keys.refreshed('File', DAY), 'https://cdn.example.com/s/a.mp4')).toBe(1);
    expect(id).toBeTruthy();
  });
});

describe('hot paths wait for their burst to end', () => {
  it('under pressure, a path requested again and again needs twice its mean gap of quiet', async () => {
    await pressure(true);
    await admit([url('hot')]);
    // Three more requests over a short burst: the mean gap is small but not zero.
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      await admit([url('hot')]);
    }
    await admit([url('calm')]);
    expect(await claimPaths()).toEqual([url('calm')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await claimPaths()).toEqual([url('hot')]);
  });
});

describe('directory promotion', () => {
  it('is one promoter a round: the turn is taken once until it runs out', async () => {
    expect(await pool.takePromotionTurn('worker-a', 300)).toBe(true);
    expect(await pool.takePromotionTurn('worker-b', 300)).toBe(false);
    expect(await pool.takePromotionTurn('worker-a', 300)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await pool.takePromotionTurn('worker-b', 300)).toBe(true);
  });

  const dir = 'https://cdn.example.com/series/1/';
  const files = ['a', 'b', 'c'].map((name) => `${dir}${name}.ts`);
  const promote = (directoriesPerDay = 10, minFiles = 3) =>
    pool.promote(
      dir,
      'cdn.example.com',
      { day: DAY, directoriesPerDay, minFiles, reason: 'promoted: test' },
      settings,
    );

  it('absorbs the pending files; their statuses say so; the directory carries their requests', async () => {
    const id = await admit(files);
    expect(await promote()).toEqual({ promoted: true, files: 3 });
    const stored = await requests.read(id);
    expect([...stored!.paths.values()].every((status) => status.coveredBy === dir)).toBe(true);
    expect([...stored!.paths.values()][0]).toMatchObject({ coverReason: 'promoted: test', state: 'queued' });
    expect(await claimPaths()).toEqual([]);
    const claim = await pool.claim('Directory', 'normal', 'dir-3', settings, Infinity, DAY);
    expect(claim.batch?.items.map((item) => item.path)).toEqual([dir]);
    await pool.finish(claim.batch!, submitted([dir]), settings, DAY);
    const done = await requests.read(id);
    expect([...done!.paths.values()].every((s) => s.state === 'submitted' && s.coveredBy === dir)).toBe(true);
    expect([...done!.paths.values()][0]?.coverReason).toBe('promoted: test');
  });

  it('never spends a directory unit the day does not have, counting directories already pending', async () => {
    await admit(files);
    await admit(['https://cdn.example.com/other/'], 'Directory');
    expect(await promote(1)).toEqual({ promoted: false, why: 'no-directory-unit' });
    await redis.set(keys.quotaDay('Directory', DAY), '5');
    expect(await promote(6)).toEqual({ promoted: false, why: 'no-directory-unit' });
    expect(await promote(7)).toEqual({ promoted: true, files: 3 });
  });

  it('needs its minimum of files, and is not repeated for a directory already pending', async () => {
    await admit(files.slice(0, 2));
    expect(await promote(10, 3)).toEqual({ promoted: false, why: 'too-few-files' });
    await admit([files[2] as string]);
    expect(await promote()).toEqual({ promoted: true, files: 3 });
    expect(await promote()).toEqual({ promoted: false, why: 'already-covered' });
  });
});
