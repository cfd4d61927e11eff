import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type RunningRedis, startRedisServer } from './redis-server-process.js';

export interface RunningSentinelSetup {
  /** The name the sentinels monitor the master under (REDIS_SENTINEL_NAME). */
  name: string;
  /** Every sentinel as `127.0.0.1:port`, comma-separated: a value for REDIS_SENTINELS. */
  sentinels: string;
  /** The data nodes, the first one the master at start. */
  servers: RunningRedis[];
  /** The port of the master as the sentinels see it now. */
  masterPort(): Promise<number>;
  /** Resolves once the sentinels name a master other than `formerPort` and it accepts writes. */
  waitForNewMaster(formerPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Replicas of the first master. */
  replicas?: number;
  /** down-after-milliseconds: how long a silent master takes to be failed over. */
  downAfterMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask<T>(port: number, question: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/**
 * A master, its replicas and one sentinel (quorum 1) on loopback, in a temporary folder deleted
 * on stop. One sentinel is enough to fail over; a deployment runs three or more.
 */
export async function startRedisSentinel(options: SentinelOptions = {}): Promise<RunningSentinelSetup> {
  const name = 'refreshq-test';
  const root = mkdtempSync(join(tmpdir(), 'refreshq-sentinel-'));
  const servers: RunningRedis[] = [];
  let sentinel: RunningRedis | undefined;
  const replication = ['--repl-diskless-sync-delay', '0'];
  const setup: RunningSentinelSetup = {
    name,
    sentinels: '',
    servers,
    masterPort: async () => {
      const [, port] = (await ask(sentinel?.port ?? 0, (client) =>
        client.call('SENTINEL', 'get-master-addr-by-name', name),
      )) as [string, string];
      return Number(port);
    },
    waitForNewMaster: async (formerPort, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const port = await setup.masterPort();
          if (port !== formerPort) {
            const role = await ask(port, (client) => client.info('replication'));
            if (/role:master/.test(role)) return port;
          }
        } catch {
          // not yet
        }
        if (Date.now() > deadline) throw new Error(`no new master within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop: async () => {
      await Promise.all([...servers, ...(sentinel ? [sentinel] : [])].map((server) => server.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    const master = await startRedisServer({
      dir: mkdtempSync(join(root, 'master-')),
      extraArgs: replication,
    });
    servers.push(master);
    for (let i = 0; i < (options.replicas ?? 1); i += 1) {
      servers.push(
        await startRedisServer({
          dir: mkdtempSync(join(root, 'replica-')),
          extraArgs: [...replication, '--replicaof', '127.0.0.1', String(master.port)],
        }),
      );
    }
    const sentinelPort = await freePort();
    const dir = mkdtempSync(join(root, 'sentinel-'));
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinel = await startRedisServer({ port: sentinelPort, dir, sentinelConfig: config });
    setup.sentinels = `127.0.0.1:${sentinelPort}`;
    // Ready once the sentinel knows every replica and each is linked (a failover needs one in sync).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const known = await ask(sentinelPort, (client) => client.call('SENTINEL', 'replicas', name)).catch(
        () => [],
      );
      const linked = await Promise.all(
        servers
          .slice(1)
          .map((server) =>
            ask(server.port, (client) => client.info('replication')).then((info) =>
              /master_link_status:up/.test(info),
            ),
          ),
      );
      if ((known as unknown[]).length === servers.length - 1 && linked.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error('the sentinel setup did not become ready within 30 s');
      await sleep(200);
    }
    return setup;
  } catch (error) {
    await setup.stop();
    throw error;
  }
}
