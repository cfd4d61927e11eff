import { describe, expect, it } from 'vitest';
import { dayStart, formatAliTime, parseAliTime, parseUtcOffset } from '../src/calendar.js';
import { Clock } from '../src/clock.js';
import { DomainRegistry, domainError } from '../src/domains.js';
import { FaultState } from '../src/faults.js';
import { NonceStore } from '../src/nonces.js';
import { checkPath, splitObjectPath } from '../src/paths.js';
import { admitCall, EMPTY_RATE_WINDOW } from '../src/rate-limit.js';

describe('calendar', () => {
  it('formats and parses Alibaba timestamps', () => {
    expect(formatAliTime(Date.parse('2014-11-27T08:23:22.999Z'))).toBe('2014-11-27T08:23:22Z');
    expect(parseAliTime('2014-11-27T08:23:22Z')).toBe(Date.parse('2014-11-27T08:23:22Z'));
    expect(parseAliTime('2014-11-27T08:23Z')).toBe(Date.parse('2014-11-27T08:23:00Z'));
    for (const bad of [
      '2014-11-27T08:23:22.000Z',
      '2014-11-27 08:23:22',
      '2014-13-01T00:00:00Z',
      '2014-11-27T24:00:00Z',
      '',
    ]) {
      expect(parseAliTime(bad)).toBeUndefined();
    }
  });

  it('parses UTC offsets', () => {
    expect(parseUtcOffset('+08:00')).toBe(480);
    expect(parseUtcOffset('-0530')).toBe(-330);
    expect(parseUtcOffset('UTC+8')).toBe(480);
    expect(parseUtcOffset('Z')).toBe(0);
    expect(parseUtcOffset('8')).toBeUndefined();
  });

  it('finds the start of the UTC+8 day', () => {
    expect(new Date(dayStart(Date.parse('2024-03-01T15:59:59Z'), 480)).toISOString()).toBe(
      '2024-02-29T16:00:00.000Z',
    );
    expect(new Date(dayStart(Date.parse('2024-03-01T16:00:00Z'), 480)).toISOString()).toBe(
      '2024-03-01T16:00:00.000Z',
    );
  });
});

describe('clock', () => {
  it('is wall time plus an offset, and can be frozen, moved and unfrozen', () => {
    let wall = 1_000_000;
    const clock = new Clock(() => wall, 500);
    expect(clock.now()).toBe(1_000_500);
    wall += 100;
    expect(clock.now()).toBe(1_000_600);
    expect(clock.wallNow()).toBe(1_000_100);
    clock.freeze();
    wall += 1000;
    expect(clock.now()).toBe(1_000_600);
    clock.advance(400);
    expect(clock.now()).toBe(1_001_000);
    clock.unfreeze();
    wall += 10;
    expect(clock.now()).toBe(1_001_010);
    clock.toNextMinute();
    expect(clock.now() % 60_000).toBe(0);
  });
});

describe('paths', () => {
  it('splits on \\n and \\r\\n', () => {
    expect(splitObjectPath('a\r\nb\nc\n')).toEqual(['a', 'b', 'c']);
  });

  it('accepts good paths and names the domain', () => {
    expect(checkPath('https://Cdn.Example.com:8080/a/b.png?x=1', 'File')).toEqual({
      ok: true,
      domain: 'cdn.example.com',
    });
    expect(checkPath('http://cdn.example.com', 'File')).toEqual({ ok: true, domain: 'cdn.example.com' });
    expect(checkPath('http://cdn.example.com/dir/', 'Directory')).toEqual({
      ok: true,
      domain: 'cdn.example.com',
    });
    expect(checkPath('http://例子.中国/a.png', 'File')).toEqual({ ok: true, domain: '例子.中国' });
    expect(checkPath('https://cdn.example.com/a/.*\\.jpg$', 'Regex')).toEqual({
      ok: true,
      domain: 'cdn.example.com',
    });
  });

  it('tells a wildcard from a malformed host', () => {
    expect(checkPath('https://*.a.com/x', 'File')).toMatchObject({
      ok: false,
      code: 'InvalidExtensiveDomain.ValueNotSupported',
    });
    expect(checkPath('https://a*.com/x', 'File')).toMatchObject({
      ok: false,
      code: 'InvalidObjectPath.Malformed',
    });
    expect(checkPath('https://cdn.example.com/a/(', 'Regex')).toMatchObject({
      ok: false,
      code: 'InvalidObjectPath.Malformed',
    });
  });
});

describe('domains', () => {
  it('owns every non-wildcard domain when no list is given', () => {
    const d = new DomainRegistry(undefined);
    expect(d.stateOf('anything.example.com')).toBe('online');
    expect(d.stateOf('*.example.com')).toBeUndefined();
    d.remove('anything.example.com');
    expect(d.stateOf('anything.example.com')).toBeUndefined();
    d.set('anything.example.com', 'offline');
    expect(d.stateOf('ANYTHING.example.com.')).toBe('offline');
  });

  it('maps states to error codes', () => {
    expect(
      [undefined, 'online', 'offline', 'configuring', 'configure-failed', 'illegal'].map((s) =>
        domainError(s as never),
      ),
    ).toEqual([
      'InvalidDomain.NotFound',
      undefined,
      'InvalidDomain.Offline',
      'ServiceBusy',
      'InvalidDomain.Configure_failed',
      'IllegalOperation',
    ]);
  });
});

describe('nonces', () => {
  it('remembers a nonce for the window, per key, with bounded memory', () => {
    const store = new NonceStore(1000, 3);
    expect(store.use('k', 'n1', 0)).toBe(true);
    expect(store.use('k', 'n1', 999)).toBe(false);
    expect(store.use('other', 'n1', 999)).toBe(true);
    expect(store.use('k', 'n1', 1000)).toBe(true); // expired, remembered again
    for (let i = 0; i < 10; i++) store.use('k', `x${i}`, 1001);
    expect(store.size).toBeLessThanOrEqual(3);
  });
});

describe('rate limit', () => {
  it('admits `limit` calls per calendar second', () => {
    let w = EMPTY_RATE_WINDOW;
    const admitted: boolean[] = [];
    for (const t of [0, 100, 999, 1000]) {
      const r = admitCall(w, t, 2);
      w = r.window;
      admitted.push(r.admitted);
    }
    expect(admitted).toEqual([true, true, false, true]);
    expect(admitCall(w, 1000, null).admitted).toBe(true);
  });
});

describe('faults', () => {
  it('uses "next N" counters before rates, in a fixed order, and only for listed actions', () => {
    const f = new FaultState({ resetNext: 1, throttleNext: 1, actions: ['A'] });
    expect(f.pick('B')).toBeUndefined();
    expect(f.pick('A')).toBe('reset');
    expect(f.pick('A')).toBe('throttle');
    expect(f.pick('A')).toBeUndefined();
    f.update({ timeoutRate: 1 });
    expect(f.pick('A')).toBe('timeout');
    f.clear();
    expect(f.snapshot().actions).toEqual([]);
    f.reset();
    expect(f.snapshot()).toMatchObject({ resetNext: 1, throttleNext: 1 });
  });
});
