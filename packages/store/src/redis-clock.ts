import type { Clock } from '@refreshq/domain';
import { isCluster, type Redis } from './redis-connection.js';

/**
 * Redis' clock, the one every time refreshq compares across processes is on, and the only code
 * that turns a Redis `TIME` reply into epoch ms (the Lua scripts read it with lib/clock.lua).
 * `now()` reads it locally: the offset to Redis TIME is measured (half the round trip corrected)
 * at start and then every `resyncMs`, so stamping a request costs no round trip. `read()` asks.
 */
export class RedisClock implements Clock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * On a cluster, `routeKey` (any key of the namespace) makes `TIME` the clock of the slot's
   * master, the one its Lua scripts read; without it a keyless `TIME` goes to any node.
   */
  constructor(
    private readonly redis: Redis,
    private readonly routeKey?: string,
  ) {}

  /** Epoch ms of a `TIME` reply ([seconds, microseconds]), e.g. one read in a pipeline. */
  static fromTime(reply: unknown): number {
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error(`not a Redis TIME reply: ${String(reply)}`);
    const [seconds, micros] = reply as [string | number, string | number];
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Redis' time now, exactly: one round trip. */
  async read(): Promise<number> {
    if (this.routeKey === undefined || !isCluster(this.redis))
      return RedisClock.fromTime(await this.redis.time());
    const [, [error, time] = []] = (await this.redis.pipeline().exists(this.routeKey).time().exec()) ?? [];
    if (error) throw error;
    return RedisClock.fromTime(time);
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
