/**
 * Pure rules for the `ObjectPath` and `ObjectType` parameters of RefreshVodObjectCaches:
 * splitting, per-path validation, the domain a path belongs to, and which quota it spends.
 */

export const REFRESH_OBJECT_TYPES = ['File', 'Directory', 'Regex', 'IgnoreParams'] as const;
export type RefreshObjectType = (typeof REFRESH_OBJECT_TYPES)[number];

/** How DescribeVodRefreshTasks names the type of a task. */
export type TaskObjectType = 'file' | 'directory' | 'regex' | 'ignoreParams' | 'preload';

/** URL quota (File, IgnoreParams) or directory quota (Directory, Regex). */
export type QuotaKind = 'url' | 'dir';

/** The longest single path accepted (Alibaba's CDN docs give 1024 characters). */
export const MAX_PATH_LENGTH = 1024;

export function isRefreshObjectType(value: string): value is RefreshObjectType {
  return (REFRESH_OBJECT_TYPES as readonly string[]).includes(value);
}

export function quotaKindOf(type: RefreshObjectType): QuotaKind {
  return type === 'Directory' || type === 'Regex' ? 'dir' : 'url';
}

export function taskObjectTypeOf(type: RefreshObjectType): TaskObjectType {
  switch (type) {
    case 'File':
      return 'file';
    case 'Directory':
      return 'directory';
    case 'Regex':
      return 'regex';
    case 'IgnoreParams':
      return 'ignoreParams';
  }
}

/** Splits on `\n` or `\r\n`; empty lines (e.g. a trailing newline) are dropped. */
export function splitObjectPath(raw: string): string[] {
  return raw.split(/\r?\n/).filter((line) => line !== '');
}

export type PathCheck =
  | { ok: true; domain: string }
  | {
      ok: false;
      code: 'InvalidObjectPath.Malformed' | 'InvalidExtensiveDomain.ValueNotSupported';
      reason: string;
    };

const URL_SHAPE = /^(https?):\/\/([^/?#]*)(.*)$/i;
const LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

function malformed(reason: string): PathCheck {
  return { ok: false, code: 'InvalidObjectPath.Malformed', reason };
}

function validHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  return labels.length >= 2 && labels.every((label) => LABEL.test(label));
}

/**
 * Checks one path for `type`. A path must be an absolute http(s) URL with a host, hold no
 * whitespace or control characters, no user info, no fragment, no broken %-escapes, be at most
 * 1024 characters; a directory must end in `/`; a Regex path must compile. A host starting
 * with `*.` is a wildcard domain: InvalidExtensiveDomain.ValueNotSupported.
 */
export function checkPath(path: string, type: RefreshObjectType): PathCheck {
  if (path.length > MAX_PATH_LENGTH) return malformed(`longer than ${MAX_PATH_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(path)) return malformed('contains whitespace or a control character');
  const m = URL_SHAPE.exec(path);
  if (!m) return malformed('not an absolute http:// or https:// URL');
  const authority = m[2] ?? '';
  const rest = m[3] ?? '';
  if (authority.includes('@')) return malformed('user info is not allowed');
  const hp = /^([^:]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!hp) return malformed('bad host or port');
  const port = hp[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return malformed('bad port');
  const host = (hp[1] ?? '').toLowerCase().replace(/\.$/, '');
  if (host === '') return malformed('no host');
  if (host.startsWith('*.') && validHostname(host.slice(2))) {
    return { ok: false, code: 'InvalidExtensiveDomain.ValueNotSupported', reason: `wildcard domain ${host}` };
  }
  if (!validHostname(host)) return malformed('bad host name');
  if (type === 'Regex') {
    try {
      new RegExp(rest);
    } catch {
      return malformed('the regular expression does not compile');
    }
    return { ok: true, domain: host };
  }
  if (rest.includes('#')) return malformed('a fragment is not allowed');
  if (BAD_PERCENT.test(rest)) return malformed('a broken %-escape');
  if (type === 'Directory' && !rest.endsWith('/')) return malformed('a directory must end with /');
  return { ok: true, domain: host };
}
