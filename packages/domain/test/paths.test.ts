import { describe, expect, it } from 'vitest';
import { canonicalPercentEncoding, checkPath, type PathRejection, type PathRules } from '../src/paths.js';

const file = { objectType: 'File' as const };
const dir = { objectType: 'Directory' as const };

function rejection(raw: string, rules: PathRules = file): PathRejection | undefined {
  const result = checkPath(raw, rules);
  return result.ok ? undefined : result.reason;
}

describe('checkPath normalisation', () => {
  it.each([
    ['HTTPS://Example.COM/a/b.png', 'https://example.com/a/b.png'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['http://example.com:8080/a', 'http://example.com:8080/a'],
    ['https://example.com/a/./b/../c.png', 'https://example.com/a/c.png'],
    ['https://example.com/a/%2e%2E/c.png', 'https://example.com/c.png'],
    ['https://example.com/%7e%41%2fx', 'https://example.com/~A%2Fx'],
    ['https://example.com/a%2fb', 'https://example.com/a%2Fb'],
    ['https://example.com/p.png#frag', 'https://example.com/p.png'],
    ['https://example.com/p?B=2&a=%7e', 'https://example.com/p?B=2&a=%7e'],
    ['https://example.com/p?x#y', 'https://example.com/p?x'],
    ['https://example.com', 'https://example.com/'],
    ['https://example.com/ü.png', 'https://example.com/%C3%BC.png'],
    ['https://bücher.example/x', 'https://xn--bcher-kva.example/x'],
  ])('%s -> %s', (raw, expected) => {
    const result = checkPath(raw, file);
    expect(result).toMatchObject({ ok: true, path: expected });
  });

  it('gives the same path for inputs that mean the same URL', () => {
    const inputs = ['https://A.com:443/x/../%7Ey', 'https://a.com/~y', 'https://a.com/%7ey#top'];
    const outputs = new Set(inputs.map((raw) => (checkPath(raw, file) as { path: string }).path));
    expect([...outputs]).toEqual(['https://a.com/~y']);
  });

  it('returns the domain', () => {
    expect(checkPath('https://CDN.Example.com/x', file)).toMatchObject({ domain: 'cdn.example.com' });
  });

  it('keeps directories ending in /', () => {
    expect(checkPath('https://example.com/videos/', dir)).toMatchObject({
      ok: true,
      path: 'https://example.com/videos/',
    });
  });
});

describe('checkPath rejections', () => {
  it.each<[string, PathRejection, PathRules]>([
    ['', 'malformed_url', file],
    ['example.com/a.png', 'unsupported_scheme', file],
    ['ftp://example.com/a', 'unsupported_scheme', file],
    ['//example.com/a', 'unsupported_scheme', file],
    ['https://', 'malformed_url', file],
    ['https://exa mple.com/a', 'whitespace', file],
    ['https://example.com/a b', 'whitespace', file],
    ['https://example.com/a\nhttps://b.com/', 'control_character', file],
    ['https://example.com/a\u0000', 'control_character', file],
    ['https://example.com/a\t', 'control_character', file],
    ['https://user:pw@example.com/a', 'userinfo_not_allowed', file],
    ['https://user@example.com/a', 'userinfo_not_allowed', file],
    ['https://*.example.com/a', 'wildcard_domain', file],
    ['https://example.com/videos', 'directory_needs_trailing_slash', dir],
    ['https://example.com/videos/?a=1', 'directory_with_query', dir],
    [`https://example.com/${'a'.repeat(2100)}`, 'too_long', file],
  ])('%j is %s', (raw, reason, rules) => {
    expect(rejection(raw, rules)).toBe(reason);
  });

  it('honours a configured maximum length', () => {
    expect(rejection('https://example.com/abcdef', { objectType: 'File', maxLength: 20 })).toBe('too_long');
  });
});

describe('canonicalPercentEncoding', () => {
  it('decodes unreserved and upper-cases the rest', () => {
    expect(canonicalPercentEncoding('%41%7a%2d%5f%2e%7e%2f%3a%e4')).toBe('Az-_.~%2F%3A%E4');
  });
});
