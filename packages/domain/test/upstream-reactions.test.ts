import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_ERROR_RULES,
  accountErrorFix,
  accountErrorRule,
  CREDENTIALS_UNAVAILABLE,
} from '../src/account-errors.js';
import { type Reaction, reactionTo, settleCall } from '../src/upstream-reactions.js';

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

describe('account errors: never the path’s fault', () => {
  const settings = { backoff: { baseMs: 500, maxMs: 60_000 }, breakerProbeMs: 30_000, random: () => 0 };

  it('holds every path queued behind the breaker, however many times it is answered', () => {
    const states = [{ attempts: 99 }, { attempts: 0, backoffs: 3 }];
    const decision = settleCall({ kind: 'refused', code: 'Forbidden.RAM' }, states, settings);
    expect(decision.reaction).toEqual({ kind: 'account-error' });
    expect(decision.split).toBe(false);
    if (decision.split) return;
    for (const fate of decision.fates)
      expect(fate).toEqual({
        kind: 'requeue',
        delayMs: 30_000,
        reason: 'account-error',
        patch: { lastCode: 'Forbidden.RAM' },
      });
    expect(decision.settlement).toEqual({
      spent: 0,
      answer: 'refused',
      breaker: { code: 'Forbidden.RAM', probeMs: 30_000 },
    });
  });

  it('treats a credential source that gave nothing as an account error, other unsent calls as a backoff', () => {
    const unsigned = settleCall(
      { kind: 'not-sent', code: CREDENTIALS_UNAVAILABLE },
      [{ attempts: 0 }],
      settings,
    );
    expect(unsigned.reaction.kind).toBe('account-error');
    expect(unsigned.settlement.breaker?.code).toBe(CREDENTIALS_UNAVAILABLE);
    const refusedConnection = settleCall(
      { kind: 'not-sent', code: 'ConnectionRefused' },
      [{ attempts: 0 }],
      settings,
    );
    expect(refusedConnection.reaction.kind).toBe('backoff');
  });

  it('says what to fix for each cause, and nothing for other codes', () => {
    expect(accountErrorFix('Forbidden.RAM')).toContain('docs/ram-policy.json');
    expect(accountErrorFix('InvalidTimeStamp.Expired')).toContain('clock');
    expect(accountErrorFix('InvalidSecurityToken.Expired')).toContain('STS token');
    expect(accountErrorFix('InvalidDomain.NotFound')).toBeUndefined();
  });
});

/** README, "What the worker does with each upstream answer" and "Account errors and unknown codes". */
describe('README: every documented code reacts as its row says', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const section = (heading: string) => {
    const start = readme.indexOf(`\n${heading}\n`);
    expect(start, `README has "${heading}"`).toBeGreaterThan(0);
    const rest = readme.slice(start + heading.length + 2);
    return rest.slice(0, rest.search(/\n#{2,3} /));
  };
  const tableRows = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith('| ') && !/^\| -/.test(line))
      .slice(1)
      .map((line) => line.split('|').map((cell) => cell.trim()));
  /** Codes written in a cell: `X.*` and `X*` stand for codes that start with X (`.Suffix` adds to the last). */
  const codesIn = (cell: string): string[] => {
    const out: string[] = [];
    let base = '';
    for (const [, token] of cell.matchAll(/`([^`]+)`/g)) {
      if (!token) continue;
      if (token.startsWith('.')) out.push(`${base}${token}`);
      else if (token.endsWith('*')) {
        base = token.replace(/\.?\*$/, '');
        out.push(
          `${base}${token.endsWith('.*') ? '.Anything' : 'Anything'}`,
          ...(token.endsWith('.*') ? [] : [base]),
        );
      } else out.push(token);
    }
    return out;
  };

  const reactionsTable = section('## What the worker does with each upstream answer');
  // The row's first code names the row; every code in it must react as the row says.
  const rowKinds: Record<string, Reaction['kind']> = {
    Throttling: 'backoff',
    'QuotaPerMinuteExceeded.Refresh': 'hold-minute',
    'QuotaExceeded.Refresh': 'hold-day',
    ServiceBusy: 'retry-then-reject',
    'InvalidDomain.Configure_failed': 'retry-then-reject',
    IllegalOperation: 'reject',
    'InvalidObjectPath.Malformed': 'split',
    'InvalidObjectType.ValueNotSupported': 'reject',
    OperationDenied: 'open-breaker',
  };
  const rows = tableRows(reactionsTable)
    .map((cells) => codesIn(cells[1] ?? ''))
    .filter((codes) => codes.length > 0);

  it('knows every row of the reaction table', () => {
    expect(rows.map((codes) => codes[0]).sort()).toEqual(Object.keys(rowKinds).sort());
  });

  it.each(rows.map((codes) => [codes[0], codes] as const))('row %s', (first, codes) => {
    for (const code of codes)
      expect([code, reactionTo(code).kind]).toEqual([code, rowKinds[first as string]]);
  });

  const accountSection = section('### Account errors and unknown codes');
  const accountRows = tableRows(accountSection).map((cells) => ({
    codes: codesIn(cells[1] ?? ''),
    cause: cells[2],
  }));

  it('lists the account-error codes, each with its cause, and every rule is documented', () => {
    expect(accountRows.length).toBeGreaterThan(5);
    for (const { codes, cause } of accountRows) {
      expect(codes.length).toBeGreaterThan(0);
      for (const code of codes) {
        expect([code, reactionTo(code).kind]).toEqual([code, 'account-error']);
        expect([code, accountErrorRule(code)?.cause]).toEqual([code, cause]);
      }
    }
    const documented = new Set(accountRows.flatMap((row) => row.codes));
    for (const rule of ACCOUNT_ERROR_RULES) {
      const example = rule.prefix ? `${rule.code}${rule.code.endsWith('.') ? '' : '.'}Anything` : rule.code;
      expect([rule.code, documented.has(example) || documented.has(rule.code)]).toEqual([rule.code, true]);
    }
  });

  it('gives the gateway codes listed as unknown the unknown-code retries', () => {
    const prose = accountSection.slice(accountSection.indexOf('_Unknown codes_'));
    const unknown = codesIn(prose).filter(
      (code) => !code.startsWith('OperationDenied') && !code.startsWith('Throttling'),
    );
    expect(unknown.length).toBeGreaterThan(5);
    for (const code of unknown)
      expect([code, reactionTo(code)]).toEqual([
        code,
        { kind: 'retry-then-reject', maxAttempts: 5, delayMs: 60_000 },
      ]);
  });
});
