import { domainOf, type RefreshRequest } from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createRedis,
  keyspace,
  PendingPool,
  RedisClock,
  RequestStore,
  TaskStore,
  type ClaimedBatch,
  type Redis,
} from '../src/index.js';

let redis: Redis;
let namespace: string;
let pool: PendingPool;
let requests: RequestStore;
let tasks: TaskStore;
const settings = {
  maxFilesPerCall: 1000,
  maxDirsPerCall: 100,
  windowMs: 0,
  quietMs: 0,
  leaseMs: 60_000,
  firstPollMs: 0,
};

beforeEach(() => {
  namespace = testNamespace('tasks');
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  const keys = keyspace(namespace);
  pool = new PendingPool(redis, keys, new RedisClock(redis));
  requests = new RequestStore(redis, keys);
  tasks = new TaskStore(redis, keys);
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

/** Two paths of one request, accepted under task `t1`, with a callback asked for. */
async function submitted(): Promise<RefreshRequest> {
  const req: RefreshRequest & { callbackUrl: string } = {
    id: `req-${Math.random()}`,
    objectType: 'File',
    priority: 'normal',
    paths: ['https://a.com/1', 'https://a.com/2'],
    receivedAt: Date.now(),
    callbackUrl: 'https://hooks.example.com/x',
  };
  await requests.admit(req, req.paths.map(domainOf), {
    windowMs: 0,
    maxFilesPerCall: 1000,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt: 0,
  });
  const claim = await pool.claim('File', 'normal', 'b1', settings);
  const batch = claim.batch as ClaimedBatch;
  await pool.finish(
    batch,
    new Map(
      batch.items.map((item) => [
        item.path,
        { status: { state: 'submitted', taskId: 't1', submittedAt: 1 } },
      ]),
    ),
    settings,
  );
  return req;
}

describe('tracked tasks', () => {
  it('are leased when claimed, and a holder’s renewal keeps them from other workers', async () => {
    await submitted();
    // Lease 1 s; renewed after 0.6 s, so still held 1.2 s after the claim; free once the renewal ran out.
    expect((await tasks.claimDue(10, 1000)).map((task) => task.taskId)).toEqual(['t1']);
    expect(await tasks.claimDue(10, 1000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await tasks.renew(['t1', 'not-tracked'], 1000)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await tasks.claimDue(10, 1000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await tasks.claimDue(10, 1000)).map((task) => task.taskId)).toEqual(['t1']);
  });

  it('end unconfirmed at the last look: the request ends and its callback is due; a late answer may still confirm', async () => {
    const req = await submitted();
    const recorded = await tasks.record(
      't1',
      new Map([['https://a.com/1', { state: 'unconfirmed', description: 'still Refreshing' }]]),
      true,
      0,
      { state: 'unconfirmed', description: 'not listed' },
    );
    expect(recorded).toEqual({ requestIds: [req.id], unconfirmed: 2 });
    const stored = await requests.read(req.id);
    expect(stored?.paths.get('https://a.com/2')).toMatchObject({
      state: 'unconfirmed',
      taskId: 't1',
      error: { code: 'TaskUnconfirmed', message: 'not listed' },
    });
    const keys = keyspace(namespace);
    expect(await redis.hget(keys.request(req.id), 'open')).toBe('0');
    expect(await redis.zscore(keys.callbacksDue, req.id)).not.toBeNull();
    expect(await redis.zscore(keys.tracking, 't1')).toBeNull();

    // Another id of a merged RefreshTaskId may still report the end: it replaces unconfirmed, once.
    await redis.hset(keys.task('t1'), `${req.id}\thttps://a.com/1`, '');
    await tasks.record('t1', new Map([['https://a.com/1', { state: 'refreshing' }]]), false, 1000);
    expect((await requests.read(req.id))?.paths.get('https://a.com/1')?.state).toBe('unconfirmed');
    await tasks.record('t1', new Map([['https://a.com/1', { state: 'complete' }]]), true, 0);
    const after = (await requests.read(req.id))?.paths.get('https://a.com/1');
    expect(after).toMatchObject({ state: 'complete' });
    expect(after?.error).toBeUndefined();
    expect(await redis.hget(keys.request(req.id), 'open')).toBe('0');
  });
});
