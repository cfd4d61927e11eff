import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyspace } from '@refreshq/store';
import { freePort, startRedisServer, type RunningRedis } from '@refreshq/test-redis';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ENTRY, type Proc, sleep, spawnNode, track, untrack, waitForHttp } from './processes.js';

/** The key pair the emulator trusts and the workers sign with (test-only, never a real key). */
export const CRASH_KEY = { id: 'LTAIcrashtest0001', secret: 'crash-test-secret-not-real-0001' };
export const NAMESPACE = 'crash';

export interface StackOptions {
  /** Append-only Redis (the Redis restart test); a private data folder either way. */
  appendOnly?: boolean;
  /** `always` makes every acknowledged write durable before the reply (stricter than the default everysec). */
  appendfsync?: 'everysec' | 'always';
  emulatorEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  intakeEnv?: Record<string, string>;
  workers: number;
}

/**
 * A private redis-server, the VOD emulator, one intake and N workers, each a real process started
 * from the build (`node apps/<app>/dist/main.js`), configured only through its environment.
 */
export class CrashStack {
  redis!: RunningRedis;
  redisPort = 0;
  redisDir = '';
  emulator!: Proc;
  emulatorUrl = '';
  intake: Proc | undefined;
  intakePort = 0;
  workers: Proc[] = [];
  /** Every worker ever started, for the report and for cleanup. */
  allWorkers: Proc[] = [];
  private workerCount = 0;
  private admin: Redis | undefined;
  private queue: Queue | undefined;
  private metricsPorts = new Map<Proc, number>();

  constructor(readonly options: StackOptions) {}

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  get intakeUrl(): string {
    return `http://127.0.0.1:${this.intakePort}`;
  }

  async start(): Promise<void> {
    this.redisDir = mkdtempSync(join(tmpdir(), 'refreshq-crash-redis-'));
    this.redisPort = await freePort();
    await this.startRedis();

    const emulatorPort = await freePort();
    this.emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    this.emulator = spawnNode('emulator', ENTRY.emulator, {
      EMULATOR_PORT: String(emulatorPort),
      ALIBABA_CLOUD_ACCESS_KEY_ID: CRASH_KEY.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: CRASH_KEY.secret,
      EMULATOR_URLS_PER_DAY: '1000000000',
      EMULATOR_DIRS_PER_DAY: '1000000000',
      EMULATOR_LOG_LEVEL: 'warn',
      ...this.options.emulatorEnv,
    });
    this.intakePort = await freePort();
    await Promise.all([
      waitForHttp(`${this.emulatorUrl}/_emulator/health`, 15_000, this.emulator),
      this.startIntake(),
    ]);
    for (let i = 0; i < this.options.workers; i += 1) await this.startWorker(false);
    await Promise.all(this.workers.map((worker) => this.waitForWorker(worker)));
  }

  async startRedis(): Promise<void> {
    this.redis = await startRedisServer({
      appendOnly: this.options.appendOnly ?? false,
      dir: this.redisDir,
      port: this.redisPort,
    });
    track(this.redis.process.pid, 'redis-server');
    this.redis.process.once('exit', () => untrack(this.redis.process.pid));
    if (this.options.appendfsync) {
      const client = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
      await client.config('SET', 'appendfsync', this.options.appendfsync);
      client.disconnect();
    }
  }

  /** kill -9 of redis-server (nothing flushed beyond what it already wrote), or a clean SHUTDOWN. */
  async stopRedis(how: 'SIGKILL' | 'SHUTDOWN'): Promise<void> {
    this.admin?.disconnect();
    this.admin = undefined;
    const child = this.redis.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (how === 'SIGKILL') child.kill('SIGKILL');
    else {
      const client = new Redis(this.redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      await client.shutdown('SAVE').catch(() => undefined);
      client.disconnect();
    }
    // A SHUTDOWN that Redis refuses (it answers an error and stays up) must not hang the test.
    const fallback = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(fallback);
  }

  async startIntake(): Promise<Proc> {
    const proc = spawnNode('intake', ENTRY.intake, {
      REDIS_URL: this.redisUrl,
      REFRESHQ_NAMESPACE: NAMESPACE,
      PORT: String(this.intakePort),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'warn',
      ...this.options.intakeEnv,
    });
    this.intake = proc;
    await waitForHttp(`${this.intakeUrl}/readyz`, 20_000, proc);
    return proc;
  }

  async startWorker(wait = true, extraEnv: Record<string, string> = {}): Promise<Proc> {
    const metricsPort = await freePort();
    this.workerCount += 1;
    const proc = spawnNode(`worker-${this.workerCount}`, ENTRY.worker, {
      REDIS_URL: this.redisUrl,
      REFRESHQ_NAMESPACE: NAMESPACE,
      VOD_ENDPOINT: this.emulatorUrl,
      ALIBABA_CLOUD_ACCESS_KEY_ID: CRASH_KEY.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: CRASH_KEY.secret,
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'warn',
      // These tests are about crashes, not quota: budgets far above anything they submit (README's variables).
      QUOTA_URLS_PER_DAY: '1000000000',
      QUOTA_URLS_PER_MINUTE: '1000000000',
      QUOTA_DIRS_PER_DAY: '1000000000',
      QUOTA_DIRS_PER_MINUTE: '1000000000',
      // The upstream call-rate limiter of the quota governor (#5), where the build has one.
      QUOTA_CALLS_PER_SECOND: '1000',
      ...this.options.workerEnv,
      ...extraEnv,
    });
    this.metricsPorts.set(proc, metricsPort);
    this.workers.push(proc);
    this.allWorkers.push(proc);
    if (wait) await this.waitForWorker(proc);
    return proc;
  }

  async waitForWorker(proc: Proc, timeoutMs = 20_000): Promise<void> {
    await waitForHttp(this.workerHealthUrl(proc), timeoutMs, proc);
  }

  workerHealthUrl(proc: Proc): string {
    return `http://127.0.0.1:${this.metricsPorts.get(proc)}/healthz`;
  }

  async killWorker(proc: Proc): Promise<void> {
    await proc.kill9();
    this.workers = this.workers.filter((worker) => worker !== proc);
  }

  /** A Redis client for the test's own checks (reconnects across restarts). */
  adminRedis(): Redis {
    if (!this.admin) {
      this.admin = new Redis(this.redisUrl, {
        maxRetriesPerRequest: 3,
        retryStrategy: (times) => Math.min(times * 100, 1000),
      });
      this.admin.on('error', () => {});
    }
    return this.admin;
  }

  /** Nothing waiting anywhere: no intake job waiting/active/delayed, no pending path, no leased batch. */
  async idle(): Promise<{ idle: boolean; jobs: number; pending: number; inflight: number }> {
    const redis = this.adminRedis();
    this.queue ??= new Queue('intake', {
      connection: {
        host: '127.0.0.1',
        port: this.redisPort,
        maxRetriesPerRequest: null,
        retryStrategy: (times: number) => Math.min(times * 100, 1000),
      },
      prefix: `{${NAMESPACE}}`,
    });
    if (this.queue.listenerCount('error') === 0) this.queue.on('error', () => {});
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
    const jobs = Object.values(counts).reduce((sum, n) => sum + n, 0);
    let pending = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${NAMESPACE}}:pending:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) pending += await redis.zcard(key);
    } while (cursor !== '0');
    const inflight = await redis.zcard(`{${NAMESPACE}}:inflight`);
    return { idle: jobs === 0 && pending === 0 && inflight === 0, jobs, pending, inflight };
  }

  /**
   * Where a File path is in the pool: pending (its domain's set), linked to requests, with meta,
   * or inside a claimed batch. `gone` when it is in none of them.
   */
  async whereIs(
    path: string,
  ): Promise<{ pending: boolean; links: boolean; meta: boolean; inBatch: boolean; gone: boolean }> {
    const redis = this.adminRedis();
    const domain = new URL(path).hostname;
    const keys = keyspace(NAMESPACE);
    let pending = false;
    for (const lane of ['high', 'normal', 'low'] as const)
      if ((await redis.zscore(keys.pending('File', lane, domain), path)) !== null) pending = true;
    const rawMeta = await redis.hget(keys.pendingMeta('File'), path);
    const meta = rawMeta !== null;
    // The request that pended it is its meta's `r`; those that joined later are in its set.
    const links =
      (meta && (JSON.parse(rawMeta) as { r?: string }).r !== undefined) ||
      (await redis.exists(keys.links('File', path))) === 1;
    let inBatch = false;
    for (const key of await redis.keys(`{${NAMESPACE}}:batch:*`)) {
      const raw = await redis.get(key);
      const items = raw ? ((JSON.parse(raw) as { items?: { path: string }[] }).items ?? []) : [];
      if (Array.isArray(items) && items.some((item) => item.path === path)) inBatch = true;
    }
    return { pending, links, meta, inBatch, gone: !pending && !links && !meta && !inBatch };
  }

  /** Stops everything this stack started, whatever state it is in. */
  async stop(): Promise<void> {
    if (process.env.CRASH_SHOW_LOGS === '1') {
      for (const proc of [this.emulator, this.intake, ...this.allWorkers]) {
        if (proc)
          process.stdout.write(
            `\n---- last lines of ${proc.name} (pid ${proc.pid}, ${proc.alive ? 'alive' : `exited ${JSON.stringify(proc.exit)}`}) ----\n${proc.logTail(40)}\n`,
          );
      }
    }
    this.admin?.disconnect();
    if (this.queue) await Promise.race([this.queue.close().catch(() => undefined), sleep(2000)]);
    const procs = [this.intake, ...this.allWorkers, this.emulator].filter(
      (proc): proc is Proc => proc !== undefined,
    );
    await Promise.all(procs.map((proc) => proc.kill9()));
    if (this.redis) {
      const child = this.redis.process;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (this.redisDir) rmSync(this.redisDir, { recursive: true, force: true });
  }
}
