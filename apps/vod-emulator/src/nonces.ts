/**
 * Remembers `SignatureNonce`s for the staleness window so a replayed request is refused.
 * Memory is bounded: entries expire with the window, and past `maxEntries` the oldest go first
 * (a replay of an evicted nonce would then pass; the bound is set far above any test's traffic).
 */
export class NonceStore {
  /** key → expiry (wall ms). Map keeps insertion order, and expiries grow with insertion. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 200_000,
  ) {}

  /** True if the nonce was fresh (and is now remembered); false if it was used within the window. */
  use(accessKeyId: string, nonce: string, nowMs: number): boolean {
    this.prune(nowMs);
    const key = `${accessKeyId}\u0000${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, nowMs + this.windowMs);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }

  private prune(nowMs: number): void {
    for (const [key, expiry] of this.seen) {
      if (expiry > nowMs) break;
      this.seen.delete(key);
    }
  }
}
