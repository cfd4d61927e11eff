import type { ObjectType } from './refresh-types.js';

/** Alibaba's CDN refresh takes paths of at most 1,024 characters. */
export const DEFAULT_MAX_PATH_LENGTH = 1024;

export type PathRejection =
  | 'too_long'
  | 'control_character'
  | 'whitespace'
  | 'unsupported_scheme'
  | 'malformed_url'
  | 'malformed_percent_encoding'
  | 'replacement_character'
  | 'lone_surrogate'
  | 'invalid_host'
  | 'invalid_port'
  | 'userinfo_not_allowed'
  | 'missing_host'
  | 'wildcard_domain'
  | 'directory_needs_trailing_slash'
  | 'directory_with_query';

export type PathCheck =
  | { ok: true; path: string; domain: string }
  | { ok: false; reason: PathRejection; message: string };

export interface PathRules {
  objectType: ObjectType;
  maxLength?: number;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const HTTP_SCHEME = /^https?:\/\//i;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** In a `u` regex a class of surrogates matches only unpaired ones. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function reject(reason: PathRejection, message: string): PathCheck {
  return { ok: false, reason, message };
}

/** Decodes %XX escapes of unreserved characters and upper-cases the hex of all others (RFC 3986 §6.2.2). */
export function canonicalPercentEncoding(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The query exactly as sent (the CDN keys on it), or '' when there is none. */
function rawQuery(raw: string): string {
  const withoutFragment = raw.split('#', 1)[0] ?? '';
  const at = withoutFragment.indexOf('?');
  return at === -1 ? '' : withoutFragment.slice(at);
}

/**
 * Checks one path a caller asked to refresh and returns its canonical form:
 * scheme and host lower-cased, default port dropped, dot-segments resolved,
 * percent-encoding of the path canonical, fragment dropped, query kept as sent.
 */
export function checkPath(raw: string, rules: PathRules): PathCheck {
  const maxLength = rules.maxLength ?? DEFAULT_MAX_PATH_LENGTH;
  if (raw.length === 0) return reject('malformed_url', 'path is empty');
  if (raw.length > maxLength) return reject('too_long', `path is longer than ${maxLength} characters`);
  if (CONTROL.test(raw)) return reject('control_character', 'path contains a control character');
  if (WHITESPACE.test(raw)) return reject('whitespace', 'path contains white space; percent-encode it');
  if (raw.includes('\uFFFD'))
    return reject(
      'replacement_character',
      'path contains U+FFFD: the body was not valid UTF-8, or the URL was mangled before it was sent',
    );
  // The URL parser would turn it into %EF%BF%BD: a URL nobody sent.
  if (LONE_SURROGATE.test(raw))
    return reject(
      'lone_surrogate',
      'path contains a lone UTF-16 surrogate (an escape like \\udfff without its pair), which is not text',
    );
  if (!HTTP_SCHEME.test(raw)) return reject('unsupported_scheme', 'path must start with http:// or https://');
  if (/%(?![0-9A-Fa-f]{2})/.test(raw.split('#', 1)[0] ?? ''))
    return reject('malformed_percent_encoding', 'path has a % not followed by two hex digits');

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject('malformed_url', 'path is not a valid URL');
  }
  if (url.username !== '' || url.password !== '') {
    return reject('userinfo_not_allowed', 'path must not carry user name or password');
  }
  if (url.hostname === '') return reject('missing_host', 'path has no host');
  if (url.hostname.includes('*')) {
    return reject('wildcard_domain', 'wildcard domains cannot be refreshed; name the exact host');
  }
  if (!url.hostname.startsWith('[')) {
    const labels = url.hostname.split('.');
    if (
      labels.length < 2 ||
      labels.some((label) => label.length === 0 || label.length > 63) ||
      url.hostname.length > 253
    ) {
      return reject(
        'invalid_host',
        'host must be a domain name of two or more labels, each 1 to 63 characters',
      );
    }
  }
  if (url.port === '0') return reject('invalid_port', 'port 0 is not a port');

  const query = rawQuery(raw);
  if (rules.objectType === 'Directory') {
    if (!url.pathname.endsWith('/')) {
      return reject('directory_needs_trailing_slash', 'a directory path must end with /');
    }
    if (query !== '') return reject('directory_with_query', 'a directory path must not have a query');
  }

  const path = `${url.protocol}//${url.host}${canonicalPercentEncoding(url.pathname)}${query}`;
  if (path.length > maxLength) return reject('too_long', `path is longer than ${maxLength} characters`);
  return { ok: true, path, domain: url.hostname };
}

/** The host of a path that checkPath accepted. */
export function domainOf(path: string): string {
  return new URL(path).hostname;
}
