import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit, startApp, workerProcessEnv, type AppProcess } from './support/processes.js';
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

// CI runs a reduced burst; BURST_REQUESTS=100000 BURST_URLS=5000 gives the full figure.
const REQUESTS = Number(process.env.BURST_REQUESTS ?? 20_000);
const URLS = Number(process.env.BURST_URLS ?? 1_000);
const DOMAINS = 10;
const WORKERS = 3;
const WINDOW_MS = 2000;

let emulator: RunningEmulator;
let intake: TestIntake;
const workers: AppProcess[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [TEST_KEY],
    quotas: { urlsPerDay: 10_000_000 },
    silent: true,
  });
  intake = await startTestIntake();
  for (let i = 0; i < WORKERS; i += 1) {
    workers.push(
      startApp(
        'worker',
        workerProcessEnv(redisUrl(), intake.namespace, emulator.url, TEST_KEY, {
          COALESCE_WINDOW_MS: String(WINDOW_MS),
          // Headroom for a busy 2-core CI machine: a stall of the posting client longer than the
          // quiet time between two repeats of one URL would rightly make it a second refresh, and
          // so would a burst that outlasts the patience (10 quiet times, 30 s here; the burst
          // took 20 to 40 s on a loaded machine).
          COALESCE_QUIET_MS: '3000',
          QUOTA_URLS_PER_DAY: '10000000',
          QUOTA_URLS_PER_MINUTE: '10000000',
          QUOTA_CALLS_PER_SECOND: '1000',
          ADMIT_CONCURRENCY: '64',
        }),
      ),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await intake.close();
  await emulator.close();
  await cleanNamespace(intake.namespace);
});

/**
 * A CMS bulk re-save: every URL is sent REQUESTS/URLS times, its repeats close together (within
 * the coalescing window), URLs one after another, over DOMAINS domains.
 */
function burst(): string[] {
  const perUrl = Math.round(REQUESTS / URLS);
  const order: string[] = [];
  for (let u = 0; u < URLS; u += 1) {
    const url = `https://d${u % DOMAINS}.example.com/page/${u}.html`;
    for (let r = 0; r < perUrl; r += 1)
      order.push(r % 3 === 0 ? url.replace('https://', 'HTTPS://').replace('.html', '.html#top') : url);
  }
  return order;
}

describe(`a burst of ${REQUESTS} requests over ${URLS} URLs, ${WORKERS} worker processes`, () => {
  it('submits each distinct URL exactly once, and every request sees its outcome', async () => {
    const paths = burst();
    const started = Date.now();
    const ids = await mapLimit(paths, 64, async (path) => {
      const answer = await postJson(`${intake.url}/v1/refreshes`, { paths: [path] });
      expect(answer.status).toBe(202);
      return answer.body.id as string;
    });
    const posted = Date.now();

    process.stdout.write(`burst: ${REQUESTS} requests posted in ${posted - started} ms\n`);
    const submitted = await eventually(
      async () => {
        const count = emulator.emulator.submissions().reduce((sum, s) => sum + s.paths.length, 0);
        return count >= URLS ? count : undefined;
      },
      180_000,
      'every URL to be submitted',
    );
    // Let any straggler (a second submission) show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const submissions = emulator.emulator.submissions();
    const all = submissions.flatMap((s) => s.paths);
    const drained = Date.now();

    const states = await mapLimit(ids, 64, async (id) => {
      const body = await eventually(
        async () => {
          const answer = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
          return answer.counts.queued === 0 && answer.paths[0].taskId ? answer : undefined;
        },
        30_000,
        `request ${id}`,
      );
      return body.paths[0].taskId as string;
    });

    // Each domain's batch is cut once per window, so a burst longer than the window costs one
    // call per domain per window it spans; a burst within one window would cost DOMAINS calls.
    const windows = Math.ceil((posted - started) / WINDOW_MS) + 1;
    process.stdout.write(
      `burst: ${REQUESTS} requests posted in ${posted - started} ms; ${all.length} paths submitted in ${submissions.length} calls ` +
        `(${new Set(all).size} distinct) after ${drained - started} ms; bound ${DOMAINS * windows} calls (${DOMAINS} domains x ${windows} windows)\n`,
    );
    expect(submitted).toBe(URLS);
    expect(all.length).toBe(URLS);
    expect(new Set(all).size).toBe(URLS);
    expect(states.every((taskId) => typeof taskId === 'string' && taskId.length > 0)).toBe(true);
    expect(submissions.length).toBeLessThanOrEqual(DOMAINS * windows);
  }, 600_000);
});
