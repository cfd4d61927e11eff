import { describe, expect, it } from 'vitest';
import { nextTaskPollMs, taskGiveUpAt, UPSTREAM_LOOKUP_WINDOW_MS } from '../src/task-deadline.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const HOUR = 3_600_000;

describe('taskGiveUpAt', () => {
  it('is the deadline after the call while that falls inside the upstream window', () => {
    expect(taskGiveUpAt(T0, HOUR)).toEqual({ at: T0 + HOUR, reason: 'deadline' });
  });

  it('never later than the look-up window allows (a minute kept for the last look)', () => {
    expect(taskGiveUpAt(T0, UPSTREAM_LOOKUP_WINDOW_MS)).toEqual({
      at: T0 + UPSTREAM_LOOKUP_WINDOW_MS - 60_000,
      reason: 'lookup_window',
    });
  });
});

describe('nextTaskPollMs', () => {
  const settings = { minPollMs: 2000, maxPollMs: 60_000 };

  it('looks at young tasks after half their age, not sooner than the minimum', () => {
    expect(nextTaskPollMs(T0 + 1000, T0, T0 + HOUR, settings)).toBe(2000);
    expect(nextTaskPollMs(T0 + 30_000, T0, T0 + HOUR, settings)).toBe(15_000);
  });

  it('looks at old tasks at most every maxPollMs', () => {
    expect(nextTaskPollMs(T0 + 20 * 60_000, T0, T0 + HOUR, settings)).toBe(60_000);
  });

  it('never past the give-up moment, so the last look is on time', () => {
    expect(nextTaskPollMs(T0 + HOUR - 5000, T0, T0 + HOUR, settings)).toBe(5000);
    expect(nextTaskPollMs(T0 + 1500, T0, T0 + 2000, settings)).toBe(500);
    expect(nextTaskPollMs(T0 + 3000, T0, T0 + 2000, settings)).toBe(0);
  });
});
