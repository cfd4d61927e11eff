import { Writable } from 'node:stream';
import { createLogger } from '@refreshq/telemetry';
import { type RunningWorker, startWorker, workerEnvSchema } from '@refreshq/worker';
import { type RunningEmulator, type StsCredential, startEmulator } from '@refreshq/vod-emulator';
import { afterEach, describe, expect, it } from 'vitest';
import { type CredentialsUri, startCredentialsUri } from './support/credentials-uri.js';
import {
  cleanNamespace,
  eventually,
  getJson,
  postJson,
  redisUrl,
  startTestIntake,
  TEST_KEY,
  type TestIntake,
} from './support/stack.js';

/**
 * Account errors hold the work: the upstream answers an authorisation, token or clock error for
 * longer than the five calls an unknown code gets, yet no path is rejected; the breaker and its
 * metrics show it, a log line names the code and the fix, and once the cause is gone every path goes.
 */

const REFRESH = 'RefreshVodObjectCaches';
/** Well past the 5 calls an unknown code gets before its paths are rejected. */
const HELD_CALLS = 12;

interface Rig {
  emulator: RunningEmulator;
  intake: TestIntake;
  worker: RunningWorker;
  logs: string[];
  uri?: CredentialsUri;
}
let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  await rig.worker.stop();
  await rig.intake.close();
  await rig.uri?.close();
  await rig.emulator.close();
  await cleanNamespace(rig.intake.namespace);
  rig = undefined;
});

async function start(
  prepare: (emulator: RunningEmulator) => Promise<{ env: Record<string, string>; uri?: CredentialsUri }>,
): Promise<Rig> {
  const emulator = await startEmulator({ credentials: [TEST_KEY], silent: true });
  const { env, uri } = await prepare(emulator);
  const intake = await startTestIntake();
  const logs: string[] = [];
  const logger = createLogger({
    name: 'worker',
    level: 'info',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const worker = await startWorker(
    workerEnvSchema.parse({
      REDIS_URL: redisUrl(),
      REFRESHQ_NAMESPACE: intake.namespace,
      VOD_ENDPOINT: emulator.url,
      COALESCE_WINDOW_MS: '50',
      COALESCE_QUIET_MS: '0',
      VOD_CALL_TIMEOUT_MS: '2000',
      BREAKER_PROBE_MS: '300',
      QUOTA_SYNC_INTERVAL_MS: '0',
      ...env,
    }),
    logger,
  );
  rig = { emulator, intake, worker, logs, ...(uri ? { uri } : {}) };
  return rig;
}

const PATHS = [
  'https://a.example.com/v/1.mp4',
  'https://a.example.com/v/2.mp4',
  'https://a.example.com/v/3.mp4',
  'https://b.example.com/v/4.mp4',
  'https://b.example.com/v/5.mp4',
];

async function post(intake: TestIntake): Promise<string> {
  const answer = await postJson(`${intake.url}/v1/refreshes`, { paths: PATHS });
  expect(answer.status).toBe(202);
  return answer.body.id as string;
}

const refusedCalls = (current: Rig, code: string) =>
  current.emulator.emulator.counts().calls[REFRESH]?.[code] ?? 0;

/** The sum of the series of `name` that carry `labels`. */
async function metric(worker: RunningWorker, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await worker.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values ?? [])
    .filter((v) => Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Held: many refused calls, every path still queued, the breaker and the metrics say why. */
async function expectHeld(current: Rig, id: string, code: string): Promise<void> {
  await eventually(
    async () => (refusedCalls(current, code) >= HELD_CALLS ? true : undefined),
    20_000,
    `${HELD_CALLS} refresh calls answered ${code}`,
  );
  const status = (await getJson(`${current.intake.url}/v1/refreshes/${id}`)).body;
  expect(status.state).toBe('queued');
  expect(status.paths.map((p: { state: string }) => p.state)).toEqual(PATHS.map(() => 'queued'));
  expect(current.emulator.emulator.submissions()).toEqual([]);

  const { worker } = current;
  expect(await metric(worker, 'refreshq_breaker_opened_total', { code })).toBeGreaterThan(2);
  expect(
    await metric(worker, 'refreshq_account_errors_total', { action: REFRESH, code }),
  ).toBeGreaterThanOrEqual(HELD_CALLS);
  // Fetched anew at least once (at most every 5 s: the start check's may have been the one).
  expect(await metric(worker, 'refreshq_credential_refreshes_total', { code })).toBeGreaterThan(0);
  expect(await metric(worker, 'refreshq_paths_rejected_total', {})).toBe(0);
  // The gauge is republished every 5 s; the breaker is open nearly all the time between probes.
  await eventually(
    async () => ((await metric(worker, 'refreshq_breaker_open', {})) === 1 ? true : undefined),
    12_000,
    'refreshq_breaker_open to be 1',
  );
  const line = current.logs.find((l) => l.includes(`upstream refused with ${code}`));
  expect(line, `a log line naming ${code}`).toBeDefined();
  expect(JSON.parse(line as string)).toMatchObject({ level: 50, code, fix: expect.any(String) });
}

/** Released: every path submitted, none rejected. */
async function expectReleased(current: Rig, id: string): Promise<void> {
  const status = await eventually(
    async () => {
      const body = (await getJson(`${current.intake.url}/v1/refreshes/${id}`)).body;
      return body.counts.queued === 0 ? body : undefined;
    },
    15_000,
    'every path to leave the queue',
  );
  expect(status.paths.map((p: { state: string }) => p.state)).toEqual(PATHS.map(() => 'submitted'));
  expect(
    current.emulator.emulator
      .submissions()
      .flatMap((s) => s.paths)
      .sort(),
  ).toEqual([...PATHS].sort());
}

describe('account errors hold the work, then every path goes', () => {
  it('Forbidden.RAM for longer than five retries: nothing rejected; when the permission comes back every path goes', async () => {
    const current = await start(async (emulator) => {
      emulator.emulator.denyActions(TEST_KEY.accessKeyId, [REFRESH]);
      return {
        env: {
          ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_KEY.accessKeySecret,
        },
      };
    });
    const id = await post(current.intake);
    await expectHeld(current, id, 'Forbidden.RAM');
    expect(current.logs.find((l) => l.includes('upstream refused with Forbidden.RAM'))).toContain(
      'docs/ram-policy.json',
    );
    // The start check passed: only the refresh action was denied.
    expect(current.logs.some((l) => l.includes('start check passed'))).toBe(true);

    current.emulator.emulator.denyActions(TEST_KEY.accessKeyId, []);
    await expectReleased(current, id);
  });

  it('an expired token: held while the source hands out only that one, released once it renews', async () => {
    let stuck: StsCredential | undefined;
    const current = await start(async (emulator) => {
      // A token the upstream no longer trusts, which its source still claims is good for an hour.
      stuck = emulator.emulator.issueSts({ ttlMs: 1 });
      const claimed = `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z`;
      const uri = await startCredentialsUri(emulator.emulator, 60_000);
      uri.serve(() => ({ ...(stuck as StsCredential), Expiration: claimed }));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      return { env: { ALIBABA_CLOUD_CREDENTIALS_URI: uri.url }, uri };
    });
    expect(
      current.logs.some((l) => l.includes('start check:') && l.includes('InvalidSecurityToken.Expired')),
    ).toBe(true);
    const id = await post(current.intake);
    await expectHeld(current, id, 'InvalidSecurityToken.Expired');

    const uri = current.uri as CredentialsUri;
    uri.serve(() => current.emulator.emulator.issueSts({ ttlMs: 60_000 }));
    await expectReleased(current, id);
    const used = new Set(current.emulator.emulator.submissions().map((s) => s.accessKeyId));
    expect(used.has(stuck?.AccessKeyId as string)).toBe(false);
    for (const credential of [...uri.issued, stuck as StsCredential])
      for (const line of current.logs) {
        expect(line).not.toContain(credential.AccessKeySecret);
        expect(line).not.toContain(credential.SecurityToken);
      }
  });

  it('a skewed clock (InvalidTimeStamp.Expired): held, and released once the clock is right', async () => {
    const current = await start(async (emulator) => {
      emulator.emulator.setTimestampSkew(20 * 60_000);
      return {
        env: {
          ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_KEY.accessKeySecret,
        },
      };
    });
    expect(
      current.logs.find((l) => l.includes('may not call DescribeVodRefreshQuota (InvalidTimeStamp.Expired)')),
    ).toContain('clock');
    const id = await post(current.intake);
    await expectHeld(current, id, 'InvalidTimeStamp.Expired');

    current.emulator.emulator.setTimestampSkew(0);
    await expectReleased(current, id);
  });
});
