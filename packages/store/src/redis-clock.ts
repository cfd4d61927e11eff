import type { Redis } from 'ioredis';

/**
 * Redis' clock, read locally: the offset to Redis TIME is measured (half the round trip
 * corrected) at start and then every `resyncMs`, so stamping a request costs no round trip.
 * Every time refreshq compares across processes is on this clock.
 */
export class RedisClock {
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis) {}

  async sync(): Promise<void> {
    const before = Date.now();
    const [seconds, micros] = await this.redis.time();
    const after = Date.now();
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
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

  now(): number {
    return Math.round(Date.now() + this.offsetMs);
  }
}
