import RPCClient from '@alicloud/pop-core';
import { describe, expect, it } from 'vitest';
import { control, DEV, expectApiError, popClient, popError, start, type PopClient } from './helpers.js';

const REFRESH = 'RefreshVodObjectCaches';
const QUOTA = 'DescribeVodRefreshQuota';
const PATH = 'https://cdn.example.com/a.png';

/** pop-core signing with an STS credential as the emulator (or a credentials URI) hands it out. */
function stsClient(
  url: string,
  sts: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string },
  token = sts.SecurityToken,
): PopClient {
  return new RPCClient({
    accessKeyId: sts.AccessKeyId,
    accessKeySecret: sts.AccessKeySecret,
    securityToken: token,
    endpoint: url,
    apiVersion: '2017-03-21',
  }) as unknown as PopClient;
}

describe('STS credentials with an expiry, RAM denials and clock skew', () => {
  it('issues STS credentials through the control API, trusted until their Expiration', async () => {
    let shift = 0;
    const { url, emulator } = await start({ wallClock: () => Date.now() + shift });
    const before = Date.now();
    const { status, json } = await control(url, 'POST', '/sts', { ttlMs: 60_000 });
    expect(status).toBe(200);
    expect(json).toMatchObject({ Code: 'Success', AccessKeyId: expect.stringMatching(/^STS\./) });
    expect(json.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expiresAt = Date.parse(json.Expiration);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(json.AccessKeySecret.length).toBeGreaterThan(16);
    expect(json.SecurityToken.length).toBeGreaterThan(16);

    const answer = await stsClient(url, json).request(REFRESH, { ObjectPath: PATH }, { method: 'POST' });
    expect(answer.RefreshTaskId).toBeDefined();
    expect(emulator.submissions()[0]?.accessKeyId).toBe(json.AccessKeyId);

    shift = 61_000; // past the expiry, well within the Timestamp tolerance
    expectApiError(
      await popError(stsClient(url, json).request(REFRESH, { ObjectPath: PATH }, { method: 'POST' })),
      'InvalidSecurityToken.Expired',
      400,
    );
    const access = (await control(url, 'GET', '/access')).json;
    expect(JSON.stringify(access)).not.toContain(json.AccessKeySecret);
    expect(JSON.stringify(access)).not.toContain(json.SecurityToken);
    expect(access.sts).toEqual([
      { accessKeyId: json.AccessKeyId, expiration: json.Expiration, expired: true },
    ]);
  });

  it('refuses an STS key with another token or none', async () => {
    const { url, emulator } = await start();
    const sts = emulator.issueSts({ ttlMs: 60_000 });
    const other = emulator.issueSts({ ttlMs: 60_000 });
    expectApiError(
      await popError(stsClient(url, sts, other.SecurityToken).request(QUOTA, {}, {})),
      'InvalidSecurityToken.MismatchWithAccessKey',
      400,
    );
    const noToken = popClient(url, { accessKeyId: sts.AccessKeyId, accessKeySecret: sts.AccessKeySecret });
    expectApiError(
      await popError(noToken.request(QUOTA, {}, {})),
      'InvalidSecurityToken.MismatchWithAccessKey',
      400,
    );
    expect((await stsClient(url, sts).request(QUOTA, {}, {})).UrlQuota).toBe('2000');
  });

  it('answers Forbidden.RAM for a denied action only, until allowed again', async () => {
    const { url } = await start();
    const denied = await control(url, 'PUT', `/permissions/${DEV.accessKeyId}`, { deny: [REFRESH] });
    expect(denied.json.denied).toEqual({ [DEV.accessKeyId]: [REFRESH] });
    expectApiError(
      await popError(popClient(url).request(REFRESH, { ObjectPath: PATH }, {})),
      'Forbidden.RAM',
      403,
    );
    expect((await popClient(url).request(QUOTA, {}, {})).UrlRemain).toBe('2000');
    await control(url, 'DELETE', `/permissions/${DEV.accessKeyId}`);
    expect((await popClient(url).request(REFRESH, { ObjectPath: PATH }, {})).RefreshTaskId).toBeDefined();
  });

  it('issues STS credentials without some actions, as a narrow RAM policy would', async () => {
    const { url, emulator } = await start();
    const sts = (await control(url, 'POST', '/sts', { ttlMs: 60_000, deny: [QUOTA] })).json;
    expectApiError(await popError(stsClient(url, sts).request(QUOTA, {}, {})), 'Forbidden.RAM', 403);
    expect(
      (await stsClient(url, sts).request(REFRESH, { ObjectPath: PATH }, {})).RefreshTaskId,
    ).toBeDefined();
    emulator.reset();
    expectApiError(
      await popError(stsClient(url, sts).request(QUOTA, {}, {})),
      'InvalidAccessKeyId.NotFound',
      404,
    );
  });

  it('answers InvalidTimeStamp.Expired while the clock is skewed past the tolerance', async () => {
    const { url } = await start();
    expect((await control(url, 'PUT', '/clock/skew', { ms: 16 * 60_000 })).json).toEqual({
      timestampSkewMs: 16 * 60_000,
    });
    expectApiError(await popError(popClient(url).request(QUOTA, {}, {})), 'InvalidTimeStamp.Expired', 400);
    await control(url, 'PUT', '/clock/skew', { ms: 14 * 60_000 });
    expect((await popClient(url).request(QUOTA, {}, {})).UrlQuota).toBe('2000');
    expect((await control(url, 'PUT', '/clock/skew', { ms: 'soon' })).status).toBe(400);
    expect((await control(url, 'POST', '/sts', { ttlMs: 0 })).status).toBe(400);
  });
});
