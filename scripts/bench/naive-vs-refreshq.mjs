// The same CMS burst through a naive client (one RefreshVodObjectCaches call per webhook) and
// through refreshq, each against its own emulator with VOD's default quota (2,000 URLs a day):
// quota units spent, errors, distinct paths refreshed; and refreshq's intake-to-submit latency.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../apps/vod-emulator/dist/index.js';
import { freePort, startRedisServer } from '../../packages/test-redis/dist/index.js';
import { VodClient } from '../../packages/vod-client/dist/index.js';
import { waitForPort } from '../lib/ports.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = { accessKeyId: 'LTAIbenchNaive0001', accessKeySecret: 'bench-naive-secret-0001' };

async function inParallel(items, limit, task) {
  let next = 0;
  const results = new Array(items.length);
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await task(items[index], index);
      }
    }),
  );
  return results;
}

/** A bulk re-save: every URL sent `repeats` times, close together, URLs one after another. */
function burst(urls, repeats) {
  const webhooks = [];
  for (let u = 0; u < urls; u += 1)
    for (let r = 0; r < repeats; r += 1) webhooks.push(`https://cms.example.com/page/${u}.html`);
  return webhooks;
}

function outcome(emulator) {
  const counts = emulator.emulator.counts();
  const answers = counts.calls.RefreshVodObjectCaches ?? {};
  const errors = Object.entries(answers)
    .filter(([code]) => code !== 'OK')
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    calls: Object.values(answers).reduce((sum, n) => sum + n, 0),
    quotaUnitsSpent: counts.urlsAccepted,
    errors,
    errorsByCode: Object.fromEntries(Object.entries(answers).filter(([code]) => code !== 'OK')),
    distinctPathsRefreshed: new Set(emulator.emulator.submissions().flatMap((s) => s.paths)).size,
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function benchNaiveVsRefreshq({ urls = 500, repeats = 20, concurrency = 16 } = {}) {
  const webhooks = burst(urls, repeats);
  // Naive: every webhook is a call.
  const naiveUpstream = await startEmulator({ credentials: [KEY], silent: true });
  const naiveStarted = performance.now();
  const client = new VodClient({ endpoint: naiveUpstream.url, credentials: KEY, timeoutMs: 5000 });
  await inParallel(webhooks, concurrency, (path) =>
    client.refreshObjectCaches([path], 'File').catch(() => undefined),
  );
  const naive = {
    ...outcome(naiveUpstream),
    seconds: Number(((performance.now() - naiveStarted) / 1000).toFixed(1)),
  };
  await naiveUpstream.close();

  // refreshq: the same webhooks to intake, drained by one worker.
  const redis = await startRedisServer();
  const upstream = await startEmulator({ credentials: [KEY], silent: true });
  const port = await freePort();
  const env = { ...process.env, REDIS_URL: redis.url, REFRESHQ_NAMESPACE: 'bench-naive', LOG_LEVEL: 'warn' };
  const intake = spawn(process.execPath, [join(root, 'apps/intake/dist/main.js')], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const worker = spawn(process.execPath, [join(root, 'apps/worker/dist/main.js')], {
    env: {
      ...env,
      VOD_ENDPOINT: upstream.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
      WORKER_METRICS_PORT: '0',
    },
    stdio: 'ignore',
  });
  try {
    await waitForPort(port);
    const started = performance.now();
    const ids = await inParallel(webhooks, concurrency, async (path) => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/refreshes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ paths: [path] }),
      });
      return (await response.json()).id;
    });
    // Drained: every request has left the queue.
    const sample = ids.filter((_id, i) => i % 10 === 0);
    const statuses = await inParallel(sample, concurrency, async (id) => {
      for (;;) {
        const body = await (await fetch(`http://127.0.0.1:${port}/v1/refreshes/${id}`)).json();
        if (body.counts && body.counts.queued === 0) return body;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    const latencies = statuses
      .map((body) => Date.parse(body.paths[0].submittedAt) - Date.parse(body.receivedAt))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const refreshq = { ...outcome(upstream), seconds };
    return {
      name: 'naive-vs-refreshq',
      settings: {
        webhooks: webhooks.length,
        distinctUrls: urls,
        repeatsPerUrl: repeats,
        concurrency,
        upstreamQuota: '2,000 URLs a day (VOD default)',
      },
      naive,
      refreshq,
      intakeToSubmitMs: {
        sampled: latencies.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
      },
    };
  } finally {
    intake.kill('SIGTERM');
    worker.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await upstream.close();
    await redis.stop();
  }
}
