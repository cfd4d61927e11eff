import ipaddr from 'ipaddr.js';

/**
 * The outbound address policy (DESIGN.md invariant 8: nothing reaches inward). Every request the
 * service sends to a URL a caller gave is judged here: the URL's host and port before anything is
 * sent (intake answers 400, the sender refuses), and every address a name resolves to at connect
 * time. Pure: the DNS look-up and the socket are the caller's.
 */

/** What an address is; only `public` is reached without the operator's leave. */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'shared'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

const KIND_OF_RANGE: Readonly<Record<string, AddressKind>> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  // fec0::/10, the IPv6 private range before unique-local replaced it (RFC 3879).
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'shared',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

const DESCRIPTION: Readonly<Record<Exclude<AddressKind, 'public'>, string>> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address (cloud metadata lives there)',
  'unique-local': 'a unique-local address',
  shared: 'a shared (carrier-grade NAT) address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or special-purpose address',
};

/** An IPv4 address carried inside an IPv6 one that reaches it: mapped, translated, NAT64, 6to4. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  // The last 32 bits; for NAT64 only in 64:ff9b::/96 (the local-use 64:ff9b:1::/48 stays reserved).
  if (range === 'ipv4Mapped' || range === 'rfc6145' || (range === 'rfc6052' && address.parts[2] === 0))
    return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/**
 * The kind of an IP address in any spelling ipaddr.js parses (a URL's `[…]` host too), or
 * undefined when the text is not an IP address. An IPv6 address that carries an IPv4 one is
 * judged by the IPv4 address it reaches.
 */
export function addressKind(text: string): AddressKind | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  let address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    const v4 = embeddedIPv4(v6);
    if (v4) address = v4;
    // ::/8 beyond :: and ::1 (IPv4-compatible ::a.b.c.d and the rest) is reserved; ipaddr.js calls it unicast.
    else if (v6.parts[0] === 0 && v6.range() === 'unicast') return 'reserved';
  }
  return KIND_OF_RANGE[address.range()] ?? 'reserved';
}

export function describeAddressKind(kind: Exclude<AddressKind, 'public'>): string {
  return DESCRIPTION[kind];
}

/** One CALLBACK_ALLOWED_HOSTS entry: `host`, `*.host` or `.host` (sub-domains only), each with an optional `:port`. */
export interface HostRule {
  /** Canonical, as a URL spells its hostname: lower-case, punycode, IPv4 dotted, IPv6 in brackets. */
  host: string;
  subdomains: boolean;
  port?: number;
}

const RULE_SHAPE = /^(\*\.|\.)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** Parses one entry, or undefined when it is not `[*.]host[:port]`. */
export function parseHostRule(entry: string): HostRule | undefined {
  const match = RULE_SHAPE.exec(entry.trim());
  if (!match) return undefined;
  const [, wildcard, rawHost = '', rawPort] = match;
  let host: string;
  try {
    host = new URL(`http://${rawHost}/`).hostname;
  } catch {
    return undefined;
  }
  if (wildcard && addressKind(host) !== undefined) return undefined;
  const port = rawPort === undefined ? undefined : Number(rawPort);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host, subdomains: wildcard !== undefined, ...(port === undefined ? {} : { port }) };
}

export interface OutboundPolicy {
  /** Empty: any host. Otherwise a target must match one rule (host, and port when the rule names one). */
  rules: readonly HostRule[];
  /** The operator's opt-in (CALLBACK_ALLOW_PRIVATE): inward addresses are allowed for every target. */
  allowPrivate: boolean;
}

/** Builds the policy from CALLBACK_ALLOWED_HOSTS and CALLBACK_ALLOW_PRIVATE; throws on an entry parseHostRule refuses. */
export function outboundPolicy(allowedHosts: readonly string[], allowPrivate: boolean): OutboundPolicy {
  const rules = allowedHosts.map((entry) => {
    const rule = parseHostRule(entry);
    if (!rule) throw new Error(`not a host[:port] rule: ${entry}`);
    return rule;
  });
  return { rules, allowPrivate };
}

export interface OutboundRefusal {
  refusal: 'host_not_allowed' | 'inward_address';
  /** Names the host (and port or address), never the URL's path or query. */
  message: string;
}

export type TargetVerdict =
  /**
   * `checkAddresses`: whether each address the host resolves to must still be public. False when
   * the operator named this very host (not through a wildcard) or allowed private targets.
   */
  { ok: true; checkAddresses: boolean } | ({ ok: false } & OutboundRefusal);

const portOf = (url: URL): number =>
  url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);

const hostMatches = (rule: HostRule, host: string): boolean =>
  rule.subdomains ? host.endsWith(`.${rule.host}`) : host === rule.host;

const ruleMatches = (rule: HostRule, host: string, port: number): boolean =>
  hostMatches(rule, host) && (rule.port === undefined || rule.port === port);

/** RFC 6761: `localhost` and every name under it are loopback, whatever DNS says. */
const isLocalhostName = (host: string): boolean => /(^|\.)localhost\.?$/.test(host);

/** Judges a target URL before anything is sent: its host and port, and its host when that is an address literal. */
export function judgeTarget(url: URL, policy: OutboundPolicy): TargetVerdict {
  const host = url.hostname;
  const port = portOf(url);
  const matched = policy.rules.filter((rule) => ruleMatches(rule, host, port));
  if (policy.rules.length > 0 && matched.length === 0) {
    const hostListed = policy.rules.some((rule) => hostMatches(rule, host));
    return {
      ok: false,
      refusal: 'host_not_allowed',
      message: hostListed
        ? `${host}:${port} is not in CALLBACK_ALLOWED_HOSTS (that host is allowed on other ports only)`
        : `${host} is not in CALLBACK_ALLOWED_HOSTS`,
    };
  }
  const named = matched.some((rule) => !rule.subdomains);
  if (named || policy.allowPrivate) return { ok: true, checkAddresses: false };
  const kind = isLocalhostName(host) ? 'loopback' : addressKind(host);
  if (kind !== undefined && kind !== 'public') return { ok: false, ...refuseAddress(host, kind) };
  return { ok: true, checkAddresses: true };
}

/** Judges one address a target's name resolved to (when judgeTarget said `checkAddresses`). */
export function judgeAddress(host: string, address: string): OutboundRefusal | undefined {
  const kind = addressKind(address) ?? 'reserved';
  return kind === 'public' ? undefined : refuseAddress(`${host} (${address})`, kind);
}

function refuseAddress(what: string, kind: Exclude<AddressKind, 'public'>): OutboundRefusal {
  return {
    refusal: 'inward_address',
    message: `${what} is ${describeAddressKind(kind)}; requests go there only when CALLBACK_ALLOWED_HOSTS names the host (host[:port]) or CALLBACK_ALLOW_PRIVATE=true`,
  };
}
