import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningEmulator, startEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialSource,
  credentialSettingsFromEnv,
  describeCredentialSettings,
  UpstreamError,
  VOD_ACTIONS,
  VodClient,
} from '../src/index.js';

const KEY = { accessKeyId: 'LTAIcredTestKey0001', accessKeySecret: 'cred-test-secret-0001' };

describe('credentialSettingsFromEnv: the first configured source wins, half a source is a problem', () => {
  const pair = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIabc123', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's3cret' };
  const oidc = {
    ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/refreshq',
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890:oidc-provider/ack-rrsa',
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/tokens/oidc-token',
  };
  const kind = (env: Record<string, string | number>) => credentialSettingsFromEnv(env).settings?.kind;

  it('picks each source', () => {
    expect(kind(pair)).toBe('access_key');
    expect(kind({ ...pair, ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' })).toBe('sts');
    expect(kind({ ...pair, ALIBABA_CLOUD_ROLE_ARN: oidc.ALIBABA_CLOUD_ROLE_ARN })).toBe('ram_role_arn');
    expect(kind(oidc)).toBe('oidc_role_arn');
    expect(kind({ ...pair, ...oidc })).toBe('oidc_role_arn');
    expect(kind({ ALIBABA_CLOUD_ECS_METADATA: 'refreshq-role' })).toBe('ecs_ram_role');
    expect(kind({ ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:1/creds' })).toBe('credentials_uri');
    expect(kind({})).toBe('default-chain');
  });

  it('gives a role session its defaults and the configured name and duration', () => {
    expect(credentialSettingsFromEnv(oidc).settings).toMatchObject({
      roleSessionName: 'refreshq',
      durationSeconds: 3600,
    });
    expect(
      credentialSettingsFromEnv({
        ...pair,
        ALIBABA_CLOUD_ROLE_ARN: oidc.ALIBABA_CLOUD_ROLE_ARN,
        ALIBABA_CLOUD_ROLE_SESSION_NAME: 'worker-1',
        ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION: 900,
        ALIBABA_CLOUD_STS_ENDPOINT: 'sts.cn-shanghai.aliyuncs.com',
      }).settings,
    ).toMatchObject({
      kind: 'ram_role_arn',
      roleSessionName: 'worker-1',
      durationSeconds: 900,
      stsEndpoint: 'sts.cn-shanghai.aliyuncs.com',
      base: { accessKeyId: 'LTAIabc123' },
    });
  });

  it('names what is missing', () => {
    const problems = (env: Record<string, string>) =>
      credentialSettingsFromEnv(env).problems.map((p) => p.variable);
    expect(problems({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIabc' })).toEqual(['ALIBABA_CLOUD_ACCESS_KEY_SECRET']);
    expect(problems({ ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' })).toEqual(['ALIBABA_CLOUD_SECURITY_TOKEN']);
    expect(problems({ ALIBABA_CLOUD_ROLE_ARN: oidc.ALIBABA_CLOUD_ROLE_ARN })).toEqual([
      'ALIBABA_CLOUD_ROLE_ARN',
    ]);
    expect(problems({ ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/t' })).toEqual([
      'ALIBABA_CLOUD_ROLE_ARN',
      'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    ]);
  });

  it('describes the source for the start log without a secret', () => {
    const line = JSON.stringify([
      describeCredentialSettings(
        credentialSettingsFromEnv({ ...pair, ALIBABA_CLOUD_SECURITY_TOKEN: 'token-value-1' }).settings!,
      ),
      describeCredentialSettings(
        credentialSettingsFromEnv({ ...pair, ALIBABA_CLOUD_ROLE_ARN: oidc.ALIBABA_CLOUD_ROLE_ARN }).settings!,
      ),
      describeCredentialSettings(
        credentialSettingsFromEnv({ ALIBABA_CLOUD_CREDENTIALS_URI: 'http://user:pw@127.0.0.1:1/c?token=t0k' })
          .settings!,
      ),
    ]);
    for (const secret of ['s3cret', 'token-value-1', 'LTAIabc123', 'pw', 't0k'])
      expect(line).not.toContain(secret);
    expect(line).toContain('"provider":"sts"');
    expect(line).toContain('http://127.0.0.1:1/c');
  });
});

describe('CredentialSource.refresh', () => {
  it('rebuilds the provider at most once per interval, so account errors on every call do not hammer STS', () => {
    const source = new CredentialSource({ kind: 'access_key', ...KEY }, 60_000);
    expect(source.refresh()).toBe(true);
    expect(source.refresh()).toBe(false);
    expect(new CredentialSource({ kind: 'access_key', ...KEY }, 0).refresh()).toBe(true);
  });
});

describe('docs/ram-policy.json', () => {
  it('allows exactly the actions the client calls', () => {
    const policy = JSON.parse(
      readFileSync(new URL('../../../docs/ram-policy.json', import.meta.url), 'utf8'),
    ) as { Version: string; Statement: { Effect: string; Action: string[]; Resource: string }[] };
    expect(policy.Version).toBe('1');
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]?.Effect).toBe('Allow');
    expect(policy.Statement[0]?.Action.sort()).toEqual(VOD_ACTIONS.map((action) => `vod:${action}`).sort());
  });
});

describe('VodClient with a credentials URI', () => {
  let emulator: RunningEmulator;
  let uri: Server;
  let uriUrl = '';
  /** What the URI answers next; by default a fresh STS credential the emulator trusts for 60 s. */
  let answer: () => { status: number; body: string };
  let fetches = 0;

  beforeAll(async () => {
    emulator = await startEmulator({ credentials: [KEY], silent: true });
    uri = createServer((_req, res) => {
      fetches += 1;
      const { status, body } = answer();
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => uri.listen(0, '127.0.0.1', resolve));
    uriUrl = `http://127.0.0.1:${(uri.address() as AddressInfo).port}/credentials`;
  });

  afterAll(async () => {
    await new Promise((resolve) => uri.close(resolve));
    await emulator.close();
  });

  const fresh = (ttlMs = 60_000) => ({
    status: 200,
    body: JSON.stringify({ Code: 'Success', ...emulator.emulator.issueSts({ ttlMs }) }),
  });
  const client = (onRefresh?: (record: { action: string; code: string }) => void) =>
    new VodClient({
      endpoint: emulator.url,
      credentials: new CredentialSource({ kind: 'credentials_uri', uri: uriUrl }),
      timeoutMs: 2000,
      ...(onRefresh ? { onCredentialsRefreshed: onRefresh } : {}),
    });

  it('signs every call with what the URI hands out, fetching again when it expires soon', async () => {
    answer = () => fresh(5000);
    fetches = 0;
    const vod = client();
    await vod.refreshObjectCaches(['https://a.example/1.png'], 'File');
    await vod.describeRefreshQuota();
    await vod.refreshObjectCaches(['https://a.example/2.png'], 'File');
    // Alibaba's providers renew a credential within 15 minutes of its expiry: here, every call.
    expect(fetches).toBe(3);
    const keys = new Set(emulator.emulator.submissions().map((s) => s.accessKeyId));
    expect(keys.size).toBe(2);
    for (const key of keys) expect(key).toMatch(/^STS\./);
  });

  it('fetches anew and retries once when a cached credential stops working', async () => {
    // A credential the URI says is good for an hour (so it is cached) that the upstream stops trusting.
    const sts = emulator.emulator.issueSts({ ttlMs: 60_000 });
    answer = () => ({
      status: 200,
      body: JSON.stringify({
        Code: 'Success',
        ...sts,
        Expiration: `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z`,
      }),
    });
    const refreshed: string[] = [];
    const vod = client((record) => refreshed.push(`${record.action}:${record.code}`));
    await vod.describeRefreshQuota();
    emulator.emulator.denyActions(sts.AccessKeyId, ['RefreshVodObjectCaches']);
    answer = () => fresh();
    const accepted = await vod.refreshObjectCaches(['https://a.example/3.png'], 'File');
    expect(accepted.refreshTaskId).toBeDefined();
    expect(refreshed).toEqual(['RefreshVodObjectCaches:Forbidden.RAM']);
  });

  it('reports a second account error to the caller, with nothing of the credentials', async () => {
    let last = emulator.emulator.issueSts({ ttlMs: 60_000 });
    answer = () => {
      last = emulator.emulator.issueSts({ ttlMs: 60_000, deny: ['RefreshVodObjectCaches'] });
      return { status: 200, body: JSON.stringify({ Code: 'Success', ...last }) };
    };
    const error = await client()
      .refreshObjectCaches(['https://a.example/4.png'], 'File')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'Forbidden.RAM', delivery: 'refused' });
    const text = `${(error as Error).message} ${(error as Error).stack}`;
    for (const secret of [last.AccessKeyId, last.AccessKeySecret, last.SecurityToken])
      expect(text).not.toContain(secret);
  });

  it('labels a failing source CredentialsUnavailable, not sent, without what it answered', async () => {
    answer = () => ({
      status: 200,
      body: JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.half', AccessKeySecret: 'half-secret-9' }),
    });
    const error = await client()
      .describeRefreshQuota()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CredentialsUnavailable', delivery: 'not-sent' });
    expect((error as Error).message).toContain('credentials_uri');
    expect((error as Error).message).not.toContain('half-secret-9');
    answer = () => ({ status: 503, body: '{"AccessKeySecret": "other-secret-7"}' });
    const down = await client()
      .describeRefreshQuota()
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'CredentialsUnavailable' });
    expect((down as Error).message).not.toContain('other-secret-7');
  });
});
