import { describe, expect, it } from 'vitest';
import {
  commonParams,
  control,
  expectApiError,
  popClient,
  popError,
  raw,
  signed,
  start,
  urls,
} from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';
const QUOTA = 'DescribeVodRefreshQuota';

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('fault injection', () => {
  it('adds latency', async () => {
    const { url } = await start({ faults: { latencyMs: 150 } });
    const t0 = performance.now();
    await popClient(url).request(QUOTA, {}, {});
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('answers the next N calls with Throttling 503, then normally; nothing is spent', async () => {
    const { url, emulator } = await start({ faults: { throttleNext: 2 } });
    const client = popClient(url);
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'Throttling',
      503,
    );
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'Throttling',
      503,
    );
    await client.request(REFRESH, { ObjectPath: urls(1)[0] }, {});
    expect(emulator.submissions()).toHaveLength(1);
    expect(emulator.counts().calls[REFRESH]).toEqual({ Throttling: 2, OK: 1 });
  });

  it('throttles a share of calls, the same calls for the same seed', async () => {
    const pattern = async () => {
      const { url } = await start({ faults: { throttleRate: 0.5, seed: 7 } });
      const client = popClient(url);
      const out: string[] = [];
      for (let i = 0; i < 24; i++) {
        out.push(
          await client.request(QUOTA, {}, {}).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        );
      }
      return out;
    };
    const a = await pattern();
    expect(a).toEqual(await pattern());
    expect(a.filter((x) => x === 'Throttling').length).toBeGreaterThan(4);
    expect(a.filter((x) => x === 'ok').length).toBeGreaterThan(4);
  });

  it('can throttle with a Throttling.* variant and another status', async () => {
    const { url } = await start({
      faults: { throttleRate: 1, throttleCode: 'Throttling.User', throttleStatus: 429 },
    });
    expectApiError(await popError(popClient(url).request(QUOTA, {}, {})), 'Throttling.User', 429);
  });

  it('answers 5xx with a non-JSON body: pop-core fails to parse it', async () => {
    const { url, emulator } = await start({ faults: { serverErrorNext: 1 } });
    const client = popClient(url);
    const error = (await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {}))) as unknown as {
      name: string;
    };
    expect(error.name).toBe('SyntaxError'); // json-bigint throws a plain object, not an Error
    expect(emulator.submissions()).toHaveLength(0);
    await expect(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
  });

  it('serves the 5xx page as text/html with the configured status', async () => {
    const { url, emulator } = await start({ faults: { serverErrorNext: 1, serverErrorStatus: 504 } });
    const answer = await raw(url, 'GET', signed('GET', commonParams(QUOTA)));
    expect(answer.status).toBe(504);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.json).toBeUndefined();
    expect(answer.text).toContain('504 Gateway Time-out');
    expect(emulator.counts().calls[QUOTA]).toEqual({ 'fault:serverError': 1 });
  });

  it('resets the connection: pop-core sees a socket error', async () => {
    const { url, emulator } = await start({ faults: { resetNext: 1 } });
    const error = await popError(popClient(url).request(REFRESH, { ObjectPath: urls(1)[0] }, {}));
    expect(['ECONNRESET', 'EPIPE']).toContain((error as unknown as { code: string }).code);
    expect(emulator.submissions()).toHaveLength(0);
  });

  it('never answers (timeout): pop-core gives up with RequestTimeoutError', async () => {
    const { url, emulator } = await start({ faults: { timeoutNext: 1 } });
    const error = await popError(
      popClient(url).request(REFRESH, { ObjectPath: urls(1)[0] }, { timeout: 200 }),
    );
    expect(error.name).toBe('RequestTimeoutError');
    expect(emulator.submissions()).toHaveLength(0);
    await until(() => emulator.snapshot().heldResponses === 0);
  });

  it('accepts but loses the answer (reset): the submission is recorded and quota spent', async () => {
    const { url, emulator } = await start({ faults: { lostAnswerNext: 1 } });
    const client = popClient(url);
    const error = await popError(client.request(REFRESH, { ObjectPath: urls(3).join('\n') }, {}));
    expect(['ECONNRESET', 'EPIPE']).toContain((error as unknown as { code: string }).code);
    const [submission] = emulator.submissions();
    expect(submission).toMatchObject({ answer: 'lost', paths: urls(3) });
    expect(emulator.quota().used.urlsToday).toBe(3);
    expect(emulator.counts().lostAnswers).toBe(1);
    // The tasks exist: a client can find the path with DescribeVodRefreshTasks.
    const found = await client.request<{ TotalCount: number }>(
      'DescribeVodRefreshTasks',
      { ObjectPath: urls(1)[0] },
      {},
    );
    expect(found.TotalCount).toBe(1);
  });

  it('accepts but loses the answer (timeout): the submission is recorded, the client times out', async () => {
    const { url, emulator } = await start({ faults: { lostAnswerNext: 1, lostAnswerMode: 'timeout' } });
    const error = await popError(
      popClient(url).request(REFRESH, { ObjectPath: urls(1)[0] }, { timeout: 200 }),
    );
    expect(error.name).toBe('RequestTimeoutError');
    expect(emulator.submissions()[0]?.answer).toBe('lost');
  });

  it('does not lose the answer of a refused call', async () => {
    const { url, emulator } = await start({ faults: { lostAnswerNext: 1 } });
    const client = popClient(url);
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: 'bad' }, {})),
      'InvalidObjectPath.Malformed',
      400,
    );
    await expect(popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {}))).resolves.toBeDefined();
    expect(emulator.submissions()[0]?.answer).toBe('lost');
  });

  it('limits faults to the listed actions', async () => {
    const { url } = await start({ faults: { throttleRate: 1, actions: [REFRESH] } });
    const client = popClient(url);
    await expect(client.request(QUOTA, {}, {})).resolves.toHaveProperty('UrlQuota');
    expectApiError(
      await popError(client.request(REFRESH, { ObjectPath: urls(1)[0] }, {})),
      'Throttling',
      503,
    );
  });

  it('sets, patches and clears faults at run time through the control API', async () => {
    const { url } = await start();
    const client = popClient(url);
    expect((await control(url, 'PUT', '/faults', { throttleNext: 1 })).json.throttleNext).toBe(1);
    expectApiError(await popError(client.request(QUOTA, {}, {})), 'Throttling', 503);
    await control(url, 'PATCH', '/faults', { throttleRate: 1 });
    expectApiError(await popError(client.request(QUOTA, {}, {})), 'Throttling', 503);
    await control(url, 'DELETE', '/faults');
    await expect(client.request(QUOTA, {}, {})).resolves.toHaveProperty('UrlQuota');
    expect((await control(url, 'PUT', '/faults', { throttleRate: 2 })).status).toBe(400);
  });

  it('close() ends fast even with a withheld answer and idle keep-alive sockets', async () => {
    const running = await start({ faults: { timeoutNext: 1 } });
    const held = popClient(running.url)
      .request(QUOTA, {}, { timeout: 20_000 })
      .catch((e: Error) => e);
    await until(() => running.emulator.snapshot().heldResponses === 1);
    await popClient(running.url).request(QUOTA, {}, {}); // leaves an idle keep-alive socket
    const t0 = performance.now();
    await running.close();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(await held).toBeInstanceOf(Error);
  });
});
