import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  port?: number;
  /** Data folder; a fresh temporary one (deleted on stop) when not given. */
  dir?: string;
  /** Append-only file on (for restart tests); off by default. */
  appendOnly?: boolean;
  /** More `--name value` arguments (cluster mode, replication). */
  extraArgs?: readonly string[];
  /** Run as a sentinel (`redis-server <config> --sentinel`); the config file must be writable. */
  sentinelConfig?: string;
}

export interface RunningRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function redisServerOnPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

/** Starts a private redis-server bound to 127.0.0.1, on a free port unless one is given. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningRedis> {
  const binary = redisServerOnPath();
  if (!binary) throw new Error('redis-server is not on PATH');
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'refreshq-redis-'));
  const args = [
    ...(options.sentinelConfig ? [options.sentinelConfig, '--sentinel'] : []),
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForPing(url, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${stderr}`);
  }
  return {
    url,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
