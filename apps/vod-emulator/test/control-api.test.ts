import { describe, expect, it } from 'vitest';
import { control, expectApiError, popClient, popError, start, urls } from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';

describe('control API (/_emulator/, unsigned)', () => {
  it('health and state', async () => {
    const { url } = await start();
    expect(await control(url, 'GET', '/health')).toEqual({ status: 200, json: { ok: true } });
    const { json } = await control(url, 'GET', '/state');
    expect(Object.keys(json).sort()).toEqual(
      [
        'account',
        'clock',
        'counts',
        'domains',
        'faults',
        'heldResponses',
        'mediaJobs',
        'mediaRegistered',
        'preloadsLogged',
        'quota',
        'submissionsLogged',
        'taskTiming',
        'tasksStored',
      ].sort(),
    );
    expect(json.domains).toEqual({ ownsAll: true, domains: {}, removed: [] });
  });

  it('lists accepted submissions with time, type, paths, task ids and key; counts calls', async () => {
    const { url } = await start({ frozenAt: '2024-03-01T10:00:00.000Z' });
    const client = popClient(url);
    const answer = await client.request<{ RefreshTaskId: string }>(
      REFRESH,
      { ObjectPath: urls(2).join('\n'), Force: true },
      {},
    );
    await popError(client.request(REFRESH, { ObjectPath: 'bad' }, {}));
    const { json } = await control(url, 'GET', '/submissions');
    expect(json.submissions).toEqual([
      {
        at: '2024-03-01T10:00:00.000Z',
        atMs: Date.parse('2024-03-01T10:00:00.000Z'),
        requestId: expect.stringMatching(/^[0-9A-F-]{36}$/),
        accessKeyId: 'LTAIrefreshqDevKey0001',
        objectType: 'File',
        force: true,
        paths: urls(2),
        taskIds: [answer.RefreshTaskId, answer.RefreshTaskId],
        refreshTaskId: answer.RefreshTaskId,
        answer: 'sent',
      },
    ]);
    const counts = (await control(url, 'GET', '/counts')).json;
    expect(counts).toEqual({
      calls: { [REFRESH]: { OK: 1, 'InvalidObjectPath.Malformed': 1 } },
      submissions: 1,
      urlsAccepted: 2,
      dirsAccepted: 0,
      preloadsAccepted: 0,
      mediaJobs: 0,
      playUrlsSubmitted: 0,
      lostAnswers: 0,
    });
    const tasks = (await control(url, 'GET', '/tasks')).json.tasks;
    expect(tasks).toHaveLength(2);
    expect(tasks[0]).toMatchObject({ Domain: 'cdn.example.com', Status: 'Pending' });
  });

  it('reads and sets quotas, limits and usage', async () => {
    const { url } = await start({ frozenAt: '2024-03-01T10:00:00.000Z' });
    const before = (await control(url, 'GET', '/quota')).json;
    expect(before).toMatchObject({
      limits: {
        urlsPerDay: 2000,
        dirsPerDay: 100,
        urlsPerMinute: null,
        dirsPerMinute: null,
        maxUrlsPerCall: 1000,
        maxDirsPerCall: 100,
      },
      used: { urlsToday: 0, dirsToday: 0, day: '2024-03-01' },
      utcOffsetMinutes: 480,
      nextDayAt: '2024-03-01T16:00:00.000Z',
      nextMinuteAt: '2024-03-01T10:01:00.000Z',
    });
    const after = await control(url, 'PUT', '/quota', {
      limits: { urlsPerMinute: 2 },
      used: { urlsToday: 1998 },
    });
    expect(after.json.remaining).toMatchObject({ urlsToday: 2, urlsThisMinute: 2 });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(2).join('\n') }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'QuotaExceeded.Refresh',
      400,
    );
    await control(url, 'PATCH', '/quota', { limits: { urlsPerMinute: null, urlsPerDay: 5000 } });
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    expect((await control(url, 'PUT', '/quota', { limits: { urlsPerDay: -1 } })).status).toBe(400);
    expect((await control(url, 'PUT', '/quota', { nonsense: 1 })).status).toBe(400);
  });

  it('moves the clock: advance, next minute, next day, set, freeze, unfreeze', async () => {
    const { url } = await start({ frozenAt: '2024-03-01T10:00:30.500Z' });
    expect((await control(url, 'GET', '/clock')).json).toEqual({
      nowMs: Date.parse('2024-03-01T10:00:30.500Z'),
      now: '2024-03-01T10:00:30.500Z',
      offsetMs: null,
      frozen: true,
    });
    expect((await control(url, 'POST', '/clock/advance', { ms: 1500 })).json.now).toBe(
      '2024-03-01T10:00:32.000Z',
    );
    expect((await control(url, 'POST', '/clock/next-minute')).json.now).toBe('2024-03-01T10:01:00.000Z');
    expect((await control(url, 'POST', '/clock/next-day')).json.now).toBe('2024-03-01T16:00:00.000Z');
    expect((await control(url, 'POST', '/clock/set', { now: '2024-06-01T00:00:00Z' })).json.now).toBe(
      '2024-06-01T00:00:00.000Z',
    );
    const running = (await control(url, 'POST', '/clock/unfreeze')).json;
    expect(running.frozen).toBe(false);
    expect(running.nowMs).toBeGreaterThanOrEqual(Date.parse('2024-06-01T00:00:00Z'));
    expect(running.nowMs).toBeLessThan(Date.parse('2024-06-01T00:00:05Z'));
    const frozen = (await control(url, 'POST', '/clock/freeze', { at: 0 })).json;
    expect(frozen).toMatchObject({ nowMs: 0, frozen: true });
    expect((await control(url, 'POST', '/clock/advance', { ms: 'x' })).status).toBe(400);
    expect((await control(url, 'POST', '/clock/set', { now: 'not a time' })).status).toBe(400);
  });

  it('a running clock with an offset keeps running', async () => {
    const { url, emulator } = await start({ clockOffsetMs: 86_400_000 });
    const now = emulator.now();
    expect(Math.abs(now - (Date.now() + 86_400_000))).toBeLessThan(1000);
    const snap = (await control(url, 'POST', '/clock/advance', { ms: 60_000 })).json;
    expect(snap.offsetMs).toBe(86_460_000);
  });

  it('sets domain states, removes and replaces domains', async () => {
    const { url } = await start({ domains: ['a.example.com'] });
    const client = popClient(url);
    expect((await control(url, 'GET', '/domains')).json).toEqual({
      ownsAll: false,
      domains: { 'a.example.com': 'online' },
      removed: [],
    });
    await control(url, 'PUT', '/domains/a.example.com', { state: 'offline' });
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'https://a.example.com/x' }, {})),
      'InvalidDomain.Offline',
      404,
    );
    await control(url, 'PUT', '/domains/a.example.com', { state: 'configuring' });
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'https://a.example.com/x' }, {})),
      'ServiceBusy',
      403,
    );
    await control(url, 'DELETE', '/domains/a.example.com');
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'https://a.example.com/x' }, {})),
      'InvalidDomain.NotFound',
      404,
    );
    const replaced = await control(url, 'PUT', '/domains', {
      ownsAll: true,
      domains: { 'b.example.com': 'illegal' },
    });
    expect(replaced.json).toEqual({ ownsAll: true, domains: { 'b.example.com': 'illegal' }, removed: [] });
    await client.request(REFRESH, { ObjectPath: 'https://a.example.com/x' }, {});
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'https://b.example.com/x' }, {})),
      'IllegalOperation',
      403,
    );
    expect((await control(url, 'PUT', '/domains/a.example.com', { state: 'gone' })).status).toBe(400);
    expect((await control(url, 'PUT', '/domains', { ownsAll: false })).json).toEqual({
      ownsAll: false,
      domains: {},
      removed: [],
    });
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'https://a.example.com/x' }, {})),
      'InvalidDomain.NotFound',
      404,
    );
    expect((await control(url, 'PUT', '/domains', { domains: ['c.example.com'] })).json).toEqual({
      ownsAll: false,
      domains: { 'c.example.com': 'online' },
      removed: [],
    });
  });

  it('sets the account state', async () => {
    const { url } = await start();
    expect((await control(url, 'GET', '/account')).json).toEqual({ state: 'active' });
    await control(url, 'PUT', '/account', { state: 'not-activated' });
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'OperationDenied',
      403,
    );
    expect((await control(url, 'PUT', '/account', { state: 'closed' })).status).toBe(400);
  });

  it('resets everything to the start options', async () => {
    const { url, emulator } = await start({
      frozenAt: '2024-03-01T10:00:00.000Z',
      quotas: { urlsPerDay: 10 },
    });
    const client = popClient(url);
    await client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {});
    await control(url, 'POST', '/clock/advance', { ms: 5000 });
    await control(url, 'PUT', '/account', { state: 'in-arrears' });
    await control(url, 'PUT', '/quota', { limits: { urlsPerDay: 1 } });
    await control(url, 'PUT', '/faults', { throttleRate: 1, actions: ['DescribeVodRefreshQuota'] });
    await control(url, 'PUT', '/domains/cdn.example.com', { state: 'offline' });
    const { json } = await control(url, 'POST', '/reset');
    expect(json).toMatchObject({
      clock: { now: '2024-03-01T10:00:00.000Z' },
      account: 'active',
      quota: { limits: { urlsPerDay: 10 }, used: { urlsToday: 0 } },
      faults: { throttleRate: 0 },
      domains: { ownsAll: true, domains: {} },
      tasksStored: 0,
      submissionsLogged: 0,
    });
    expect(emulator.submissions()).toEqual([]);
    await client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {});
    expect(emulator.submissions()[0]?.refreshTaskId).toBe('70000000001');
  });

  it('answers unknown control routes 404 and bad JSON 400', async () => {
    const { url } = await start();
    expect((await control(url, 'GET', '/nope')).status).toBe(404);
    const bad = await fetch(`${url}/_emulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BadRequest');
  });
});
