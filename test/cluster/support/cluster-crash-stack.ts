import { type RunningCluster, startRedisCluster } from '@refreshq/test-redis';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { CrashStack, NAMESPACE, type StackOptions } from '../../crash/support/crash-stack.js';
import { sleep, track } from '../../crash/support/processes.js';

/**
 * The crash stack (emulator, intake and workers as real processes from the build) on a Redis
 * Cluster of 3 masters with a replica each instead of one redis-server. Every process gets only
 * REDIS_CLUSTER_NODES (and REDIS_WAIT_REPLICAS=1: a 202 and a claimed batch wait for a replica).
 */
export class ClusterCrashStack extends CrashStack {
  cluster!: RunningCluster;
  private clusterAdmin: Cluster | undefined;
  private clusterQueue: Queue | undefined;

  constructor(options: StackOptions) {
    super(options);
  }

  /** The slot all of the namespace's keys hash to. */
  slot(): Promise<number> {
    return this.cluster.slotOf(`{${NAMESPACE}}`);
  }

  override async startRedis(): Promise<void> {
    this.cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
    for (const node of this.cluster.nodes) track(node.server.process.pid, `redis-cluster-${node.port}`);
    const env = { REDIS_CLUSTER_NODES: this.cluster.seeds, REDIS_WAIT_REPLICAS: '1' };
    this.options.intakeEnv = { ...env, ...this.options.intakeEnv };
    this.options.workerEnv = { ...env, ...this.options.workerEnv };
  }

  override adminRedis(): never {
    throw new Error('on a cluster, use clusterClient()');
  }

  clusterClient(): Cluster {
    if (!this.clusterAdmin) {
      this.clusterAdmin = new Cluster(
        this.cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
        { clusterRetryStrategy: (times) => Math.min(times * 100, 1000) },
      );
      this.clusterAdmin.on('error', () => {});
    }
    return this.clusterAdmin;
  }

  /** Nothing waiting: no intake job waiting/active/delayed, no pending path, no leased batch. */
  override async idle(): Promise<{ idle: boolean; jobs: number; pending: number; inflight: number }> {
    const redis = this.clusterClient();
    this.clusterQueue ??= new Queue('intake', { connection: redis, prefix: `{${NAMESPACE}}` });
    if (this.clusterQueue.listenerCount('error') === 0) this.clusterQueue.on('error', () => {});
    const counts = await this.clusterQueue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'paused',
    );
    const jobs = Object.values(counts).reduce((sum, n) => sum + n, 0);
    let pending = 0;
    for (const key of await this.keys(`{${NAMESPACE}}:pending:*`)) pending += await redis.zcard(key);
    const inflight = await redis.zcard(`{${NAMESPACE}}:inflight`);
    return { idle: jobs === 0 && pending === 0 && inflight === 0, jobs, pending, inflight };
  }

  /** Keys matching `pattern` on every master (only the namespace slot's master has any). */
  async keys(pattern: string): Promise<string[]> {
    const found: string[] = [];
    for (const node of this.clusterClient().nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
    }
    return found;
  }

  override async stop(): Promise<void> {
    if (this.clusterQueue)
      await Promise.race([this.clusterQueue.close().catch(() => undefined), sleep(2000)]);
    this.clusterAdmin?.disconnect();
    await super.stop();
    await this.cluster?.stop();
  }
}
