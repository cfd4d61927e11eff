import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type RunningRedis, startRedisServer } from './redis-server-process.js';

export interface ClusterNode {
  port: number;
  /** The cluster bus port (set explicitly: port + 10000 may be taken or past 65535). */
  busPort: number;
  dir: string;
  server: RunningRedis;
}

export interface NodeView {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId: string | undefined;
  failed: boolean;
  slots: [number, number][];
}

export interface RunningCluster {
  /** Every node as `127.0.0.1:port`, comma-separated: a value for REDIS_CLUSTER_NODES. */
  seeds: string;
  nodes: ClusterNode[];
  /** The hash slot of a key (CLUSTER KEYSLOT, asked of Redis itself). */
  slotOf(key: string): Promise<number>;
  /** The cluster as one live node sees it now (CLUSTER NODES). */
  view(): Promise<NodeView[]>;
  /** The live master serving `slot` now, and its replicas. */
  ownerOf(slot: number): Promise<{ master: ClusterNode; replicas: ClusterNode[] }>;
  /** Resolves once a live master other than `formerPort` serves `slot` and every live node says cluster_state:ok. */
  waitForNewOwner(slot: number, formerPort: number, timeoutMs?: number): Promise<ClusterNode>;
  /** kill -9 of one node. */
  kill(node: ClusterNode): Promise<void>;
  /** Starts a killed node again on its port and data folder (its nodes.conf): it rejoins the cluster. */
  restart(node: ClusterNode): Promise<void>;
  /** Resolves once every live replica is linked to its master and every live node says cluster_state:ok. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over. */
  nodeTimeoutMs?: number;
}

export function redisCliOnPath(): boolean {
  return spawnSync('sh', ['-c', 'command -v redis-cli'], { stdio: 'ignore' }).status === 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function askNode<T>(port: number, ask: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await ask(client);
  } finally {
    client.disconnect();
  }
}

function parseNodes(text: string): NodeView[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.split(' ');
      const port = Number(/:(\d+)@/.exec(address ?? '')?.[1]);
      const flagSet = new Set((flags ?? '').split(','));
      return {
        id: id as string,
        port,
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        failed: flagSet.has('fail') || flagSet.has('fail?'),
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to] = slot.split('-').map(Number);
            return [from as number, (to ?? from) as number] as [number, number];
          }),
      } satisfies NodeView;
    });
}

/**
 * A real Redis Cluster on loopback: `masters` masters with `replicasPerMaster` replicas each
 * (redis-server --cluster-enabled yes, joined by `redis-cli --cluster create`), each node in a
 * temporary folder deleted on stop.
 */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  if (!redisCliOnPath())
    throw new Error('redis-cli is not on PATH (Debian/Ubuntu: apt-get install redis-tools)');
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'refreshq-cluster-'));
  const nodes: ClusterNode[] = [];

  const argsOf = (node: Omit<ClusterNode, 'server'>) => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(node.dir, 'nodes.conf'),
    '--cluster-port',
    String(node.busPort),
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    // A restarted node resyncs at once instead of after the default 5 s.
    '--repl-diskless-sync-delay',
    '0',
  ];
  const startNode = async (node: Omit<ClusterNode, 'server'>) =>
    startRedisServer({ port: node.port, dir: node.dir, extraArgs: argsOf(node) });

  const live = () =>
    nodes.filter((node) => node.server.process.exitCode === null && node.server.process.signalCode === null);
  const byPort = (port: number) => nodes.find((node) => node.port === port);

  const cluster: RunningCluster = {
    seeds: '',
    nodes,
    slotOf: async (key) => {
      const node = live()[0];
      if (!node) throw new Error('no live cluster node');
      return askNode(node.port, async (client) => Number(await client.cluster('KEYSLOT', key)));
    },
    view: async () => {
      for (const node of live()) {
        try {
          return parseNodes(String(await askNode(node.port, (client) => client.cluster('NODES'))));
        } catch {
          // try the next one
        }
      }
      throw new Error('no live cluster node answered CLUSTER NODES');
    },
    ownerOf: async (slot) => {
      const view = await cluster.view();
      const master = view.find(
        (node) =>
          node.role === 'master' &&
          !node.failed &&
          node.slots.some(([from, to]) => slot >= from && slot <= to),
      );
      const node = master && byPort(master.port);
      if (!master || !node) throw new Error(`no live master serves slot ${slot}`);
      const replicaNodes = view
        .filter((other) => other.masterId === master.id && !other.failed)
        .map((other) => byPort(other.port))
        .filter((other): other is ClusterNode => other !== undefined);
      return { master: node, replicas: replicaNodes };
    },
    waitForNewOwner: async (slot, formerPort, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const { master } = await cluster.ownerOf(slot);
          if (master.port !== formerPort && (await allOk(live()))) return master;
        } catch {
          // not yet
        }
        if (Date.now() > deadline)
          throw new Error(`slot ${slot} did not move off port ${formerPort} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    kill: async (node) => {
      const child = node.server.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    restart: async (node) => {
      node.server = await startNode(node);
    },
    waitUntilHealthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await allOk(live())) && (await replicasLinked(live()))) return;
        if (Date.now() > deadline)
          throw new Error(`the cluster did not become healthy within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.server.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    for (let i = 0; i < masters * (1 + replicas); i += 1) {
      const port = await freePort();
      let busPort = await freePort();
      while (busPort === port) busPort = await freePort();
      const spec = { port, busPort, dir: mkdtempSync(join(root, `node-${port}-`)) };
      nodes.push({ ...spec, server: await startNode(spec) });
    }
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
    cluster.seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
    await cluster.waitUntilHealthy();
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function allOk(nodes: readonly ClusterNode[]): Promise<boolean> {
  const states = await Promise.all(
    nodes.map((node) =>
      askNode(node.port, async (client) =>
        /cluster_state:ok/.test(String(await client.cluster('INFO'))),
      ).catch(() => false),
    ),
  );
  return states.every(Boolean);
}

async function replicasLinked(nodes: readonly ClusterNode[]): Promise<boolean> {
  const linked = await Promise.all(
    nodes.map((node) =>
      askNode(node.port, async (client) => {
        const info = await client.info('replication');
        return !/role:slave/.test(info) || /master_link_status:up/.test(info);
      }).catch(() => false),
    ),
  );
  return linked.every(Boolean);
}
