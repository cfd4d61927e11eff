import { DEFAULT_QUOTA_UTC_OFFSET_MINUTES, nextDayStart, nextMinuteStart } from './calendar.js';

/** The real time source; injectable so tests can pin it. */
export type WallClock = () => number;

export interface ClockSnapshot {
  /** Emulated now, epoch ms. */
  nowMs: number;
  /** Emulated now, ISO 8601 with milliseconds. */
  now: string;
  /** Emulated minus wall time while running; `null` while frozen. */
  offsetMs: number | null;
  frozen: boolean;
}

/**
 * The emulator's one clock. Emulated time = wall time + an offset, or a frozen instant.
 * Quotas, task ids, task progress and the 3-day window all read `now()`. Only the signature
 * `Timestamp` check reads `wallNow()`, because clients sign with their real clock.
 */
export class Clock {
  private offsetMs: number;
  private frozenAt: number | undefined;

  constructor(
    private readonly wall: WallClock = Date.now,
    offsetMs = 0,
  ) {
    this.offsetMs = offsetMs;
  }

  /** Real time as the injected wall clock tells it (never shifted). */
  wallNow(): number {
    return this.wall();
  }

  /** Emulated now. */
  now(): number {
    return this.frozenAt ?? this.wall() + this.offsetMs;
  }

  /** Moves emulated time forward (or back, with a negative `ms`). */
  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  /** Sets emulated now to `ms`, keeping the clock frozen or running as it is. */
  set(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt = ms;
    else this.offsetMs = ms - this.wall();
  }

  /** Jumps to the first millisecond of the next calendar minute. */
  toNextMinute(): void {
    this.set(nextMinuteStart(this.now()));
  }

  /** Jumps to the first millisecond of the next quota day (00:00 in the given offset, UTC+8 by default). */
  toNextDay(offsetMinutes = DEFAULT_QUOTA_UTC_OFFSET_MINUTES): void {
    this.set(nextDayStart(this.now(), offsetMinutes));
  }

  /** Stops emulated time at its current value (or at `atMs`). */
  freeze(atMs?: number): void {
    this.frozenAt = atMs ?? this.now();
  }

  /** Lets emulated time run on from where it stands. */
  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - this.wall();
    this.frozenAt = undefined;
  }

  isFrozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** Back to the start settings. */
  reset(offsetMs: number, frozenAt?: number): void {
    this.offsetMs = offsetMs;
    this.frozenAt = frozenAt;
  }

  snapshot(): ClockSnapshot {
    const nowMs = this.now();
    return {
      nowMs,
      now: new Date(nowMs).toISOString(),
      offsetMs: this.frozenAt === undefined ? this.offsetMs : null,
      frozen: this.frozenAt !== undefined,
    };
  }
}
