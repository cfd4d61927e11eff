import { requestViewSchema } from '@refreshq/intake';
import { startEmulator, type MediaSpec, type RunningEmulator } from '@refreshq/vod-emulator';
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
 * Issue #16 end to end against the emulator: prefetch, Force, refresh by media id, and
 * `then: "preload"`, each through intake, the pool, the governor and the tracker.
 */

const VIDEO = 'b3a1c0de5f60718293a4b5c6d7e8f901';
const AUDIO = 'c4b2d1ef6071829304b5c6d7e8f90a12';
const LOCKED = 'd5c3e2f07182930415c6d7e8f90a1b23';

const media: Record<string, MediaSpec> = {
  [VIDEO]: {
    playUrls: [
      { url: 'https://play.example.com/v/hd.mp4', format: 'mp4', definition: 'HD' },
      { url: 'https://play.example.com/v/sd.mp4', format: 'mp4', definition: 'SD' },
      { url: 'https://play.example.com/v/hd.m3u8', format: 'm3u8', definition: 'HD' },
    ],
  },
  [AUDIO]: {
    playUrls: [
      { url: 'https://play.example.com/a/sq.mp3', format: 'mp3', definition: 'SQ', streamType: 'audio' },
    ],
  },
  [LOCKED]: { forbidden: true, playUrls: [] },
};

let upstream: RunningEmulator;
let stack: TestStack;
let intake: TestIntake;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    media,
    tasks: { pendingMs: 100, completeAfterMs: 400, mediaSubmitMs: 200 },
  });
  stack = await startTestStack(upstream.url, {
    TASK_FIRST_POLL_MS: '200',
    QUOTA_SYNC_INTERVAL_MS: '0',
    MEDIA_PLAY_URLS_PER_ID: '2',
  });
  intake = stack.intake;
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.emulator.clearFaults();
});

const status = async (id: string) => (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;

async function ended(id: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const body = await status(id);
      return ['complete', 'failed', 'partially_failed'].includes(body.state) ? body : undefined;
    },
    timeoutMs,
    `request ${id} to end`,
  );
}

/** As a new quota day would: the budget family's hold and today's use (synced from the emulator) go. */
async function forgetQuota(family: 'File' | 'Preload'): Promise<void> {
  const redis = stack.worker.redis;
  const names = await redis.keys(`{${intake.namespace}}:quota:*${family}*`);
  if (names.length > 0) await redis.del(...names);
}

async function accept(body: unknown): Promise<string> {
  const answer = await postJson(`${intake.url}/v1/refreshes`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body.id;
}

describe('prefetch: action "preload"', () => {
  it('calls PreloadVodObjectCaches, spends preload quota only, and follows its tasks to the end', async () => {
    const paths = ['https://cdn.example.com/p/1.mp4', 'https://cdn.example.com/p/2.mp4'];
    const answer = await postJson(`${intake.url}/v1/refreshes`, { paths, action: 'preload' });
    expect(answer.body).toMatchObject({ accepted: 2, action: 'preload', objectType: 'File' });
    const body = await ended(answer.body.id);
    expect(body).toMatchObject({ state: 'complete', action: 'preload' });
    const preloads = upstream.emulator.preloads().filter((p) => p.paths.some((path) => paths.includes(path)));
    expect(preloads.flatMap((p) => p.paths).sort()).toEqual(paths);
    expect(upstream.emulator.submissions().flatMap((s) => s.paths)).not.toContain(paths[0]);
    for (const path of body.paths) {
      const task = upstream.emulator
        .tasks()
        .find((t) => t.ObjectPath === path.path && t.ObjectType === 'preload');
      expect(path).toMatchObject({ state: 'complete', taskId: task?.TaskId });
    }
  });

  it('a pending refresh and a pending preload of one path are two things', async () => {
    const path = 'https://cdn.example.com/p/both.mp4';
    const [refresh, preload] = await Promise.all([
      accept({ paths: [path] }),
      accept({ paths: [path], action: 'preload' }),
    ]);
    await Promise.all([ended(refresh), ended(preload)]);
    expect(upstream.emulator.submissions().filter((s) => s.paths.includes(path))).toHaveLength(1);
    expect(upstream.emulator.preloads().filter((s) => s.paths.includes(path))).toHaveLength(1);
  });

  it('holds preloads like a spent day when the queue is full, and lets refreshes go', async () => {
    upstream.emulator.setQuota({ used: { preloadsToday: 500 } });
    let held: string | undefined;
    try {
      held = await accept({ paths: ['https://cdn.example.com/p/held.mp4'], action: 'preload' });
      const refresh = await accept({ paths: ['https://cdn.example.com/p/not-held.mp4'] });
      await ended(refresh);
      await eventually(async () =>
        (upstream.emulator.counts().calls.PreloadVodObjectCaches?.PreloadQueueFull ?? 0) > 0
          ? true
          : undefined,
      );
      const state = await stack.worker.governor.state();
      expect(state.byType.Preload.hold).toMatchObject({ reason: 'PreloadQueueFull' });
      expect(state.byType.Preload.hold?.until).toBe(state.nextDayStart);
      expect((await status(held)).paths[0]).toMatchObject({ state: 'queued' });
    } finally {
      upstream.emulator.setQuota({ used: { preloadsToday: 0 } });
      await forgetQuota('Preload');
    }
    // As on the next quota day, the held preload goes (and is out of the way of the tests below).
    expect((await ended(held)).state).toBe('complete');
  });
});

describe('force', () => {
  it('sends Force=true; a batch never mixes force values and merging keeps them apart', async () => {
    const a = 'https://cdn.example.com/f/a.png';
    const b = 'https://cdn.example.com/f/b.png';
    const ids = await Promise.all([
      accept({ paths: [a, b], force: true }),
      accept({ paths: [a] }),
      accept({ paths: [b], force: true }),
    ]);
    await Promise.all(ids.map((id) => ended(id)));
    const calls = upstream.emulator.submissions().filter((s) => s.paths.includes(a) || s.paths.includes(b));
    expect(
      calls
        .filter((s) => s.force)
        .flatMap((s) => s.paths)
        .sort(),
    ).toEqual([a, b]);
    expect(calls.filter((s) => !s.force).flatMap((s) => s.paths)).toEqual([a]);
    expect(await status(ids[0] as string)).toMatchObject({ force: true, state: 'complete' });
  });
});

describe('refresh by media id', () => {
  it('calls RefreshMediaPlayUrls, follows the job to its play URLs and their tasks; refused ids end rejected', async () => {
    const id = await accept({
      mediaIds: [VIDEO, LOCKED, 'e6d4f3018293a4b5c6d7e8f90a1b2c34', VIDEO],
      formats: ['mp4'],
    });
    const body = await ended(id);
    // The answer as GET /openapi.json describes it (MediaStatus).
    expect(requestViewSchema.parse(body).media).toHaveLength(3);
    expect(body).toMatchObject({ state: 'partially_failed', action: 'refresh', paths: [] });
    const byId = new Map(body.media.map((m: any) => [m.mediaId, m]));
    const video = byId.get(VIDEO) as any;
    expect(video.state).toBe('complete');
    expect(video.mediaRefreshJobId).toMatch(/^[0-9a-f]{32}$/);
    expect(video.playUrls.map((u: any) => u.url).sort()).toEqual([
      'https://play.example.com/v/hd.mp4',
      'https://play.example.com/v/sd.mp4',
    ]);
    const tasks = upstream.emulator.tasks();
    for (const url of video.playUrls) {
      expect(url.state).toBe('complete');
      expect(url.taskId).toBe(tasks.find((t) => t.ObjectPath === url.url)?.TaskId);
    }
    expect(byId.get(LOCKED)).toMatchObject({ state: 'rejected', error: { code: 'MediaIdForbidden' } });
    expect(byId.get('e6d4f3018293a4b5c6d7e8f90a1b2c34')).toMatchObject({
      state: 'rejected',
      error: { code: 'MediaIdNotFound' },
    });
    const [job] = upstream.emulator.mediaJobs().filter((j) => j.paths.includes(VIDEO));
    expect(job).toMatchObject({ taskType: 'Refresh' });
    expect(JSON.parse(job?.filterPolicy ?? '{}')).toMatchObject({ Formats: 'mp4' });
  });

  it('prefetches by media id with TaskType Preload: the play URLs spend preload quota, the governor is told the real count', async () => {
    const before = (await stack.worker.governor.state()).byType.Preload.dayUsed;
    const id = await accept({
      mediaIds: [VIDEO],
      action: 'preload',
      formats: 'mp4,m3u8',
      sliceFlag: true,
      sliceCount: 2,
    });
    const body = await ended(id);
    // hd.mp4, sd.mp4, hd.m3u8 and its first two TS segments.
    expect(body.media[0]).toMatchObject({ mediaId: VIDEO, state: 'complete' });
    expect(body.media[0].playUrls).toHaveLength(5);
    await eventually(async () => {
      const used = (await stack.worker.governor.state()).byType.Preload.dayUsed;
      return used - before === 5 ? true : undefined;
    });
    const [job] = upstream.emulator.mediaJobs().filter((j) => j.taskType === 'Preload');
    expect(JSON.parse(job?.filterPolicy ?? '{}')).toMatchObject({ SliceFlag: true, SliceCount: 2 });
  });

  it('puts a media back when its job fails for quota, and submits it again once the day allows', async () => {
    upstream.emulator.setQuota({ used: { urlsToday: 2000 } });
    const id = await accept({ mediaIds: [AUDIO] });
    await eventually(async () =>
      upstream.emulator.mediaJobs().some((j) => j.paths.includes(AUDIO) && j.entries[0]?.status === 'fail')
        ? true
        : undefined,
    );
    await eventually(async () => ((await stack.worker.governor.state()).byType.File.hold ? true : undefined));
    expect((await status(id)).media[0]).toMatchObject({ state: 'queued' });
    // The emulator's day rolls over; lift the governor's hold as the new quota day would.
    upstream.emulator.setQuota({ used: { urlsToday: 0 } });
    await forgetQuota('File');
    const body = await ended(id);
    expect(body.media[0]).toMatchObject({
      state: 'complete',
      playUrls: [expect.objectContaining({ state: 'complete' })],
    });
  });
});

describe('then: "preload"', () => {
  it('prefetches each file after its refresh task completes: the status shows the refresh task, then the preload task', async () => {
    const paths = ['https://cdn.example.com/t/1.mp4', 'https://cdn.example.com/t/2.mp4'];
    const answer = await postJson(`${intake.url}/v1/refreshes`, { paths, then: 'preload' });
    expect(answer.body).toMatchObject({ then: 'preload', action: 'refresh' });
    const body = await ended(answer.body.id, 20_000);
    expect(body).toMatchObject({ state: 'complete', then: 'preload' });
    const tasks = upstream.emulator.tasks();
    for (const path of body.paths) {
      const refresh = tasks.find((t) => t.ObjectPath === path.path && t.ObjectType === 'file');
      const preload = tasks.find((t) => t.ObjectPath === path.path && t.ObjectType === 'preload');
      expect(path).toMatchObject({ state: 'complete', taskId: refresh?.TaskId });
      expect(path.preload).toMatchObject({ state: 'complete', taskId: preload?.TaskId });
      // The preload was submitted after the refresh had completed.
      expect(Date.parse(path.preload.submittedAt)).toBeGreaterThanOrEqual(
        Date.parse(path.completedAt) - 1000,
      );
      expect(preload?.TaskId).not.toBe(refresh?.TaskId);
    }
    const metrics = await stack.worker.metrics.registry.metrics();
    expect(metrics).toMatch(/refreshq_follow_on_preloads_total\{[^}]*\} [2-9]/);
  });
});
