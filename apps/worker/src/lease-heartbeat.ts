import { Periodic } from './periodic.js';

/** A holder renews its lease this many times per lease, so one late or failed renewal costs nothing. */
export const RENEWALS_PER_LEASE = 3;

/**
 * Keeps a lease alive while its holder works: `renew` runs every third of the lease. When it
 * answers false the lease is gone (taken back after it ran out) and `signal` aborts, so the
 * holder makes no further call for that work. A renewal that fails (Redis away) changes nothing:
 * the lease may still run out, and then the work comes back to the pool as it did before
 * leases were renewed.
 */
export class LeaseHeartbeat {
  private readonly loop: Periodic;
  private readonly lost = new AbortController();

  constructor(leaseMs: number, renew: () => Promise<boolean>, onError: (error: unknown) => void) {
    this.loop = new Periodic(Math.max(1, Math.floor(leaseMs / RENEWALS_PER_LEASE)), async () => {
      try {
        if (!(await renew())) this.lost.abort();
      } catch (error) {
        onError(error);
      }
    });
  }

  /** Aborted once the lease is known to be gone. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  start(): this {
    this.loop.start();
    return this;
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
