import { describe, expect, it } from 'vitest';
import { requestState } from '../src/path-status.js';
import { isDomainAllowed } from '../src/allowed-domains.js';
import { backoffDelay } from '../src/backoff.js';

describe('requestState', () => {
  it.each([
    [['queued', 'queued'], 'queued'],
    [['queued', 'submitted'], 'in_progress'],
    [['submitted', 'complete'], 'submitted'],
    [['complete', 'complete'], 'complete'],
    [['rejected', 'failed'], 'failed'],
    [['rejected', 'complete'], 'partially_failed'],
    [['rejected', 'submitted'], 'in_progress'],
    [['unconfirmed', 'unconfirmed'], 'unconfirmed'],
    [['complete', 'unconfirmed'], 'unconfirmed'],
    [['submitted', 'unconfirmed'], 'submitted'],
    [['refreshing', 'unconfirmed'], 'submitted'],
    [['unconfirmed', 'failed'], 'partially_failed'],
    [['unconfirmed', 'rejected'], 'partially_failed'],
    [['queued', 'unconfirmed'], 'in_progress'],
    [['cancelled', 'cancelled'], 'cancelled'],
    [['cancelled', 'queued'], 'queued'],
    [['cancelled', 'complete'], 'complete'],
    [['cancelled', 'rejected'], 'failed'],
  ] as const)('%j -> %s', (states, expected) => {
    expect(requestState(states)).toBe(expected);
  });
});

describe('isDomainAllowed', () => {
  it('matches exact hosts and sub-domain rules', () => {
    expect(isDomainAllowed('a.com', [])).toBe(true);
    expect(isDomainAllowed('a.com', ['a.com'])).toBe(true);
    expect(isDomainAllowed('cdn.a.com', ['a.com'])).toBe(false);
    expect(isDomainAllowed('cdn.a.com', ['*.a.com'])).toBe(true);
    expect(isDomainAllowed('a.com', ['*.a.com'])).toBe(false);
    expect(isDomainAllowed('x.cdn.a.com', ['.a.com'])).toBe(true);
    expect(isDomainAllowed('evila.com', ['.a.com'])).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, jittered', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});
