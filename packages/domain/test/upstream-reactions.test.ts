import { describe, expect, it } from 'vitest';
import { reactionTo } from '../src/upstream-reactions.js';

describe('reactionTo: every code of shared/vod-api.md has a deliberate reaction', () => {
  it.each([
    ['Throttling', 'backoff'],
    ['Throttling.User', 'backoff'],
    ['Throttling.Api', 'backoff'],
    ['QuotaPerMinuteExceeded.Refresh', 'hold-minute'],
    ['QuotaExceeded.Refresh', 'hold-day'],
    ['ServiceBusy', 'retry-then-reject'],
    ['InvalidDomain.Configure_failed', 'retry-then-reject'],
    ['IllegalOperation', 'reject'],
    ['InvalidDomain.NotFound', 'reject'],
    ['InvalidDomain.Offline', 'reject'],
    ['InvalidExtensiveDomain.ValueNotSupported', 'reject'],
    ['InvalidObjectPath.Malformed', 'split'],
    ['InvalidObjectType.ValueNotSupported', 'reject'],
    ['MissingParameter', 'reject'],
    ['OperationDenied', 'open-breaker'],
    ['OperationDenied.Suspended', 'open-breaker'],
  ])('%s -> %s', (code, kind) => {
    expect(reactionTo(code).kind).toBe(kind);
  });

  it('alerts on the codes that mean a bug of ours', () => {
    expect(reactionTo('MissingParameter')).toEqual({ kind: 'reject', alert: true });
    expect(reactionTo('InvalidObjectType.ValueNotSupported')).toEqual({ kind: 'reject', alert: true });
    expect(reactionTo('InvalidDomain.NotFound')).toEqual({ kind: 'reject', alert: false });
  });

  it('retries ServiceBusy for minutes, Configure_failed a few times', () => {
    const busy = reactionTo('ServiceBusy');
    const failed = reactionTo('InvalidDomain.Configure_failed');
    expect(busy.kind === 'retry-then-reject' && busy.delayMs >= 60_000).toBe(true);
    expect(failed.kind === 'retry-then-reject' && failed.maxAttempts <= 5).toBe(true);
  });

  it('treats a call without an answer as uncertain and an unknown code as transient', () => {
    expect(reactionTo(undefined).kind).toBe('uncertain');
    expect(reactionTo('SomethingNew').kind).toBe('retry-then-reject');
  });
});
