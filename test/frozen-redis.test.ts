import { redisServerOnPath, startRedisServer, type RunningRedis } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startTestIntake, type TestIntake } from './support/stack.js';

/**
 * A frozen Redis must not freeze intake (issue #13). A private redis-server is stopped with
 * SIGSTOP: its socket stays open and nothing answers, as a network black hole would look. On the
 * old main, POST and GET hung as long as Redis did (46 s measured). The bounds here are loose
 * (timeout plus generous slack), never tight budgets.
 */

const TIMEOUT_MS = 1000;
const SLACK_MS = 9000;
const TOKEN = 'frozen-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

let redis: RunningRedis | undefined;
let intake: TestIntake | undefined;
let frozen = false;

const freeze = () => {
  redis?.process.kill('SIGSTOP');
  frozen = true;
};
const thaw = () => {
  if (frozen) redis?.process.kill('SIGCONT');
  frozen = false;
};

beforeAll(async () => {
  redis = await startRedisServer();
  intake = await startTestIntake({
    REDIS_URL: redis.url,
    INTAKE_TOKENS: TOKEN,
    REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  });
});

afterAll(async () => {
  thaw();
  await intake?.close();
  await redis?.stop();
});

async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await step();
  return [value, Date.now() - started];
}

const postRefresh = (key: string) =>
  fetch(`${intake?.url}/v1/refreshes`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ paths: ['https://example.com/frozen.mp4'] }),
  });

describe.skipIf(!redisServerOnPath())('intake with Redis frozen (SIGSTOP)', () => {
  it('answers 503 with Retry-After within the timeout, keeps /healthz up, and recovers after SIGCONT', async () => {
    const running = intake as TestIntake;
    const before = await postRefresh('before-freeze');
    expect(before.status).toBe(202);
    const { id } = (await before.json()) as { id: string };
    const jobsBefore = await running.queueCounts();

    freeze();
    try {
      // /healthz is polled while the POST waits on Redis.
      let polling = true;
      const health: number[] = [];
      const probe = (async () => {
        while (polling) {
          const [answer, ms] = await timed(() => fetch(`${running.url}/healthz`));
          expect(answer.status).toBe(200);
          health.push(ms);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const [posted, postMs] = await timed(() => postRefresh('during-freeze'));
      const [read, getMs] = await timed(() => getJson(`${running.url}/v1/refreshes/${id}`, auth));
      const [ready, readyMs] = await timed(() => fetch(`${running.url}/readyz`));
      polling = false;
      await probe;

      expect(posted.status).toBe(503);
      expect(posted.headers.get('retry-after')).toBe('5');
      expect(((await posted.json()) as any).error.code).toBe('unavailable');
      expect(read.status).toBe(503);
      expect(read.body.error.code).toBe('unavailable');
      expect(ready.status).toBe(503);
      // Well before the 46 s the old main waited; within the timeout and slack.
      expect(postMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(getMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(health.length).toBeGreaterThan(0);
      expect(Math.max(...health)).toBeLessThan(SLACK_MS);
      process.stdout.write(
        `  [frozen redis] REDIS_COMMAND_TIMEOUT_MS=${TIMEOUT_MS}: POST 503 in ${postMs} ms, GET 503 in ${getMs} ms, /readyz 503 in ${readyMs} ms; /healthz answered ${health.length} times meanwhile, slowest ${Math.max(...health)} ms\n`,
      );
    } finally {
      thaw();
    }

    // Once Redis answers again, the retry with the same key is answered once, whether or not the
    // command sent to the frozen Redis ran late: at most one job for it.
    let retried: Response | undefined;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      retried = await postRefresh('during-freeze');
      if (retried.status === 202) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(retried?.status).toBe(202);
    const again = await postRefresh('during-freeze');
    expect(((await again.json()) as { replayed: boolean }).replayed).toBe(true);
    expect(await running.queueCounts()).toBe(jobsBefore + 1);
    expect((await getJson(`${running.url}/v1/refreshes/${id}`, auth)).status).toBe(200);
  });
});
