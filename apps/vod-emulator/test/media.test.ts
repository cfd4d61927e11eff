import { describe, expect, it } from 'vitest';
import type { MediaSpec } from '../src/index.js';
import { control, expectApiError, popClient, popError, start } from './helpers.js';

const MEDIA = 'RefreshMediaPlayUrls';
const JOBS = 'GetMediaRefreshJobs';
const FROZEN = '2024-03-01T10:00:00.000Z';
const ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER = 'ffffeeeeddddccccbbbbaaaa99998888';

const video: MediaSpec = {
  playUrls: [
    { url: 'https://v.example.com/a/hd.mp4', format: 'mp4', definition: 'HD' },
    { url: 'https://v.example.com/a/hd-old.mp4', format: 'mp4', definition: 'HD', version: 0 },
    { url: 'https://v.example.com/a/hd-new.mp4', format: 'mp4', definition: 'HD', version: 2 },
    { url: 'https://v.example.com/a/sd.m3u8', format: 'm3u8', definition: 'SD' },
    { url: 'https://v.example.com/a/audio.mp3', format: 'mp3', definition: 'SQ', streamType: 'audio' },
  ],
};

async function jobOf(url: string, jobId: string) {
  return (await popClient(url).request<any>(JOBS, { MediaRefreshJobId: jobId }, {}))
    .MediaRefreshJobs as any[];
}

describe('RefreshMediaPlayUrls and GetMediaRefreshJobs', () => {
  it('refreshes the play URLs of registered media, one task each, spending the URL quota', async () => {
    const { url, emulator } = await start({ frozenAt: FROZEN, media: { [ID]: video } });
    const client = popClient(url);
    const answer = await client.request<any>(
      MEDIA,
      { MediaIds: `${ID},nosuchmedia`, TaskType: 'Refresh', Formats: 'mp4,m3u8' },
      {},
    );
    expect(answer.MediaRefreshJobId).toMatch(/^[0-9a-f]{32}$/);
    expect(answer).toMatchObject({ NonExistMediaIds: 'nosuchmedia', ForbiddenMediaIds: '' });

    // Still submitting its play URLs for mediaSubmitMs.
    expect(await jobOf(url, answer.MediaRefreshJobId)).toEqual([
      expect.objectContaining({ MediaId: ID, Status: 'Processing', SuccessPlayUrls: '', TaskIds: '' }),
    ]);
    emulator.advanceClock(500);
    const [job] = await jobOf(url, answer.MediaRefreshJobId);
    // ResultType Single: the newest HD mp4 only, and the SD m3u8.
    expect(job).toMatchObject({
      MediaId: ID,
      TaskType: 'Refresh',
      Status: 'success',
      SuccessPlayUrls: 'https://v.example.com/a/hd-new.mp4,https://v.example.com/a/sd.m3u8',
    });
    const taskIds = String(job.TaskIds).split(',');
    expect(new Set(taskIds).size).toBe(2);
    const task = await client.request<any>(
      'DescribeVodRefreshTasks',
      { TaskId: taskIds[0], ObjectType: 'file' },
      {},
    );
    expect(task.Tasks.Task[0]).toMatchObject({
      ObjectPath: 'https://v.example.com/a/hd-new.mp4',
      ObjectType: 'file',
    });
    expect(emulator.quota().used.urlsToday).toBe(2);
  });

  it('filters by definitions and stream type, takes every transcode with Multiple, and the first TS segments with SliceFlag', async () => {
    const { url, emulator } = await start({
      frozenAt: FROZEN,
      media: { [ID]: video },
      tasks: { mediaSubmitMs: 0 },
    });
    const client = popClient(url);
    const multiple = await client.request<any>(
      MEDIA,
      { MediaIds: ID, TaskType: 'Preload', Definitions: 'HD', ResultType: 'Multiple' },
      {},
    );
    expect((await jobOf(url, multiple.MediaRefreshJobId))[0].SuccessPlayUrls.split(',')).toHaveLength(3);
    const audio = await client.request<any>(
      MEDIA,
      { MediaIds: ID, TaskType: 'Refresh', StreamType: 'audio' },
      {},
    );
    expect((await jobOf(url, audio.MediaRefreshJobId))[0].SuccessPlayUrls).toBe(
      'https://v.example.com/a/audio.mp3',
    );
    const sliced = await client.request<any>(
      MEDIA,
      { MediaIds: ID, TaskType: 'Refresh', Formats: 'm3u8', SliceFlag: 'true', SliceCount: '2' },
      {},
    );
    expect((await jobOf(url, sliced.MediaRefreshJobId))[0].SuccessPlayUrls.split(',')).toEqual([
      'https://v.example.com/a/sd.m3u8',
      'https://v.example.com/a/sd-00001.ts',
      'https://v.example.com/a/sd-00002.ts',
    ]);
    // TaskType Preload spends the preload quota, Refresh the URL quota.
    expect(emulator.quota().used).toMatchObject({ preloadsToday: 3, urlsToday: 4 });
  });

  it('puts forbidden ids in ForbiddenMediaIds and fails a media whose URLs do not fit the day', async () => {
    const { url } = await start({
      frozenAt: FROZEN,
      media: { [ID]: video, [OTHER]: { forbidden: true, playUrls: [] } },
      quotas: { preloadPerDay: 1 },
      tasks: { mediaSubmitMs: 0 },
    });
    const answer = await popClient(url).request<any>(
      MEDIA,
      { MediaIds: `${ID},${OTHER}`, TaskType: 'Preload' },
      {},
    );
    expect(answer).toMatchObject({ ForbiddenMediaIds: OTHER, NonExistMediaIds: '' });
    expect(await jobOf(url, answer.MediaRefreshJobId)).toEqual([
      expect.objectContaining({
        MediaId: ID,
        Status: 'fail',
        ErrorCode: 'PreloadQueueFull',
        SuccessPlayUrls: '',
      }),
    ]);
  });

  it.each([
    [
      'more than 20 ids',
      { MediaIds: Array.from({ length: 21 }, (_v, i) => `m${i}`).join(','), TaskType: 'Refresh' },
      'InvalidParameter',
      400,
    ],
    ['no MediaIds', { TaskType: 'Refresh' }, 'MissingParameter', 400],
    ['no TaskType', { MediaIds: ID }, 'MissingParameter', 400],
    ['a bad TaskType', { MediaIds: ID, TaskType: 'Purge' }, 'InvalidParameter', 400],
    ['a bad format', { MediaIds: ID, TaskType: 'Refresh', Formats: 'mkv' }, 'InvalidParameter', 400],
    ['a bad definition', { MediaIds: ID, TaskType: 'Refresh', Definitions: '8K' }, 'InvalidParameter', 400],
    [
      'a SliceCount out of range',
      { MediaIds: ID, TaskType: 'Refresh', SliceFlag: 'true', SliceCount: '21' },
      'InvalidParameter',
      400,
    ],
    [
      'UserData not a JSON object',
      { MediaIds: ID, TaskType: 'Refresh', UserData: 'hello' },
      'InvalidParameter',
      400,
    ],
  ])('refuses %s', async (_what, params, code, status) => {
    const { url, emulator } = await start({ media: { [ID]: video } });
    expectApiError(await popError(popClient(url).request(MEDIA, params, {})), code, status);
    expect(emulator.mediaJobs()).toEqual([]);
  });

  it('throttles past 50 calls per second, and answers an unknown job id 404', async () => {
    const { url } = await start({
      frozenAt: FROZEN,
      media: { [ID]: video },
      quotas: { mediaCallsPerSecond: 1 },
    });
    const client = popClient(url);
    await client.request(MEDIA, { MediaIds: ID, TaskType: 'Refresh' }, {});
    expectApiError(
      await popError(client.request(MEDIA, { MediaIds: ID, TaskType: 'Refresh' }, {})),
      'Throttling',
      503,
    );
    expectApiError(
      await popError(client.request(JOBS, { MediaRefreshJobId: 'nope' }, {})),
      'InvalidMediaRefreshJobId.NotFound',
      404,
    );
  });

  it('registers, lists and removes media through the control API', async () => {
    const { url } = await start();
    const put = await control(url, 'PUT', `/media/${ID}`, video);
    expect(put.status).toBe(200);
    expect(put.json.playUrls).toHaveLength(5);
    expect(
      (
        await control(url, 'PUT', `/media/${ID}`, {
          playUrls: [{ url: 'nope', format: 'mp4', definition: 'HD' }],
        })
      ).status,
    ).toBe(400);
    expect((await control(url, 'GET', '/media')).json.media.map((m: any) => m.mediaId)).toEqual([ID]);
    await popClient(url).request(MEDIA, { MediaIds: ID, TaskType: 'Refresh' }, {});
    expect((await control(url, 'GET', '/media-jobs')).json.jobs).toHaveLength(1);
    expect((await control(url, 'DELETE', `/media/${ID}`)).json).toEqual({ removed: true });
    const answer = await popClient(url).request<any>(MEDIA, { MediaIds: ID, TaskType: 'Refresh' }, {});
    expect(answer.NonExistMediaIds).toBe(ID);
  });
});
