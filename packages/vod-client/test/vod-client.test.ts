import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError, VodClient } from '../src/index.js';

const KEY = { accessKeyId: 'LTAIclientTestKey01', accessKeySecret: 'client-test-secret-0001' };
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: [KEY], silent: true });
});

afterAll(async () => {
  await emulator.close();
});

const client = (overrides: Partial<typeof KEY> = {}, timeoutMs = 2000) =>
  new VodClient({ endpoint: emulator.url, credentials: { ...KEY, ...overrides }, timeoutMs });

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error('expected the call to fail');
}

describe('VodClient over pop-core', () => {
  it('refreshes, describes tasks and reads the quota', async () => {
    const accepted = await client().refreshObjectCaches(['https://a.example/1.png'], 'File');
    expect(accepted.refreshTaskId).toMatch(/\d+/);
    const page = await client().describeRefreshTasks({ taskId: accepted.refreshTaskId });
    expect(page.tasks[0]).toMatchObject({
      objectPath: 'https://a.example/1.png',
      taskId: accepted.refreshTaskId,
    });
    const quota = await client().describeRefreshQuota();
    expect(quota.urlRemain).toBe(quota.urlQuota - 1);
  });

  it('reports a refusal with its code and nothing of the credentials', async () => {
    const error = await failure(
      client({ accessKeySecret: 'wrong-secret-0001' }).refreshObjectCaches(
        ['https://a.example/2.png'],
        'File',
      ),
    );
    expect(error).toMatchObject({ delivery: 'refused', code: 'SignatureDoesNotMatch' });
    expect(error.message).not.toContain(KEY.accessKeyId);
    expect(error.message).not.toContain('wrong-secret-0001');
    expect(error.message).not.toContain('Signature=');
  });

  it('labels a body that is not JSON as an unknown outcome', async () => {
    emulator.emulator.updateFaults({ serverErrorNext: 1 });
    const error = await failure(client().refreshObjectCaches(['https://a.example/3.png'], 'File'));
    expect(error).toMatchObject({ delivery: 'unknown', code: 'InvalidResponse' });
  });

  it('labels a timeout as an unknown outcome', async () => {
    emulator.emulator.updateFaults({ timeoutNext: 1 });
    const error = await failure(client({}, 300).refreshObjectCaches(['https://a.example/4.png'], 'File'));
    expect(error).toMatchObject({ delivery: 'unknown', code: 'Timeout' });
  });

  it('labels a refused connection as not sent', async () => {
    const closed = new VodClient({ endpoint: 'http://127.0.0.1:1', credentials: KEY, timeoutMs: 1000 });
    const error = await failure(closed.refreshObjectCaches(['https://a.example/5.png'], 'File'));
    expect(error).toMatchObject({ delivery: 'not-sent', code: 'ConnectionRefused' });
  });
});
