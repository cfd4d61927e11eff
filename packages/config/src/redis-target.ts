import { z } from 'zod';

export interface HostPort {
  host: string;
  port: number;
}

/** What every connection to one Redis deployment shares: credentials, TLS, and write durability. */
interface RedisCommon {
  /** From REDIS_URL's user info (percent-decoded). */
  username?: string;
  password?: string;
  /** `rediss:` in REDIS_URL: TLS to every node (and to the sentinels). */
  tls: boolean;
  /** Replicas that must have a write before it counts as durable (the WAIT command); 0 = don't wait. */
  waitReplicas: number;
  waitTimeoutMs: number;
}

/**
 * Where Redis is and how to reach it, from the environment: one server (REDIS_URL), a Redis
 * Cluster (REDIS_CLUSTER_NODES seeds) or a Sentinel-watched master (REDIS_SENTINELS). Made once,
 * by `redisTargetFromEnv`; the store's createRedis makes every client from it.
 */
export type RedisTarget = RedisCommon &
  (
    | { mode: 'standalone'; url: string }
    | { mode: 'cluster'; nodes: HostPort[] }
    | {
        mode: 'sentinel';
        sentinels: HostPort[];
        name: string;
        db: number;
        sentinelUsername?: string;
        sentinelPassword?: string;
      }
  );

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/;

/** `host`, `host:port` or `[v6]:port`; the port defaults to `defaultPort`. Undefined when malformed. */
export function parseHostPort(text: string, defaultPort: number): HostPort | undefined {
  const match = HOST_PORT.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

export interface RedisEnv {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES: string[];
  REDIS_SENTINELS: string[];
  REDIS_SENTINEL_NAME: string;
  REDIS_SENTINEL_USERNAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_WAIT_REPLICAS: number;
  REDIS_WAIT_TIMEOUT_MS: number;
}

export interface RedisProblem {
  variable: keyof RedisEnv;
  message: string;
}

const decoded = (text: string): string | undefined => (text === '' ? undefined : decodeURIComponent(text));

/**
 * The deployment the (already field-validated) variables describe, or the problems of their
 * combination. Messages name variables, never values: REDIS_URL may hold a password.
 */
export function redisTargetFromEnv(env: RedisEnv): { target?: RedisTarget; problems: RedisProblem[] } {
  const problems: RedisProblem[] = [];
  const cluster = env.REDIS_CLUSTER_NODES.length > 0;
  const sentinel = env.REDIS_SENTINELS.length > 0;
  if (cluster && sentinel)
    problems.push({
      variable: 'REDIS_CLUSTER_NODES',
      message: 'set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both',
    });
  const parsed = new URL(env.REDIS_URL);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    problems.push({ variable: 'REDIS_URL', message: 'the database after the host must be a whole number' });
  else if (cluster && db !== 0)
    problems.push({
      variable: 'REDIS_URL',
      message: 'Redis Cluster has only database 0; drop the /<db> part',
    });
  if (problems.length > 0) return { problems };

  const common: RedisCommon = {
    ...(parsed.username ? { username: decoded(parsed.username) } : {}),
    ...(parsed.password ? { password: decoded(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
    waitReplicas: env.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
  };
  const hosts = (entries: string[], defaultPort: number) =>
    entries.map((entry) => parseHostPort(entry, defaultPort) as HostPort);
  if (cluster)
    return { target: { ...common, mode: 'cluster', nodes: hosts(env.REDIS_CLUSTER_NODES, 6379) }, problems };
  if (sentinel)
    return {
      target: {
        ...common,
        mode: 'sentinel',
        sentinels: hosts(env.REDIS_SENTINELS, 26379),
        name: env.REDIS_SENTINEL_NAME,
        db,
        ...(env.REDIS_SENTINEL_USERNAME ? { sentinelUsername: env.REDIS_SENTINEL_USERNAME } : {}),
        ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
      },
      problems,
    };
  return { target: { ...common, mode: 'standalone', url: env.REDIS_URL }, problems };
}

/** Where a target points, for logs: hosts and ports only, never credentials. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: HostPort[]) =>
    nodes.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
  if (target.mode === 'cluster') return `cluster ${list(target.nodes)}`;
  if (target.mode === 'sentinel') return `sentinel ${target.name} via ${list(target.sentinels)}`;
  return new URL(target.url).host;
}

/**
 * For an app's env schema: `.transform(withRedisTarget)` adds `redis`, the target, or reports
 * the combination's problems against the variables they name.
 */
export function withRedisTarget<E extends RedisEnv>(
  env: E,
  ctx: z.RefinementCtx,
): E & { redis: RedisTarget } {
  const { target, problems } = redisTargetFromEnv(env);
  for (const problem of problems)
    ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
  return target ? { ...env, redis: target } : z.NEVER;
}

/** The passwords a target carries, for the loggers' lists of values to scrub. */
export function redisSecrets(target: RedisTarget): string[] {
  const secrets = [target.password, target.mode === 'sentinel' ? target.sentinelPassword : undefined];
  return secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
}
