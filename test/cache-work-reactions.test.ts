import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
 * The reactions of upstream-reactions.ts to the answers of PreloadVodObjectCaches,
 * RefreshMediaPlayUrls and GetMediaRefreshJobs, each caused for real in the emulator.
 */

const VIDEO = 'f7e5d4c3b2a1908172635445362718a9';
const OFFSITE = 'a9b8c7d6e5f40312a1b2c3d4e5f60718';

let upstream: RunningEmulator;
let stack: TestStack;
let intake: TestIntake;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    tasks: { pendingMs: 50, completeAfterMs: 300, mediaSubmitMs: 100 },
  });
  stack = await startTestStack(upstream.url, {
    TASK_FIRST_POLL_MS: '200',
    QUOTA_SYNC_INTERVAL_MS: '0',
    BREAKER_PROBE_MS: '600',
    MAX_PRELOADS_PER_CALL: '4',
    COALESCE_WINDOW_MS: '100',
  });
  intake = stack.intake;
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.emulator.reset();
  upstream.emulator.registerMedia(VIDEO, {
    playUrls: [{ url: 'https://play.example.com/r/hd.mp4', format: 'mp4', definition: 'HD' }],
  });
  upstream.emulator.registerMedia(OFFSITE, {
    playUrls: [{ url: 'https://down.example.com/r/hd.mp4', format: 'mp4', definition: 'HD' }],
  });
});

const status = async (id: string) => (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;

async function until(id: string, done: (body: any) => boolean, what: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const body = await status(id);
      return done(body) ? body : undefined;
    },
    timeoutMs,
    what,
  );
}

const ended = (id: string) =>
  until(
    id,
    (body) => ['complete', 'failed', 'partially_failed'].includes(body.state),
    `request ${id} to end`,
  );

async function accept(body: unknown): Promise<string> {
  const answer = await postJson(`${intake.url}/v1/refreshes`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body.id;
}

const calls = (action: string) => upstream.emulator.counts().calls[action] ?? {};

describe('PreloadVodObjectCaches answers', () => {
  it('a domain offline: its preloads end rejected with the code; another domain goes through', async () => {
    upstream.emulator.setDomainState('off.example.com', 'offline');
    const off = await accept({ paths: ['https://off.example.com/a.mp4'], action: 'preload' });
    const on = await accept({ paths: ['https://on.example.com/a.mp4'], action: 'preload' });
    expect((await ended(off)).paths[0]).toMatchObject({
      state: 'rejected',
      error: { code: 'InvalidDomain.Offline' },
    });
    expect((await ended(on)).state).toBe('complete');
  });

  it('a domain being configured (ServiceBusy): retried later, never rejected at once', async () => {
    upstream.emulator.setDomainState('busy.example.com', 'configuring');
    const id = await accept({ paths: ['https://busy.example.com/a.mp4'], action: 'preload' });
    await eventually(async () => ((calls('PreloadVodObjectCaches').ServiceBusy ?? 0) > 0 ? true : undefined));
    // The emulator counts the call before the worker has read its answer and requeued the path.
    const requeued = /refreshq_paths_requeued_total\{object_type="Preload",reason="retry"[^}]*\} 1/;
    const metrics = await eventually(
      async () => {
        const text = await stack.worker.metrics.registry.metrics();
        return requeued.test(text) ? text : undefined;
      },
      10_000,
      'refreshq_paths_requeued_total{object_type="Preload",reason="retry"} to be 1',
    );
    expect(metrics).toMatch(requeued);
    expect((await status(id)).paths[0].state).toBe('queued');
  });

  it('more URLs in a call than the upstream takes (InvalidObjectPath.Size.Malformed): halves go through', async () => {
    upstream.emulator.setQuota({ limits: { maxPreloadsPerCall: 2 } });
    const paths = Array.from({ length: 4 }, (_v, i) => `https://split.example.com/${i}.mp4`);
    const id = await accept({ paths, action: 'preload' });
    expect((await ended(id)).state).toBe('complete');
    expect(calls('PreloadVodObjectCaches')['InvalidObjectPath.Size.Malformed']).toBeGreaterThan(0);
    expect(
      upstream.emulator
        .preloads()
        .flatMap((p) => p.paths)
        .sort(),
    ).toEqual(paths);
  });

  it('Throttling: the preload is retried and goes; the hold is on preload calls, not on refresh calls', async () => {
    upstream.emulator.updateFaults({ throttleNext: 2, actions: ['PreloadVodObjectCaches'] });
    const preload = await accept({ paths: ['https://t.example.com/a.mp4'], action: 'preload' });
    const refresh = await accept({ paths: ['https://t.example.com/b.mp4'] });
    expect((await ended(preload)).state).toBe('complete');
    expect((await ended(refresh)).state).toBe('complete');
    expect(calls('PreloadVodObjectCaches').Throttling).toBe(2);
    expect(calls('RefreshVodObjectCaches').Throttling).toBeUndefined();
  });

  it('an answer lost after it was accepted: the look-up (ObjectType=preload) finds the task, nothing is prefetched twice', async () => {
    upstream.emulator.updateFaults({ lostAnswerNext: 1, actions: ['PreloadVodObjectCaches'] });
    const id = await accept({ paths: ['https://lost.example.com/a.mp4'], action: 'preload' });
    const body = await ended(id);
    expect(body.paths[0]).toMatchObject({ state: 'complete' });
    expect(upstream.emulator.preloads()).toHaveLength(1);
    expect(upstream.emulator.preloads()[0]?.answer).toBe('lost');
  });

  it('OperationDenied: the breaker holds every kind of work, queued; it goes once the account is back', async () => {
    upstream.emulator.setAccountState('not-activated');
    const id = await accept({ paths: ['https://denied.example.com/a.mp4'], action: 'preload' });
    await eventually(async () =>
      (calls('PreloadVodObjectCaches').OperationDenied ?? 0) > 0 ? true : undefined,
    );
    expect((await status(id)).paths[0].state).toBe('queued');
    upstream.emulator.setAccountState('active');
    expect((await ended(id)).state).toBe('complete');
  });
});

describe('RefreshMediaPlayUrls and GetMediaRefreshJobs answers', () => {
  it('an account error (Forbidden.RAM on RefreshMediaPlayUrls): held behind the breaker, never rejected; released when allowed', async () => {
    upstream.emulator.denyActions(TEST_KEY.accessKeyId, ['RefreshMediaPlayUrls']);
    const id = await accept({ mediaIds: [VIDEO] });
    await eventually(async () =>
      (calls('RefreshMediaPlayUrls')['Forbidden.RAM'] ?? 0) > 0 ? true : undefined,
    );
    expect((await status(id)).media[0].state).toBe('queued');
    upstream.emulator.denyActions(TEST_KEY.accessKeyId, []);
    expect((await ended(id)).media[0]).toMatchObject({ state: 'complete' });
  });

  it('Throttling: retried with backoff, then the job is followed to its end', async () => {
    upstream.emulator.updateFaults({ throttleNext: 1, actions: ['RefreshMediaPlayUrls'] });
    const id = await accept({ mediaIds: [VIDEO] });
    expect((await ended(id)).media[0].state).toBe('complete');
    expect(calls('RefreshMediaPlayUrls')).toMatchObject({ Throttling: 1, OK: 1 });
  });

  it('a job that fails a media for another cause than quota (a play URL domain offline) ends it failed with the code', async () => {
    upstream.emulator.setDomainState('down.example.com', 'offline');
    const id = await accept({ mediaIds: [OFFSITE, VIDEO] });
    const body = await ended(id);
    const byId = new Map(body.media.map((m: any) => [m.mediaId, m]));
    expect(byId.get(OFFSITE)).toMatchObject({ state: 'failed', error: { code: 'InvalidDomain.Offline' } });
    expect(byId.get(VIDEO)).toMatchObject({ state: 'complete' });
    expect(body.state).toBe('partially_failed');
  });

  it('a media prefetch whose job finds the preload queue full goes back to the pool, held to the next quota day', async () => {
    upstream.emulator.setQuota({ used: { preloadsToday: 500 } });
    const id = await accept({ mediaIds: [VIDEO], action: 'preload' });
    await eventually(async () => {
      const state = await stack.worker.governor.state();
      return state.byType.Preload.hold?.reason === 'PreloadQueueFull' ? state : undefined;
    });
    expect((await status(id)).media[0].state).toBe('queued');
    // The hold stays to the end of this file: no test after this one prefetches.
  });

  it('an answer lost after it was accepted: the media goes again (a media job cannot be looked up by id) and ends', async () => {
    upstream.emulator.updateFaults({ lostAnswerNext: 1, actions: ['RefreshMediaPlayUrls'] });
    const id = await accept({ mediaIds: [VIDEO] });
    expect((await ended(id)).media[0].state).toBe('complete');
    const jobs = upstream.emulator.mediaJobs().filter((job) => job.taskType === 'Refresh');
    expect(jobs.map((job) => job.answer)).toEqual(['lost', 'sent']);
  });
});
