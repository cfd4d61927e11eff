import type { HostPort, RedisTarget } from '@refreshq/config';
import { Cluster, type ClusterOptions, Redis as IORedis, type RedisOptions } from 'ioredis';

/** A client of one Redis server (or a Sentinel-watched master), or of a Redis Cluster. */
export type Redis = IORedis | Cluster;

export type ConnectionRole =
  /** Request/response work (intake, status reads): fail fast when Redis is away, never queue blindly. */
  | 'client'
  /** Long-lived consumers (BullMQ workers, dispatch loops): wait for Redis to come back. */
  | 'consumer';

export interface RedisConnectionOptions {
  /** Rejects a command not answered within this time (a frozen Redis) instead of waiting. */
  commandTimeoutMs?: number;
  /**
   * Commands issued in the same tick leave in one write (ioredis enableAutoPipelining): many
   * concurrent requests share round trips. Not for connections that block (BullMQ's worker).
   */
  autoPipelining?: boolean;
}

const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5000);

/**
 * The one place a Redis client is made, for every process and role: a URL (one server, as in
 * tests and benchmarks) or the target the environment describes (REDIS_URL, REDIS_CLUSTER_NODES,
 * REDIS_SENTINELS; see @refreshq/config redis-target.ts).
 */
export function createRedis(
  target: RedisTarget | string,
  role: ConnectionRole,
  name: string,
  { commandTimeoutMs, autoPipelining = false }: RedisConnectionOptions = {},
): Redis {
  const resolved: RedisTarget =
    typeof target === 'string'
      ? { mode: 'standalone', url: target, tls: false, waitReplicas: 0, waitTimeoutMs: 1000 }
      : target;
  const perConnection: RedisOptions = {
    connectionName: `refreshq:${name}`,
    maxRetriesPerRequest: role === 'consumer' ? null : 1,
    ...(commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs }),
    ...(resolved.username === undefined ? {} : { username: resolved.username }),
    ...(resolved.password === undefined ? {} : { password: resolved.password }),
  };
  const redis = connect(resolved, perConnection, role, autoPipelining);
  acks.set(redis, new ReplicaAcks(redis, resolved.waitReplicas, resolved.waitTimeoutMs));
  return redis;
}

function connect(
  target: RedisTarget,
  perConnection: RedisOptions,
  role: ConnectionRole,
  autoPipelining: boolean,
): Redis {
  const tls = target.tls ? { tls: {} } : {};
  const common = { enableOfflineQueue: role === 'consumer', enableAutoPipelining: autoPipelining };
  if (target.mode === 'cluster') {
    const options: ClusterOptions = {
      ...common,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...perConnection, ...tls },
      // With TLS the certificate names a host: keep names, do not swap them for addresses.
      ...(target.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    };
    return new Cluster(nodes(target.nodes), options);
  }
  if (target.mode === 'sentinel') {
    return new IORedis({
      ...perConnection,
      ...common,
      ...tls,
      retryStrategy,
      sentinels: nodes(target.sentinels),
      name: target.name,
      db: target.db,
      enableTLSForSentinelMode: target.tls,
      ...(target.tls ? { sentinelTLS: {} } : {}),
      ...(target.sentinelUsername === undefined ? {} : { sentinelUsername: target.sentinelUsername }),
      ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
      sentinelRetryStrategy: retryStrategy,
      // Learns of a failover from the sentinels' +switch-master, not only when the old master drops.
      failoverDetector: true,
    });
  }
  return new IORedis(target.url, { ...perConnection, ...common, retryStrategy, lazyConnect: false });
}

const nodes = (list: readonly HostPort[]) => list.map(({ host, port }) => ({ host, port }));

export const isCluster = (redis: Redis): redis is Cluster => (redis as Cluster).isCluster === true;

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitUntilReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

export interface ReplicaAck {
  /** Replicas the target asks for (REDIS_WAIT_REPLICAS). */
  wanted: number;
  /** Replicas that confirmed (at most `wanted` is waited for). */
  acked: number;
}

/** Fewer replicas than REDIS_WAIT_REPLICAS confirmed a write within REDIS_WAIT_TIMEOUT_MS. */
export class ReplicationShortfall extends Error {
  constructor(readonly ack: ReplicaAck) {
    super(`only ${ack.acked} of ${ack.wanted} Redis replicas confirmed the write in time`);
    this.name = 'ReplicationShortfall';
  }
}

const acks = new WeakMap<Redis, ReplicaAcks>();

/**
 * Resolves once the replicas the target asks for (REDIS_WAIT_REPLICAS) hold every write this
 * connection made before the call: at once when it asks for none. `routeKey` is any key of the
 * namespace, so that on a cluster the WAIT reaches the master of the namespace's slot.
 */
export function replicated(redis: Redis, routeKey: string): Promise<ReplicaAck> {
  return acks.get(redis)?.wait(routeKey) ?? Promise.resolve({ wanted: 0, acked: 0 });
}

/** As `replicated`, but a shortfall rejects with ReplicationShortfall. */
export async function requireReplicas(redis: Redis, routeKey: string): Promise<void> {
  const ack = await replicated(redis, routeKey);
  if (ack.acked < ack.wanted) throw new ReplicationShortfall(ack);
}

/**
 * WAIT blocks the connection it is sent on, and covers every write that connection made before
 * it. So callers share WAITs: at most one is in flight, and everyone who asks while it is
 * answered shares the next one. Many concurrent requests cost one WAIT, and a missing replica
 * costs each caller at most two timeouts instead of a queue of them.
 */
class ReplicaAcks {
  private inFlight: Promise<ReplicaAck> | undefined;
  private queued: Promise<ReplicaAck> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly wanted: number,
    private readonly timeoutMs: number,
  ) {}

  wait(routeKey: string): Promise<ReplicaAck> {
    if (this.wanted === 0) return Promise.resolve({ wanted: 0, acked: 0 });
    if (this.queued) return this.queued;
    if (!this.inFlight) return this.start(routeKey);
    const after = this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start(routeKey);
      });
    this.queued = after;
    return after;
  }

  private start(routeKey: string): Promise<ReplicaAck> {
    const sent = this.send(routeKey).then((acked) => ({ wanted: this.wanted, acked }));
    const current = sent.finally(() => {
      if (this.inFlight === current) this.inFlight = undefined;
    });
    this.inFlight = current;
    return current;
  }

  private async send(routeKey: string): Promise<number> {
    if (!isCluster(this.redis)) return Number(await this.redis.wait(this.wanted, this.timeoutMs));
    // A keyless WAIT would go to any node; in a pipeline it goes with the key, to the slot's master.
    const replies =
      (await this.redis.pipeline().exists(routeKey).wait(this.wanted, this.timeoutMs).exec()) ?? [];
    const [error, acked] = replies[1] ?? [new Error('no reply to WAIT')];
    if (error) throw error;
    return Number(acked);
  }
}
