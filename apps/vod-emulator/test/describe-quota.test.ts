import { describe, expect, it } from 'vitest';
import { popClient, start, urls } from './helpers.js';

describe('DescribeVodRefreshQuota', () => {
  it('answers the exact field names, every value a string (note lower-case blockRemain)', async () => {
    const { url } = await start();
    const answer = await popClient(url).request<Record<string, unknown>>('DescribeVodRefreshQuota', {}, {});
    expect(Object.keys(answer).sort()).toEqual(
      [
        'BlockQuota',
        'DirQuota',
        'DirRemain',
        'PreloadQuota',
        'PreloadRemain',
        'RequestId',
        'UrlQuota',
        'UrlRemain',
        'blockRemain',
      ].sort(),
    );
    for (const value of Object.values(answer)) expect(typeof value).toBe('string');
    expect(answer).toMatchObject({
      UrlQuota: '2000',
      UrlRemain: '2000',
      DirQuota: '100',
      DirRemain: '100',
      PreloadQuota: '500',
      BlockQuota: '500',
      blockRemain: '500',
    });
  });

  it('shows what is left today after submissions, and the configured quotas', async () => {
    const { url, emulator } = await start({
      quotas: { urlsPerDay: 50, dirsPerDay: 5 },
      frozenAt: '2024-03-01T10:00:00Z',
    });
    const client = popClient(url);
    await client.request('RefreshVodObjectCaches', { ObjectPath: urls(7).join('\n') }, {});
    await client.request(
      'RefreshVodObjectCaches',
      { ObjectPath: 'https://cdn.example.com/d/', ObjectType: 'Directory' },
      {},
    );
    expect(await client.request('DescribeVodRefreshQuota', {}, {})).toMatchObject({
      UrlQuota: '50',
      UrlRemain: '43',
      DirQuota: '5',
      DirRemain: '4',
    });
    emulator.toNextDay();
    expect(await client.request('DescribeVodRefreshQuota', {}, {})).toMatchObject({
      UrlRemain: '50',
      DirRemain: '5',
    });
  });
});
