import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A key namespace no other test uses, so tests on one Redis never share state. */
export function testNamespace(label = 't'): string {
  return `test-${label}-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key of a namespace (its hash-tag prefix `{ns}`). */
export async function dropNamespace(url: string, namespace: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${namespace}}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
