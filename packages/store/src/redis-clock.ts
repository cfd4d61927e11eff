import type { Clock } from '@refreshq/domain';
import type { Redis } from './redis-connection.js';

/**
 * Redis' clock, the one every time refreshq compares across processes is on, and the only code
 * that turns a Redis `TIME` reply into epoch ms (the Lua scripts read it with lib/clock.lua).
 * `now()` reads it locally: the offset to Redis TIME is measured (half the round trip corrected)
 * at start and then every `resyncMs`, so stamping a request costs no round trip. `read()` asks.
 */
export class RedisClock implements Clock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis) {}

  /** Epoch ms of a `TIME` reply ([seconds, microseconds]), e.g. one read in a pipeline. */
  static fromTime(reply: unknown): number {
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error(`not a Redis TIME reply: ${String(reply)}`);
    const [seconds, micros] = reply as [string | number, string | number];
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Redis' time now, exactly: one round trip. */
  async read(): Promise<number> {
    return RedisClock.fromTime(await this.redis.time());
  }

  async sync(): Promise<void> {
    const before = Date.now();
    const redisMs = await this.read();
    const after = Date.now();
    this.offsetMs = redisMs - (before + after) / 2;
  }

  async start(resyncMs = 30_000): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync().catch(() => {}), resyncMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Redis' time estimated locally from the last measured offset (no round trip). */
  now(): number {
    return Math.round(Date.now() + this.offsetMs);
  }
}
