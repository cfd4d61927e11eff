import type { Keyspace } from './keyspace.js';
import type { Redis } from './redis-connection.js';

export interface PauseState {
  /** When submitting was paused (epoch ms, Redis clock). */
  since: number;
  reason?: string;
}

/**
 * An operator's stop for submitting, shared by every worker (POST /v1/admin/pause): while the
 * key exists no dispatcher claims a batch; intake keeps accepting and admission keeps pooling.
 * Unlike the breaker it has no expiry: it lasts until someone resumes.
 */
export class SubmitPause {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** Pauses, or keeps the pause already in force (its time and reason); returns the one in force. */
  async pause(state: PauseState): Promise<PauseState> {
    const set = await this.redis.set(this.keys.paused, JSON.stringify(state), 'NX');
    if (set === 'OK') return state;
    return (await this.read()) ?? state;
  }

  /** Resumes; returns the pause that was in force, if any. */
  async resume(): Promise<PauseState | undefined> {
    const raw = await this.redis.getdel(this.keys.paused);
    return raw === null ? undefined : parse(raw);
  }

  async read(): Promise<PauseState | undefined> {
    const raw = await this.redis.get(this.keys.paused);
    return raw === null ? undefined : parse(raw);
  }
}

function parse(raw: string): PauseState {
  try {
    const value = JSON.parse(raw) as Partial<PauseState>;
    return {
      since: Number(value.since ?? 0),
      ...(typeof value.reason === 'string' ? { reason: value.reason } : {}),
    };
  } catch {
    // Set by hand (redis-cli SET {ns}:paused 1): still a pause.
    return { since: 0 };
  }
}
