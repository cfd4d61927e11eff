import { describe, expect, it } from 'vitest';
import { estimateSubmitAt, type BudgetView } from '../src/quota-estimate.js';

const NOW = Date.parse('2026-11-24T03:00:00Z');
const NEXT_DAY = Date.parse('2026-11-24T16:00:00Z');
const base: BudgetView = {
  now: NOW,
  ahead: 0,
  minuteBudget: 100,
  minuteLeft: 100,
  dayBudget: 2000,
  dayLeft: 2000,
  nextDayStart: NEXT_DAY,
};

describe('estimateSubmitAt', () => {
  it('is now when the budget has room this minute', () => {
    expect(estimateSubmitAt({ ...base, ahead: 100 })).toBe(NOW);
  });

  it('adds minutes at the per-minute rate', () => {
    expect(estimateSubmitAt({ ...base, ahead: 250, minuteLeft: 50 })).toBe(NOW + 2 * 60_000);
  });

  it('waits for the next quota day when today is spent, then whole days', () => {
    expect(estimateSubmitAt({ ...base, ahead: 10, dayLeft: 0 })).toBe(NEXT_DAY);
    expect(estimateSubmitAt({ ...base, ahead: 2000 + 150, dayLeft: 100 })).toBe(NEXT_DAY + 86_400_000);
    expect(estimateSubmitAt({ ...base, ahead: 100 + 2000 + 250, dayLeft: 100 })).toBe(
      NEXT_DAY + 86_400_000 + 2 * 60_000,
    );
  });

  it('starts after a hold', () => {
    expect(estimateSubmitAt({ ...base, ahead: 1, holdUntil: NOW + 30_000 })).toBe(NOW + 30_000);
  });

  it('is never when there is no budget at all', () => {
    expect(estimateSubmitAt({ ...base, ahead: 1, dayBudget: 0 })).toBe(Number.POSITIVE_INFINITY);
  });
});
