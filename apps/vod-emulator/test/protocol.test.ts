import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aliTimestamp,
  commonParams,
  DEV,
  expectApiError,
  expectErrorBody,
  popClient,
  popError,
  raw,
  sign,
  signed,
  start,
} from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';
const PATH = 'https://cdn.example.com/a.png';

describe('signature and common parameters (real pop-core)', () => {
  it('accepts a correctly signed GET', async () => {
    const { url, emulator } = await start();
    const answer = await popClient(url).request<Record<string, string>>(REFRESH, { ObjectPath: PATH }, {});
    expect(answer.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(answer.RefreshTaskId).toMatch(/^\d+$/);
    expect(emulator.submissions()).toHaveLength(1);
    expect(emulator.submissions()[0]?.accessKeyId).toBe(DEV.accessKeyId);
  });

  it('accepts a correctly signed POST with a form body', async () => {
    const { url, emulator } = await start();
    const answer = await popClient(url).request<Record<string, string>>(
      REFRESH,
      { ObjectPath: PATH },
      { method: 'POST' },
    );
    expect(answer.RefreshTaskId).toMatch(/^\d+$/);
    expect(emulator.submissions()[0]?.paths).toEqual([PATH]);
  });

  it("accepts pop-core's lower-case 'post' (POST with the parameters in the query)", async () => {
    const { url } = await start();
    const answer = await popClient(url).request<Record<string, string>>(
      REFRESH,
      { ObjectPath: PATH },
      { method: 'post' },
    );
    expect(answer.RefreshTaskId).toMatch(/^\d+$/);
  });

  it('accepts a hand-built POST form and GET query signed like pop-core', async () => {
    const { url } = await start();
    const post = await raw(url, 'POST', signed('POST', commonParams(REFRESH, { ObjectPath: PATH })));
    expect(post.status).toBe(200);
    expect(post.json?.RequestId).toBe(post.headers.get('x-acs-request-id'));
    const get = await raw(url, 'GET', signed('GET', commonParams(REFRESH, { ObjectPath: PATH })));
    expect(get.status).toBe(200);
  });

  it('refuses a GET with one byte of the query changed after signing', async () => {
    const { url, emulator } = await start();
    const error = await popError(
      popClient(url).request(
        REFRESH,
        { ObjectPath: PATH },
        {
          beforeRequest: (options: { path: string }) => ({
            ...options,
            path: options.path.replace('a.png', 'b.png'),
          }),
        },
      ),
    );
    expectApiError(error, 'SignatureDoesNotMatch', 400);
    expect(error.data.Message).toContain('server string to sign is:GET&%2F&');
    expect(error.data.Message).not.toContain(DEV.accessKeySecret);
    expect(emulator.submissions()).toHaveLength(0);
  });

  it('refuses a POST whose form body changed by one byte after signing', async () => {
    const { url } = await start();
    const params = signed('POST', commonParams(REFRESH, { ObjectPath: PATH }));
    const answer = await raw(url, 'POST', { ...params, ObjectPath: PATH.replace('a.png', 'a.pnh') });
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'SignatureDoesNotMatch');
  });

  it('refuses a request signed for GET but sent as POST', async () => {
    const { url } = await start();
    const answer = await raw(url, 'POST', signed('GET', commonParams(REFRESH, { ObjectPath: PATH })));
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'SignatureDoesNotMatch');
  });

  it('refuses a wrong secret', async () => {
    const { url } = await start();
    const error = await popError(
      popClient(url, { accessKeyId: DEV.accessKeyId, accessKeySecret: 'not-the-secret' }).request(
        REFRESH,
        { ObjectPath: PATH },
        {},
      ),
    );
    expectApiError(error, 'SignatureDoesNotMatch', 400);
  });

  it('refuses an unknown AccessKeyId with InvalidAccessKeyId.NotFound 404', async () => {
    const { url } = await start();
    const error = await popError(
      popClient(url, { accessKeyId: 'LTAIunknown000000', accessKeySecret: DEV.accessKeySecret }).request(
        REFRESH,
        { ObjectPath: PATH },
        {},
      ),
    );
    expectApiError(error, 'InvalidAccessKeyId.NotFound', 404);
  });

  it('trusts configured key pairs instead of the dev pair', async () => {
    const keys = { accessKeyId: 'LTAIconfigured0001', accessKeySecret: 'configured-secret' };
    const { url } = await start({ credentials: [keys] });
    await expect(popClient(url, keys).request(REFRESH, { ObjectPath: PATH }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: PATH }, {})),
      'InvalidAccessKeyId.NotFound',
      404,
    );
  });

  it('refuses a Timestamp more than 15 minutes old or ahead (InvalidTimeStamp.Expired 400)', async () => {
    const { url } = await start();
    for (const skew of [-16 * 60_000, 16 * 60_000]) {
      const params = commonParams(REFRESH, { ObjectPath: PATH, Timestamp: aliTimestamp(Date.now() + skew) });
      const answer = await raw(url, 'GET', signed('GET', params));
      expect(answer.status).toBe(400);
      expectErrorBody(answer.json, 'InvalidTimeStamp.Expired');
    }
    const fine = commonParams(REFRESH, {
      ObjectPath: PATH,
      Timestamp: aliTimestamp(Date.now() - 14 * 60_000),
    });
    expect((await raw(url, 'GET', signed('GET', fine))).status).toBe(200);
  });

  it('checks the Timestamp against real time, not the emulated clock', async () => {
    const { url, emulator } = await start();
    emulator.advanceClock(3 * 86_400_000);
    await expect(popClient(url).request(REFRESH, { ObjectPath: PATH }, {})).resolves.toHaveProperty(
      'RefreshTaskId',
    );
  });

  it('refuses a malformed Timestamp (InvalidTimeStamp.Format 400)', async () => {
    const { url } = await start();
    for (const ts of [
      '2024-01-01 10:00:00',
      'yesterday',
      '2024-02-30T10:00:00Z',
      '2024-01-01T10:00:00+08:00',
    ]) {
      const answer = await raw(
        url,
        'GET',
        signed('GET', commonParams(REFRESH, { ObjectPath: PATH, Timestamp: ts })),
      );
      expect(answer.status).toBe(400);
      expectErrorBody(answer.json, 'InvalidTimeStamp.Format');
    }
  });

  it('refuses a reused SignatureNonce (SignatureNonceUsed 400), and spends nothing on the replay', async () => {
    const { url, emulator } = await start();
    const params = signed('GET', commonParams(REFRESH, { ObjectPath: PATH }));
    expect((await raw(url, 'GET', params)).status).toBe(200);
    const replay = await raw(url, 'GET', params);
    expect(replay.status).toBe(400);
    expectErrorBody(replay.json, 'SignatureNonceUsed');
    // Same nonce, new timestamp, properly re-signed: still used.
    const { Signature: _first, ...unsigned } = params;
    const resigned = await raw(
      url,
      'GET',
      signed('GET', { ...unsigned, Timestamp: aliTimestamp(Date.now() + 1000) }),
    );
    expectErrorBody(resigned.json, 'SignatureNonceUsed');
    expect(emulator.submissions()).toHaveLength(1);
  });

  it('does not burn a nonce on a request with a bad signature', async () => {
    const { url } = await start();
    const params = commonParams(REFRESH, { ObjectPath: PATH });
    const bad = await raw(url, 'GET', { ...params, Signature: sign('GET', params, 'wrong') });
    expectErrorBody(bad.json, 'SignatureDoesNotMatch');
    expect((await raw(url, 'GET', signed('GET', params))).status).toBe(200);
  });

  it('refuses another Version (InvalidVersion 400)', async () => {
    const { url } = await start();
    const error = await popError(
      popClient(url, DEV, '2014-05-26').request(REFRESH, { ObjectPath: PATH }, {}),
    );
    expectApiError(error, 'InvalidVersion', 400);
  });

  it('refuses an unknown Action (InvalidAction.NotFound 404)', async () => {
    const { url } = await start();
    const error = await popError(popClient(url).request('BlockVodObjectCaches', { ObjectPath: PATH }, {}));
    expectApiError(error, 'InvalidAction.NotFound', 404);
  });

  it.each([
    'Action',
    'Version',
    'AccessKeyId',
    'Timestamp',
    'SignatureNonce',
    'SignatureMethod',
    'SignatureVersion',
  ])('refuses a request without %s (MissingParameter 400)', async (name) => {
    const { url } = await start();
    const params = commonParams(REFRESH, { ObjectPath: PATH });
    delete params[name];
    const answer = await raw(url, 'GET', signed('GET', params));
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'MissingParameter');
    expect(answer.json?.Message).toContain(`"${name}"`);
  });

  it('refuses a request without Signature (MissingParameter 400)', async () => {
    const { url } = await start();
    const answer = await raw(url, 'GET', commonParams(REFRESH, { ObjectPath: PATH }));
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'MissingParameter');
  });

  it('refuses a SignatureMethod other than HMAC-SHA1 (IncompleteSignature 400)', async () => {
    const { url } = await start();
    const answer = await raw(
      url,
      'GET',
      signed('GET', commonParams(REFRESH, { ObjectPath: PATH, SignatureMethod: 'HMAC-SHA256' })),
    );
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'IncompleteSignature');
  });

  it('answers other paths and methods with InvalidAction.NotFound 404 in the same JSON shape', async () => {
    const { url } = await start();
    const other = await raw(
      url,
      'GET',
      signed('GET', commonParams(REFRESH, { ObjectPath: PATH })),
      '/elsewhere',
    );
    expect(other.status).toBe(404);
    expectErrorBody(other.json, 'InvalidAction.NotFound');
    const put = await fetch(`${url}/`, { method: 'PUT' });
    expect(put.status).toBe(404);
    expectErrorBody(await put.json(), 'InvalidAction.NotFound');
  });

  it('verifies any parameter value pop-core can sign (property)', async () => {
    const { url } = await start();
    const client = popClient(url);
    const tricky = fc.constantFrom(
      '!',
      "'",
      '(',
      ')',
      '*',
      '~',
      ' ',
      '+',
      '&',
      '=',
      '%',
      '/',
      '?',
      '#',
      '中',
      '\n',
      '\r\n',
      '😀',
    );
    const value = fc
      .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), tricky), { maxLength: 8 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(value, async (objectPath) => {
        const answer = await client.request<{ TotalCount: number }>(
          'DescribeVodRefreshTasks',
          { ObjectPath: objectPath },
          {},
        );
        expect(answer.TotalCount).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
