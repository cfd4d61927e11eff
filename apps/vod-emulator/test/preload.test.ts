import { describe, expect, it } from 'vitest';
import { PRELOAD_ERROR_CODES } from '../src/index.js';
import { control, expectApiError, popClient, popError, start, urls } from './helpers.js';

const PRELOAD = 'PreloadVodObjectCaches';
const FROZEN = '2024-03-01T10:00:00.000Z';

describe('PreloadVodObjectCaches', () => {
  it('prefetches URLs: PreloadTaskId, tasks listed with ObjectType=preload, its own daily quota', async () => {
    const { url, emulator } = await start({ frozenAt: FROZEN, quotas: { preloadPerDay: 10 } });
    const client = popClient(url);
    const answer = await client.request<{ PreloadTaskId: string }>(
      PRELOAD,
      { ObjectPath: urls(3).join('\n') },
      {},
    );
    expect(answer.PreloadTaskId).toMatch(/^\d+$/);
    expect(emulator.preloads()).toEqual([
      expect.objectContaining({ paths: urls(3), preloadTaskId: answer.PreloadTaskId, answer: 'sent' }),
    ]);
    // Not a refresh: the refresh log and the URL quota are untouched.
    expect(emulator.submissions()).toEqual([]);
    const quota = await client.request<Record<string, string>>('DescribeVodRefreshQuota', {}, {});
    expect(quota).toMatchObject({ PreloadQuota: '10', PreloadRemain: '7', UrlRemain: '2000' });

    const asPreload = await client.request<any>(
      'DescribeVodRefreshTasks',
      { TaskId: answer.PreloadTaskId, ObjectType: 'preload' },
      {},
    );
    expect(asPreload.Tasks.Task.map((task: any) => task.ObjectPath).sort()).toEqual(urls(3).sort());
    expect(asPreload.Tasks.Task.every((task: any) => task.ObjectType === 'preload')).toBe(true);
    const asFile = await client.request<any>(
      'DescribeVodRefreshTasks',
      { TaskId: answer.PreloadTaskId, ObjectType: 'file' },
      {},
    );
    expect(asFile.TotalCount).toBe(0);
  });

  it('answers a spent preload day as a full queue (PreloadQueueFull 403), nothing spent; the next day it goes', async () => {
    const { url, emulator } = await start({
      frozenAt: '2024-03-01T15:59:00.000Z',
      quotas: { preloadPerDay: 4 },
    });
    const client = popClient(url);
    await client.request(PRELOAD, { ObjectPath: urls(3).join('\n') }, {});
    const error = await popError(
      client.request(PRELOAD, { ObjectPath: urls(2, 'cdn.example.com', 'g').join('\n') }, {}),
    );
    expectApiError(error, 'PreloadQueueFull', 403);
    expect(error.data.Message).toBe('Preload queue is full, please try again later!');
    expect(emulator.quota().used.preloadsToday).toBe(3);
    emulator.toNextDay();
    await expect(
      client.request(PRELOAD, { ObjectPath: urls(2, 'cdn.example.com', 'g').join('\n') }, {}),
    ).resolves.toHaveProperty('PreloadTaskId');
    expect(emulator.quota().used.preloadsToday).toBe(2);
  });

  it('answers PreloadQueueFull while the queue holds preloadQueueLimit tasks not yet ended', async () => {
    const { url, emulator } = await start({
      frozenAt: FROZEN,
      quotas: { preloadQueueLimit: 2 },
      tasks: { pendingMs: 100, completeAfterMs: 1000 },
    });
    const client = popClient(url);
    await client.request(PRELOAD, { ObjectPath: urls(2).join('\n') }, {});
    expectApiError(
      await popError(client.request(PRELOAD, { ObjectPath: urls(1, 'b.example.com')[0] }, {})),
      'PreloadQueueFull',
      403,
    );
    emulator.advanceClock(1000);
    await expect(
      client.request(PRELOAD, { ObjectPath: urls(1, 'b.example.com')[0] }, {}),
    ).resolves.toHaveProperty('PreloadTaskId');
  });

  it.each([
    [
      'more URLs than maxPreloadsPerCall',
      { ObjectPath: urls(4).join('\n') },
      'InvalidObjectPath.Size.Malformed',
      400,
    ],
    ['no ObjectPath', {}, 'MissingParameter', 400],
    ['a malformed path', { ObjectPath: 'ftp://x.example.com/a' }, 'InvalidObjectPath.Malformed', 400],
    [
      'a wildcard domain',
      { ObjectPath: 'https://*.example.com/a' },
      'InvalidExtensiveDomain.ValueNotSupported',
      400,
    ],
    ['an offline domain', { ObjectPath: 'https://off.example.com/a' }, 'InvalidDomain.Offline', 404],
    ['a domain not owned', { ObjectPath: 'https://other.example.org/a' }, 'InvalidDomain.NotFound', 404],
    ['a bad Area', { ObjectPath: urls(1)[0] as string, Area: 'mars' }, 'InvalidParameter', 400],
    [
      'a bad L2Preload',
      { ObjectPath: urls(1)[0] as string, L2Preload: 'undefined' },
      'InvalidParameter',
      400,
    ],
  ])('refuses %s', async (_what, params, code, status) => {
    const { url, emulator } = await start({
      quotas: { maxPreloadsPerCall: 3 },
      domains: { 'cdn.example.com': 'online', 'off.example.com': 'offline' },
    });
    expectApiError(await popError(popClient(url).request(PRELOAD, params, {})), code, status);
    expect(emulator.preloads()).toEqual([]);
    expect(emulator.quota().used.preloadsToday).toBe(0);
  });

  it('lists the codes of its error table beyond the refresh ones', () => {
    expect(PRELOAD_ERROR_CODES.sort()).toEqual(['InvalidObjectPath.Size.Malformed', 'PreloadQueueFull']);
  });

  it('keeps Area, L2Preload and WithHeader as sent, and shows preloads on the control API', async () => {
    const { url } = await start();
    await popClient(url).request(
      PRELOAD,
      {
        ObjectPath: urls(1)[0],
        Area: 'domestic',
        L2Preload: 'true',
        WithHeader: '{"Accept-Encoding":["gzip"]}',
      },
      {},
    );
    const { json } = await control(url, 'GET', '/preloads');
    expect(json.preloads[0]).toMatchObject({
      area: 'domestic',
      l2Preload: true,
      withHeader: '{"Accept-Encoding":["gzip"]}',
    });
  });
});
