import { redisServerOnPath, type RunningSentinelSetup, startRedisSentinel } from '@refreshq/test-redis';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  getJson,
  postJson,
  startTestIntake,
  startTestWorker,
  TEST_KEY,
  type TestIntake,
} from '../support/stack.js';

/**
 * refreshq behind Redis Sentinel: intake and the worker get only REDIS_SENTINELS and
 * REDIS_SENTINEL_NAME. The master is killed; the sentinel promotes the replica; both processes
 * find the new master through the sentinel and carry on, and what was accepted before the
 * failover (a replica confirmed it: REDIS_WAIT_REPLICAS=1) still reaches the upstream.
 */
describe.skipIf(!redisServerOnPath())('behind Redis Sentinel', () => {
  let sentinel: RunningSentinelSetup;
  let upstream: RunningEmulator;

  beforeAll(async () => {
    [sentinel, upstream] = await Promise.all([
      startRedisSentinel({ replicas: 2, downAfterMs: 1000 }),
      startEmulator({ credentials: [TEST_KEY], silent: true }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await upstream?.close();
    await sentinel?.stop();
  });

  const settled = (intake: TestIntake, id: string) =>
    eventually(
      async () => {
        const answer = await getJson(`${intake.url}/v1/refreshes/${id}`).catch(() => undefined);
        return answer?.body?.state === 'submitted' ? answer.body : undefined;
      },
      30_000,
      `request ${id} submitted`,
    );

  it('follows a failover: requests accepted before and after it are all submitted', async () => {
    // Two replicas: after the failover the new master still has one to confirm each 202.
    const env = {
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_WAIT_REPLICAS: '1',
    };
    const intake = await startTestIntake(env);
    const worker = await startTestWorker(intake.namespace, upstream.url, {
      ...env,
      // Admitted but not yet due when the master dies: the replica must have them.
      COALESCE_WINDOW_MS: '3000',
    });
    try {
      const before = await postJson(`${intake.url}/v1/refreshes`, {
        paths: ['https://cdn.example.com/s/before.mp4'],
      });
      expect(before.status).toBe(202);

      const formerPort = await sentinel.masterPort();
      const master = sentinel.servers.find((server) => server.port === formerPort);
      master?.process.kill('SIGKILL');
      const newPort = await sentinel.waitForNewMaster(formerPort);
      expect(newPort).not.toBe(formerPort);

      const after = await eventually(
        async () => {
          const answer = await postJson(`${intake.url}/v1/refreshes`, {
            paths: ['https://cdn.example.com/s/after.mp4'],
          });
          return answer.status === 202 ? answer : undefined;
        },
        20_000,
        'intake accepting again on the new master',
      );
      for (const id of [before.body.id, after.body.id]) {
        const body = await settled(intake, id);
        expect(body.paths[0].taskId).toBeTruthy();
      }
      expect(
        upstream.emulator
          .submissions()
          .flatMap((s) => s.paths)
          .sort(),
      ).toEqual(['https://cdn.example.com/s/after.mp4', 'https://cdn.example.com/s/before.mp4']);
    } finally {
      await worker.stop();
      await intake.close();
    }
  }, 60_000);
});
