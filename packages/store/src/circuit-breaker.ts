import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';

/**
 * An account-wide stop for submitting (OperationDenied*), shared by all workers. While the key
 * lives nobody submits; when it expires the next batch is the probe, and a refusal reopens it.
 */
export class CircuitBreaker {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  async open(code: string, probeAfterMs: number): Promise<void> {
    await this.redis.set(this.keys.breaker, code, 'PX', probeAfterMs);
  }

  /** The code that opened it and the ms until the next probe, or undefined when closed. */
  async state(): Promise<{ code: string; remainingMs: number } | undefined> {
    const [code, ttl] = await Promise.all([
      this.redis.get(this.keys.breaker),
      this.redis.pttl(this.keys.breaker),
    ]);
    return code === null || ttl <= 0 ? undefined : { code, remainingMs: ttl };
  }

  /** ms until the next probe, or 0 when closed. */
  async remainingMs(): Promise<number> {
    const ttl = await this.redis.pttl(this.keys.breaker);
    return Math.max(ttl, 0);
  }
}
