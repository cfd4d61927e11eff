import { type createIntakeMetrics, intakeEnvSchema, startIntake } from '@refreshq/intake';
import { createLogger } from '@refreshq/telemetry';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { startWorker, workerEnvSchema, type RunningWorker, type WorkerOptions } from '@refreshq/worker';
import { inject } from 'vitest';

export const TEST_KEY = { accessKeyId: 'LTAItestkey0001', accessKeySecret: 'test-secret-do-not-log-0001' };

export const silentLogger = createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function redisUrl(): string {
  return inject('redisUrl');
}

export interface TestIntake {
  url: string;
  app: Awaited<ReturnType<typeof startIntake>>['app'];
  namespace: string;
  metrics: ReturnType<typeof createIntakeMetrics>;
  queueCounts(): Promise<number>;
  close(): Promise<void>;
}

/** Intake on a free port, on the test Redis, in its own namespace: started as main.ts starts it. */
export async function startTestIntake(
  env: Record<string, string> = {},
  namespace = testNamespace('intake'),
): Promise<TestIntake> {
  const parsed = intakeEnvSchema.parse({
    REDIS_URL: redisUrl(),
    REFRESHQ_NAMESPACE: namespace,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const intake = await startIntake(parsed, silentLogger);
  return {
    url: intake.url,
    app: intake.app,
    namespace,
    metrics: intake.metrics,
    queueCounts: async () => {
      const counts = await intake.queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'prioritized',
      );
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    },
    close: async () => {
      intake.server.closeAllConnections();
      await intake.stop();
    },
  };
}

/** A worker in this process, pointed at `endpoint`, sharing the intake's namespace. */
export async function startTestWorker(
  namespace: string,
  endpoint: string,
  env: Record<string, string> = {},
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const parsed = workerEnvSchema.parse({
    REDIS_URL: redisUrl(),
    REFRESHQ_NAMESPACE: namespace,
    VOD_ENDPOINT: endpoint,
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_KEY.accessKeySecret,
    COALESCE_WINDOW_MS: '50',
    VOD_CALL_TIMEOUT_MS: '2000',
    ...env,
  });
  return startWorker(parsed, silentLogger, options);
}

export async function cleanNamespace(namespace: string): Promise<void> {
  await dropNamespace(redisUrl(), namespace);
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.json() };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface TestStack {
  intake: TestIntake;
  worker: RunningWorker;
  close(): Promise<void>;
}

/** Intake and an in-process worker on a fresh namespace, the worker pointed at `endpoint`. */
export async function startTestStack(
  endpoint: string,
  workerEnv: Record<string, string> = {},
  intakeEnv: Record<string, string> = {},
): Promise<TestStack> {
  const intake = await startTestIntake(intakeEnv);
  const worker = await startTestWorker(intake.namespace, endpoint, workerEnv);
  return {
    intake,
    worker,
    close: async () => {
      await worker.stop();
      await intake.close();
      await cleanNamespace(intake.namespace);
    },
  };
}
