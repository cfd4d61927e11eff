import { createHash } from 'node:crypto';
import type { Redis } from './redis-connection.js';
import type { Keyspace } from './keyspace.js';
import { claimIdempotencyKey } from './script-calls.js';

export interface IdempotencyRecord {
  requestId: string;
  /** Digest of the normalised request, to refuse a reused key with another body. */
  fingerprint: string;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** Binds Idempotency-Key values (scoped per caller) to the first request that used them. */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
  ) {}

  /** Returns the record bound before, or undefined when `candidate` is now bound. */
  claim(scope: string, key: string, candidate: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    const digest = createHash('sha256').update(scope).update('\0').update(key).digest('hex');
    return claimIdempotencyKey(this.redis, this.keys, { digest, candidate, ttlSeconds: this.ttlSeconds });
  }
}
