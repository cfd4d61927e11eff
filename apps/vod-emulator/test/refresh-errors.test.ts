import { describe, expect, it } from 'vitest';
import { REFRESH_ERROR_CODES, type StartOptions } from '../src/index.js';
import { control, expectApiError, popClient, popError, start, urls } from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';

async function refreshError(
  options: StartOptions,
  params: Record<string, string>,
  setup?: (url: string) => Promise<void>,
) {
  const running = await start(options);
  if (setup) await setup(running.url);
  const error = await popError(popClient(running.url).request(REFRESH, params, {}));
  return { error, running };
}

/** One test per code of the table in vod-api.md: a real cause, the status, the body. */
describe('RefreshVodObjectCaches error codes (vod-api.md table)', () => {
  it('covers all 14 codes of the table', () => {
    expect(REFRESH_ERROR_CODES).toHaveLength(14);
  });

  it('Throttling 503: more calls in one second than callsPerSecond', async () => {
    const { url, emulator } = await start({
      quotas: { callsPerSecond: 2 },
      frozenAt: '2024-05-01T00:00:00.000Z',
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'Throttling',
      503,
    );
    expect(emulator.submissions()).toHaveLength(2);
    emulator.advanceClock(1000);
    await expect(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
  });

  it('QuotaPerMinuteExceeded.Refresh 400: the per-minute limit is used up', async () => {
    const { error } = await refreshError({ quotas: { urlsPerMinute: 0 } }, { ObjectPath: urls(1)[0] ?? '' });
    expectApiError(error, 'QuotaPerMinuteExceeded.Refresh', 400);
  });

  it('QuotaExceeded.Refresh 400: the daily quota is used up', async () => {
    const { error } = await refreshError({ quotas: { urlsPerDay: 0 } }, { ObjectPath: urls(1)[0] ?? '' });
    expectApiError(error, 'QuotaExceeded.Refresh', 400);
  });

  it('ServiceBusy 403: the domain is being configured', async () => {
    const { error } = await refreshError(
      { domains: { 'cdn.example.com': 'configuring' } },
      { ObjectPath: urls(1)[0] ?? '' },
    );
    expectApiError(error, 'ServiceBusy', 403);
  });

  it('InvalidDomain.Configure_failed 500: the domain configuration failed', async () => {
    const { error } = await refreshError(
      { domains: { 'cdn.example.com': 'configure-failed' } },
      { ObjectPath: urls(1)[0] ?? '' },
    );
    expectApiError(error, 'InvalidDomain.Configure_failed', 500);
  });

  it('IllegalOperation 403: the domain is listed as illegal', async () => {
    const { error } = await refreshError({}, { ObjectPath: urls(1)[0] ?? '' }, async (url) => {
      await control(url, 'PUT', '/domains/cdn.example.com', { state: 'illegal' });
    });
    expectApiError(error, 'IllegalOperation', 403);
  });

  it('InvalidDomain.NotFound 404: the account does not own the domain', async () => {
    const { error } = await refreshError(
      { domains: ['mine.example.com'] },
      { ObjectPath: 'https://other.example.com/a.png' },
    );
    expectApiError(error, 'InvalidDomain.NotFound', 404);
  });

  it('InvalidDomain.NotFound 404: a domain removed in own-every-domain mode', async () => {
    const { error } = await refreshError({}, { ObjectPath: urls(1)[0] ?? '' }, async (url) => {
      await control(url, 'DELETE', '/domains/cdn.example.com');
    });
    expectApiError(error, 'InvalidDomain.NotFound', 404);
  });

  it('InvalidDomain.Offline 404: the domain is offline', async () => {
    const { error } = await refreshError(
      { domains: { 'cdn.example.com': 'offline' } },
      { ObjectPath: urls(1)[0] ?? '' },
    );
    expectApiError(error, 'InvalidDomain.Offline', 404);
  });

  it('InvalidExtensiveDomain.ValueNotSupported 400: a wildcard host', async () => {
    const { error } = await refreshError({}, { ObjectPath: 'https://*.a.com/x.png' });
    expectApiError(error, 'InvalidExtensiveDomain.ValueNotSupported', 400);
  });

  it('InvalidExtensiveDomain.ValueNotSupported 400 even when the wildcard domain is listed as owned', async () => {
    const { error } = await refreshError({ domains: ['*.a.com'] }, { ObjectPath: 'https://*.a.com/x.png' });
    expectApiError(error, 'InvalidExtensiveDomain.ValueNotSupported', 400);
  });

  it.each([
    ['no scheme', 'cdn.example.com/a.png'],
    ['no host', 'https:///a.png'],
    ['a space', 'https://cdn.example.com/a b.png'],
    ['a tab', 'https://cdn.example.com/a\tb.png'],
    ['an ftp scheme', 'ftp://cdn.example.com/a.png'],
    ['user info', 'https://user@cdn.example.com/a.png'],
    ['a fragment', 'https://cdn.example.com/a.png#top'],
    ['a broken escape', 'https://cdn.example.com/a%zz.png'],
    ['a bad port', 'https://cdn.example.com:99999/a.png'],
    ['a one-label host', 'https://localhost/a.png'],
    ['more than 1024 characters', `https://cdn.example.com/${'a'.repeat(1024)}`],
  ])('InvalidObjectPath.Malformed 400: a path with %s', async (_why, path) => {
    const { error } = await refreshError({}, { ObjectPath: path });
    expectApiError(error, 'InvalidObjectPath.Malformed', 400);
  });

  it('InvalidObjectPath.Malformed 400: a Directory path not ending in /', async () => {
    const { error } = await refreshError(
      {},
      { ObjectPath: 'https://cdn.example.com/dir', ObjectType: 'Directory' },
    );
    expectApiError(error, 'InvalidObjectPath.Malformed', 400);
  });

  it('InvalidObjectType.ValueNotSupported 400: an ObjectType not in File, Directory, Regex, IgnoreParams', async () => {
    for (const type of ['file', 'Folder', 'undefined']) {
      const { error } = await refreshError({}, { ObjectPath: urls(1)[0] ?? '', ObjectType: type });
      expectApiError(error, 'InvalidObjectType.ValueNotSupported', 400);
    }
  });

  it('MissingParameter 400: ObjectPath empty or absent', async () => {
    for (const params of [{ ObjectPath: '' }, { ObjectPath: '\n\r\n' }, {}] as Record<string, string>[]) {
      const { error } = await refreshError({}, params);
      expectApiError(error, 'MissingParameter', 400);
      expect(error.data.Message).toContain('ObjectPath');
    }
  });

  it('OperationDenied 403: VOD not activated', async () => {
    const { error } = await refreshError({ account: 'not-activated' }, { ObjectPath: urls(1)[0] ?? '' });
    expectApiError(error, 'OperationDenied', 403);
  });

  it('OperationDenied.Suspended 403: the account is in arrears', async () => {
    const { error } = await refreshError({}, { ObjectPath: urls(1)[0] ?? '' }, async (url) => {
      await control(url, 'PUT', '/account', { state: 'in-arrears' });
    });
    expectApiError(error, 'OperationDenied.Suspended', 403);
  });
});

describe('RefreshVodObjectCaches rules', () => {
  it('is all or nothing: one bad path refuses the call and spends no quota', async () => {
    const { url, emulator } = await start();
    const paths = [...urls(3), 'https://cdn.example.com/bad path.png'];
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: paths.join('\n') }, {})),
      'InvalidObjectPath.Malformed',
      400,
    );
    expect(emulator.submissions()).toHaveLength(0);
    expect(emulator.tasks()).toHaveLength(0);
    expect(emulator.quota().used.urlsToday).toBe(0);
  });

  it('is all or nothing across domains: one unowned domain refuses every path', async () => {
    const { url, emulator } = await start({ domains: ['cdn.example.com'] });
    const paths = [...urls(2), 'https://other.example.com/a.png'];
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: paths.join('\r\n') }, {})),
      'InvalidDomain.NotFound',
      404,
    );
    expect(emulator.quota().used.urlsToday).toBe(0);
  });

  it('splits ObjectPath on \\n and \\r\\n and ignores empty lines', async () => {
    const { url, emulator } = await start();
    const [a, b, c] = urls(3);
    await popClient(url).request(REFRESH, { ObjectPath: `${a}\r\n${b}\n\n${c}\n` }, {});
    expect(emulator.submissions()[0]?.paths).toEqual([a, b, c]);
    expect(emulator.quota().used.urlsToday).toBe(3);
  });

  it('refuses more paths than the per-call maximum (InvalidObjectPath.ExceedLimit 400), URLs and directories apart', async () => {
    const { url, emulator } = await start({ quotas: { maxUrlsPerCall: 3, maxDirsPerCall: 2 } });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(4).join('\n') }, {})),
      'InvalidObjectPath.ExceedLimit',
      400,
    );
    const dirs = ['https://cdn.example.com/a/', 'https://cdn.example.com/b/', 'https://cdn.example.com/c/'];
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: dirs.join('\n'), ObjectType: 'Directory' }, {})),
      'InvalidObjectPath.ExceedLimit',
      400,
    );
    expect(emulator.submissions()).toHaveLength(1);
  });

  it('defaults to 1000 URLs and 100 directories per call', async () => {
    const { url } = await start({ quotas: { urlsPerDay: 5000, dirsPerDay: 500 } });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1000).join('\n') }, { method: 'POST' });
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1001).join('\n') }, { method: 'POST' })),
      'InvalidObjectPath.ExceedLimit',
      400,
    );
    const dirs = Array.from({ length: 101 }, (_, i) => `https://cdn.example.com/d${i}/`);
    await client.request(
      REFRESH,
      { ObjectPath: dirs.slice(0, 100).join('\n'), ObjectType: 'Directory' },
      { method: 'POST' },
    );
    expectApiError(
      await popError(
        client.request(REFRESH, { ObjectPath: dirs.join('\n'), ObjectType: 'Directory' }, { method: 'POST' }),
      ),
      'InvalidObjectPath.ExceedLimit',
      400,
    );
  });

  it('accepts Regex and IgnoreParams; Regex spends directory quota, IgnoreParams URL quota', async () => {
    const { url, emulator } = await start();
    const client = popClient(url);
    await client.request(
      REFRESH,
      { ObjectPath: 'https://cdn.example.com/img/.*\\.png', ObjectType: 'Regex' },
      {},
    );
    await client.request(
      REFRESH,
      { ObjectPath: 'https://cdn.example.com/a.png', ObjectType: 'IgnoreParams' },
      {},
    );
    expect(emulator.quota().used).toMatchObject({ urlsToday: 1, dirsToday: 1 });
    expect(emulator.tasks().map((t) => t.ObjectType)).toEqual(['regex', 'ignoreParams']);
  });

  it('takes Force true/false and refuses other values (InvalidParameter 400), e.g. pop-core\'s "undefined"', async () => {
    const { url, emulator } = await start();
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(1)[0], Force: true }, {});
    await client.request(REFRESH, { ObjectPath: urls(1)[0], Force: 'false' }, {});
    expect(emulator.submissions().map((s) => s.force)).toEqual([true, false]);
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0], Force: undefined }, {})),
      'InvalidParameter',
      400,
    );
  });

  it('refuses by the first failing rule: account before path checks', async () => {
    const { url } = await start({ account: 'not-activated' });
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: 'no-scheme' }, {})),
      'OperationDenied',
      403,
    );
  });

  it('applies account states to the Describe actions too', async () => {
    const { url } = await start({ account: 'in-arrears' });
    expectApiError(
      await popError(popClient(url).request('DescribeVodRefreshQuota', {}, {})),
      'OperationDenied.Suspended',
      403,
    );
    expectApiError(
      await popError(popClient(url).request('DescribeVodRefreshTasks', {}, {})),
      'OperationDenied.Suspended',
      403,
    );
  });

  it('treats host names case-insensitively and ignores the port for ownership', async () => {
    const { url } = await start({ domains: ['cdn.example.com'] });
    await expect(
      popClient(url).request(REFRESH, { ObjectPath: 'https://CDN.Example.com:8443/a.png' }, {}),
    ).resolves.toHaveProperty('RefreshTaskId');
  });
});
