import { type RunningEmulator, startEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CredentialsUri, startCredentialsUri } from './support/credentials-uri.js';
import { type AppProcess, startApp } from './support/processes.js';
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
 * Credentials that rotate every few seconds: a worker process configured with nothing but
 * ALIBABA_CLOUD_CREDENTIALS_URI (no AccessKey pair), the URI handing out STS credentials the
 * emulator trusts for 3 s only. Every path is submitted, none refused, and no secret is logged.
 */

const TRUSTED_MS = 3000;
const WAVES = 5;
const WAVE_GAP_MS = 1200;

let emulator: RunningEmulator;
let uri: CredentialsUri;
let intake: TestIntake;
let worker: AppProcess;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: [TEST_KEY], silent: true });
  uri = await startCredentialsUri(emulator.emulator, TRUSTED_MS);
  intake = await startTestIntake();
  worker = startApp('worker', {
    REDIS_URL: redisUrl(),
    REFRESHQ_NAMESPACE: intake.namespace,
    VOD_ENDPOINT: emulator.url,
    ALIBABA_CLOUD_CREDENTIALS_URI: uri.url,
    WORKER_METRICS_PORT: '0',
    COALESCE_WINDOW_MS: '50',
    COALESCE_QUIET_MS: '0',
    TASK_FIRST_POLL_MS: '500',
    LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  await worker?.stop();
  await intake?.close();
  await uri?.close();
  await emulator?.close();
  if (intake) await cleanNamespace(intake.namespace);
});

describe('credentials that rotate every few seconds', () => {
  it('submits every path, refuses none, and signs with many short-lived credentials', async () => {
    const ids: string[] = [];
    const paths: string[] = [];
    for (let wave = 0; wave < WAVES; wave += 1) {
      const batch = Array.from({ length: 4 }, (_v, i) => `https://rot${i % 2}.example.com/w${wave}/${i}.png`);
      const answer = await postJson(`${intake.url}/v1/refreshes`, { paths: batch });
      expect(answer.status).toBe(202);
      ids.push(answer.body.id);
      paths.push(...batch);
      await new Promise((resolve) => setTimeout(resolve, WAVE_GAP_MS));
    }
    for (const id of ids) {
      const body = await eventually(
        async () => {
          const status = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
          return status.counts.queued === 0 ? status : undefined;
        },
        20_000,
        `request ${id} to leave the queue`,
      );
      for (const path of body.paths as { state: string; taskId?: string }[]) {
        expect(['submitted', 'refreshing', 'complete']).toContain(path.state);
        expect(path.taskId).toBeDefined();
      }
    }

    const submissions = emulator.emulator.submissions();
    expect(submissions.flatMap((s) => s.paths).sort()).toEqual([...paths].sort());
    const keys = new Set(submissions.map((s) => s.accessKeyId));
    expect(keys.size).toBeGreaterThanOrEqual(3);
    for (const key of keys) expect(key).toMatch(/^STS\./);
    // Every call the emulator saw was accepted: none was signed with a credential past its time.
    const calls = emulator.emulator.counts().calls;
    for (const [action, byCode] of Object.entries(calls))
      expect([action, Object.keys(byCode)]).toEqual([action, ['OK']]);
    expect(uri.fetches()).toBeGreaterThanOrEqual(WAVES);

    const output = worker.output();
    expect(output).toContain('"provider":"credentials_uri"');
    expect(output).toContain('start check passed');
    for (const credential of uri.issued) {
      expect(output).not.toContain(credential.AccessKeySecret);
      expect(output).not.toContain(credential.SecurityToken);
    }
  });
});
