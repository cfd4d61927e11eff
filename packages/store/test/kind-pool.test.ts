import {
  domainOf,
  mediaItemKey,
  type MediaOptions,
  mediaOptionsOf,
  type RefreshRequest,
  type WorkType,
} from '@refreshq/domain';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type ClaimedBatch,
  createRedis,
  keyspace,
  MEDIA_JOB_PREFIX,
  PendingPool,
  type PoolSettings,
  type Redis,
  RedisClock,
  RequestStore,
  storedRequestView,
  TaskStore,
} from '../src/index.js';

let redis: Redis;
let namespace: string;
let pool: PendingPool;
let requests: RequestStore;
let tasks: TaskStore;

const settings: PoolSettings = {
  maxFilesPerCall: 1000,
  maxDirsPerCall: 100,
  maxMediaPerCall: 2,
  firstPollMs: 0,
  windowMs: 0,
  quietMs: 0,
  leaseMs: 60_000,
};

beforeEach(() => {
  namespace = testNamespace('kind-pool');
  redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  pool = new PendingPool(redis, keyspace(namespace), new RedisClock(redis));
  requests = new RequestStore(redis, keyspace(namespace));
  tasks = new TaskStore(redis, keyspace(namespace));
});

afterEach(async () => {
  redis.disconnect();
  await dropNamespace(inject('redisUrl'), namespace);
});

let counter = 0;
async function admit(fields: Partial<RefreshRequest>): Promise<RefreshRequest> {
  counter += 1;
  const request: RefreshRequest = {
    id: `req-${counter}`,
    objectType: 'File',
    priority: 'normal',
    paths: [],
    receivedAt: Date.now(),
    ...fields,
  };
  await requests.admit(request, request.paths.map(domainOf), {
    windowMs: 0,
    maxFilesPerCall: 1000,
    maxDirsPerCall: 100,
    retentionSeconds: 3600,
    promoteAt: 0,
  });
  return request;
}

async function claimAll(type: WorkType): Promise<ClaimedBatch[]> {
  const batches: ClaimedBatch[] = [];
  for (;;) {
    const claim = await pool.claim(type, 'normal', `b-${Math.random()}`, settings);
    if (!claim.batch) return batches;
    batches.push(claim.batch);
  }
}

const VIDEO = 'https://v.example.com/videos/a.mp4';

describe('the pool keeps each kind of work apart', () => {
  it('a pending refresh, forced refresh and preload of one path are three items; a directory covers only plain files', async () => {
    await admit({ paths: [VIDEO] });
    await admit({ paths: [VIDEO], force: true });
    await admit({ paths: [VIDEO], action: 'preload' });
    await admit({ paths: [VIDEO], action: 'preload' });
    const dir = await admit({ paths: ['https://v.example.com/videos/'], objectType: 'Directory' });

    expect(await claimAll('File')).toEqual([]); // absorbed by the directory
    const [directory] = await claimAll('Directory');
    expect(directory?.items.map((item) => item.path)).toEqual(['https://v.example.com/videos/']);
    const [forced] = await claimAll('File!force');
    expect(forced).toMatchObject({ objectType: 'File!force', domain: 'File!force@v.example.com' });
    expect(forced?.items.map((item) => item.path)).toEqual([VIDEO]);
    const [preload] = await claimAll('Preload');
    expect(preload).toMatchObject({ objectType: 'Preload', domain: 'Preload@v.example.com' });
    // The two preload requests coalesced into one item.
    expect(preload?.items).toHaveLength(1);
    expect(preload?.items[0]?.requestIds).toHaveLength(2);
    expect((await requests.read(dir.id))?.paths.size).toBe(1);
  });

  it('media ids batch by their options, at most maxMediaPerCall a batch; the same id with other options is another item', async () => {
    const hd: MediaOptions = { taskType: 'Refresh', formats: ['mp4'], definitions: ['HD'] };
    const all: MediaOptions = { taskType: 'Refresh' };
    await admit({ media: { ids: ['m1', 'm2', 'm3'], options: hd } });
    await admit({ media: { ids: ['m1'], options: { ...hd, definitions: ['HD'], formats: ['mp4', 'mp4'] } } });
    await admit({ media: { ids: ['m1'], options: all } });
    await admit({ media: { ids: ['m9'], options: { taskType: 'Preload' } } });

    const batches = await claimAll('Media');
    const sizes = batches.map(
      (batch) => `${mediaOptionsOf(batch.domain)?.definitions ?? 'all'}:${batch.items.length}`,
    );
    expect(sizes.sort()).toEqual(['HD:1', 'HD:2', 'all:1']);
    const m1 = batches.flatMap((batch) => batch.items).find((item) => item.path === mediaItemKey('m1', hd));
    expect(m1?.requestIds).toHaveLength(2);
    expect((await claimAll('Media!preload')).map((batch) => batch.items.length)).toEqual([1]);
  });

  it('follows a media job: play URLs and states on every request, and a quota failure puts the media back', async () => {
    const options: MediaOptions = { taskType: 'Preload' };
    const first = await admit({ media: { ids: ['m1', 'm2'], options } });
    const [batch] = await claimAll('Media!preload');
    const job = `${MEDIA_JOB_PREFIX}abc`;
    const submitted = { status: { state: 'submitted' as const, taskId: job, submittedAt: Date.now() } };
    await pool.finish(
      batch as ClaimedBatch,
      new Map((batch as ClaimedBatch).items.map((item) => [item.path, submitted])),
      settings,
    );
    const [tracked] = await tasks.claimDue(10, 1);
    expect(tracked).toMatchObject({ taskId: job, objectType: 'Media!preload' });
    expect((await tasks.mediaJob(job)).entries).toHaveLength(2);

    const touched = await tasks.recordMediaJob(job, {
      progress: {},
      statuses: new Map([
        [
          'm1',
          {
            state: 'refreshing',
            playUrls: [{ url: 'https://v.example.com/m1.mp4', taskId: '7', state: 'refreshing' }],
          },
        ],
      ]),
      requeues: new Map([['m2', { delayMs: 0 }]]),
      ended: false,
      nextPollMs: 1000,
      windowMs: 0,
    });
    expect(touched).toEqual([first.id]);
    const view = storedRequestView((await requests.read(first.id)) as never);
    expect(view.media).toEqual([
      expect.objectContaining({
        mediaId: 'm1',
        state: 'refreshing',
        mediaRefreshJobId: 'abc',
        playUrls: [{ url: 'https://v.example.com/m1.mp4', taskId: '7', state: 'refreshing' }],
      }),
      expect.objectContaining({ mediaId: 'm2', state: 'queued', playUrls: [] }),
    ]);
    // m2 is pending again, linked to its request; the job now serves m1 only.
    const [again] = await claimAll('Media!preload');
    expect(again?.items.map((item) => [item.path, item.requestIds])).toEqual([
      [mediaItemKey('m2', options), [first.id]],
    ]);
    expect((await tasks.mediaJob(job)).entries.map((entry) => entry.path)).toEqual([
      mediaItemKey('m1', options),
    ]);

    await tasks.recordMediaJob(job, {
      progress: {},
      statuses: new Map([['m1', { state: 'complete', playUrls: [] }]]),
      requeues: new Map(),
      ended: true,
      nextPollMs: 0,
      windowMs: 0,
    });
    expect(await tasks.trackedCount()).toBe(0);
    expect((await requests.read(first.id))?.paths.get(mediaItemKey('m1', options))).toMatchObject({
      state: 'complete',
    });
  });
});
