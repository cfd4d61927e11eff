import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import type { RedisClock } from './redis-clock.js';
import { claimDue, renewDue } from './script-calls.js';

export interface CallbackRecord {
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus?: number;
  at?: number;
}

/**
 * Completion callbacks due: finish-batch-7.lua and finish-task-3.lua put a request in
 * `{ns}:callbacks-due` when its last path ends; senders claim them leased and record the result.
 */
export class CallbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly clock: RedisClock,
  ) {}

  claimDue(max: number, leaseMs: number): Promise<string[]> {
    return claimDue(this.redis, this.keys, { schedule: 'callbacksDue', max, leaseMs });
  }

  /** Leases again, for `leaseMs`, the callbacks this worker is still sending (its heartbeat). */
  renew(requestIds: readonly string[], leaseMs: number): Promise<number> {
    if (requestIds.length === 0) return Promise.resolve(0);
    return renewDue(this.redis, this.keys, { schedule: 'callbacksDue', ids: requestIds, leaseMs });
  }

  async record(requestId: string): Promise<CallbackRecord> {
    const raw = await this.redis.hget(this.keys.request(requestId), 'callback');
    return raw === null ? { state: 'pending', attempts: 0 } : (JSON.parse(raw) as CallbackRecord);
  }

  /** Delivered or given up: off the schedule, with the result kept on the request. */
  async finish(requestId: string, record: CallbackRecord): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.callbacksDue, requestId)
      .hset(this.keys.request(requestId), 'callback', JSON.stringify(record))
      .exec();
  }

  async retryLater(requestId: string, record: CallbackRecord, delayMs: number): Promise<void> {
    const now = await this.clock.read();
    await this.redis
      .multi()
      .zadd(this.keys.callbacksDue, now + delayMs, requestId)
      .hset(this.keys.request(requestId), 'callback', JSON.stringify(record))
      .exec();
  }

  async forget(requestId: string): Promise<void> {
    await this.redis.zrem(this.keys.callbacksDue, requestId);
  }
}
