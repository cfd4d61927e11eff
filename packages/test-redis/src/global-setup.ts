import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { redisServerOnPath, startRedisServer } from './redis-server-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

async function startContainer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * One Redis for the whole run: REDIS_URL if set; else a private redis-server on a free port,
 * thrown away after; else a Redis container through testcontainers; else a clear failure.
 * Tests isolate themselves by key namespace, never by flushing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    project.provide('redisUrl', fromEnv);
    return async () => {};
  }
  if (redisServerOnPath()) {
    const server = await startRedisServer();
    project.provide('redisUrl', server.url);
    return () => server.stop();
  }
  try {
    const container = await startContainer();
    project.provide('redisUrl', container.url);
    return container.stop;
  } catch (error) {
    throw new Error(
      'The tests need a real Redis and found none. Do one of:\n' +
        '  - set REDIS_URL=redis://host:port to a Redis 7 the tests may write to (they use their own key namespaces);\n' +
        '  - install redis-server on PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis);\n' +
        '  - run a Docker engine so testcontainers can start redis:7-alpine.\n' +
        `testcontainers said: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
