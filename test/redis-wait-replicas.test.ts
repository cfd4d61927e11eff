import { type RunningRedis, redisServerOnPath, startRedisServer } from '@refreshq/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postJson, startTestIntake } from './support/stack.js';

/**
 * REDIS_WAIT_REPLICAS: intake answers 202 only once that many replicas hold the job (WAIT);
 * fewer within REDIS_WAIT_TIMEOUT_MS is a 503 that says so.
 */
describe.skipIf(!redisServerOnPath())('REDIS_WAIT_REPLICAS', () => {
  let primary: RunningRedis;
  let replica: RunningRedis;

  beforeAll(async () => {
    primary = await startRedisServer({ extraArgs: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const client = new Redis(replica.url);
    try {
      await eventually(
        async () => (/master_link_status:up/.test(await client.info('replication')) ? true : undefined),
        15_000,
        'the replica in sync',
      );
    } finally {
      client.disconnect();
    }
  });

  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
  });

  it('answers 202 once a replica has the request', async () => {
    const intake = await startTestIntake({
      REDIS_URL: primary.url,
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '1500',
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_v, i) =>
          postJson(`${intake.url}/v1/refreshes`, { paths: [`https://cdn.example.com/w/${i}.png`] }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    } finally {
      await intake.close();
    }
  });

  it('answers 503 with Retry-After when fewer replicas confirm in time, and says why', async () => {
    const intake = await startTestIntake({ REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '200' });
    try {
      const answer = await postJson(`${intake.url}/v1/refreshes`, {
        paths: ['https://cdn.example.com/w/x.png'],
      });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.body.error.code).toBe('unavailable');
      expect(answer.body.error.message).toContain('replicas REDIS_WAIT_REPLICAS asks for');
    } finally {
      await intake.close();
    }
  });
});
