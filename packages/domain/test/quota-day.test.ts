import { describe, expect, it } from 'vitest';
import { nextMinuteStart, nextQuotaDayStart, parseUtcOffset } from '../src/quota-day.js';

describe('quota day arithmetic', () => {
  it('parses offsets', () => {
    expect(parseUtcOffset('+08:00')).toBe(480);
    expect(parseUtcOffset('-05:30')).toBe(-330);
    expect(parseUtcOffset('Z')).toBe(0);
    expect(parseUtcOffset('+0800')).toBe(480);
    expect(parseUtcOffset('8')).toBeUndefined();
    expect(parseUtcOffset('+15:00')).toBeUndefined();
  });

  it('starts the next UTC+8 day at 16:00 UTC', () => {
    const before = Date.parse('2026-11-23T15:59:59.999Z');
    expect(new Date(nextQuotaDayStart(before, 480)).toISOString()).toBe('2026-11-23T16:00:00.000Z');
    const at = Date.parse('2026-11-23T16:00:00.000Z');
    expect(new Date(nextQuotaDayStart(at, 480)).toISOString()).toBe('2026-11-24T16:00:00.000Z');
  });

  it('handles negative offsets and UTC', () => {
    expect(new Date(nextQuotaDayStart(Date.parse('2026-11-23T03:00:00Z'), -300)).toISOString()).toBe(
      '2026-11-23T05:00:00.000Z',
    );
    expect(new Date(nextQuotaDayStart(Date.parse('2026-11-23T23:59:59Z'), 0)).toISOString()).toBe(
      '2026-11-24T00:00:00.000Z',
    );
  });

  it('finds the next minute', () => {
    expect(new Date(nextMinuteStart(Date.parse('2026-11-23T10:00:59.500Z'))).toISOString()).toBe(
      '2026-11-23T10:01:00.000Z',
    );
    expect(new Date(nextMinuteStart(Date.parse('2026-11-23T10:01:00.000Z'))).toISOString()).toBe(
      '2026-11-23T10:02:00.000Z',
    );
  });
});
