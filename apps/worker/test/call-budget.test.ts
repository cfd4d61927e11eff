import { describe, expect, it } from 'vitest';
import { trackingCallsPerSecond } from '../src/call-budget.js';

describe('the describe budget', () => {
  it('leaves 40% of it to the uncertain look-ups, but always lets tracking make one call a second', () => {
    expect(trackingCallsPerSecond(5)).toBe(3);
    expect(trackingCallsPerSecond(10)).toBe(6);
    expect(trackingCallsPerSecond(2)).toBe(1);
    expect(trackingCallsPerSecond(1)).toBe(1);
  });
});
