import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../src/load-env.js';
import { describeRedisTarget, parseHostPort, redisEnv, redisSecrets, withRedisTarget } from '../src/index.js';

const schema = z.object(redisEnv).transform(withRedisTarget);
const target = (env: Record<string, string>) => parseEnv(schema, env).redis;

function problems(env: Record<string, string>): string[] {
  try {
    parseEnv(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the Redis target from the environment', () => {
  it('is one server by default, waiting for no replica', () => {
    expect(target({})).toEqual({
      mode: 'standalone',
      url: 'redis://127.0.0.1:6379',
      tls: false,
      waitReplicas: 0,
      waitTimeoutMs: 1000,
    });
  });

  it('is a cluster from REDIS_CLUSTER_NODES, with the user, password and TLS of REDIS_URL', () => {
    expect(
      target({
        REDIS_URL: 'rediss://app:p%40ss@ignored.example:1',
        REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b ,[::1]:7002',
        REDIS_WAIT_REPLICAS: '1',
      }),
    ).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
      waitReplicas: 1,
      waitTimeoutMs: 1000,
    });
  });

  it('is a sentinel setup from REDIS_SENTINELS, the master name defaulting to mymaster', () => {
    const sentinel = target({
      REDIS_URL: 'redis://:secret@x/2',
      REDIS_SENTINELS: 's1:26380,s2',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(sentinel).toMatchObject({
      mode: 'sentinel',
      name: 'mymaster',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      db: 2,
      password: 'secret',
      sentinelPassword: 'sentinel-secret',
      tls: false,
    });
    expect(redisSecrets(sentinel)).toEqual(['secret', 'sentinel-secret']);
    expect(describeRedisTarget(sentinel)).toBe('sentinel mymaster via s1:26380,s2:26379');
    expect(target({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'cache-a' })).toMatchObject({
      name: 'cache-a',
    });
  });

  it('refuses what cannot work, naming the variable and never a value', () => {
    expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' })).toEqual([
      'REDIS_CLUSTER_NODES: set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both',
    ]);
    expect(problems({ REDIS_URL: 'redis://:hunter2@h/3', REDIS_CLUSTER_NODES: 'a:1' })).toEqual([
      'REDIS_URL: Redis Cluster has only database 0; drop the /<db> part',
    ]);
    const bad = problems({ REDIS_CLUSTER_NODES: 'a:1,http://b:2,c:99999', REDIS_WAIT_REPLICAS: '-1' });
    expect(
      bad.some((line) =>
        line.startsWith('REDIS_CLUSTER_NODES.1: each REDIS_CLUSTER_NODES entry must be host:port'),
      ),
    ).toBe(true);
    expect(bad.some((line) => line.startsWith('REDIS_CLUSTER_NODES.2:'))).toBe(true);
    expect(bad.some((line) => line.startsWith('REDIS_WAIT_REPLICAS:'))).toBe(true);
    expect(JSON.stringify(bad)).not.toContain('http://b');
  });

  it('describes a target by hosts alone', () => {
    expect(describeRedisTarget(target({ REDIS_URL: 'redis://u:pw@cache:6380' }))).toBe('cache:6380');
    expect(describeRedisTarget(target({ REDIS_CLUSTER_NODES: 'a:1,b:2' }))).toBe('cluster a:1,b:2');
    expect(parseHostPort('[fe80::1]', 6379)).toEqual({ host: 'fe80::1', port: 6379 });
    expect(parseHostPort('a b:1', 6379)).toBeUndefined();
  });
});
