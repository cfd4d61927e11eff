/**
 * The domains the emulated account owns, and their states. With no list configured every
 * non-wildcard domain is owned and online, except those given another state (or removed).
 */

export const DOMAIN_STATES = ['online', 'offline', 'configuring', 'configure-failed', 'illegal'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** Domain list as options accept it: names (online), or a name → state map. */
export type DomainsOption = readonly string[] | Readonly<Record<string, DomainState>>;

export type DomainErrorCode =
  | 'InvalidDomain.NotFound'
  | 'InvalidDomain.Offline'
  | 'ServiceBusy'
  | 'InvalidDomain.Configure_failed'
  | 'IllegalOperation';

export interface DomainsSnapshot {
  /** True when every domain not listed (and not removed) counts as owned and online. */
  ownsAll: boolean;
  /** Explicit states; in ownsAll mode `removed` lists domains the account does not own. */
  domains: Record<string, DomainState>;
  removed: string[];
}

export function normalizeDomain(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The error a refresh of a path on a domain in this state meets, or undefined when online. */
export function domainError(state: DomainState | undefined): DomainErrorCode | undefined {
  switch (state) {
    case undefined:
      return 'InvalidDomain.NotFound';
    case 'online':
      return undefined;
    case 'offline':
      return 'InvalidDomain.Offline';
    case 'configuring':
      return 'ServiceBusy';
    case 'configure-failed':
      return 'InvalidDomain.Configure_failed';
    case 'illegal':
      return 'IllegalOperation';
  }
}

export class DomainRegistry {
  private ownsAll = true;
  private readonly states = new Map<string, DomainState>();
  private readonly removed = new Set<string>();

  constructor(private readonly initial: DomainsOption | undefined) {
    this.reset();
  }

  reset(): void {
    this.replace(this.initial);
  }

  /** Replaces the whole configuration; `undefined` = own every non-wildcard domain. */
  replace(domains: DomainsOption | undefined): void {
    this.states.clear();
    this.removed.clear();
    this.ownsAll = domains === undefined;
    if (domains === undefined) return;
    const entries: [string, DomainState][] = Array.isArray(domains)
      ? (domains as readonly string[]).map((d) => [d, 'online'])
      : Object.entries(domains as Record<string, DomainState>);
    for (const [name, state] of entries) this.states.set(normalizeDomain(name), state);
  }

  /** The state of a domain, or undefined when the account does not own it. */
  stateOf(domain: string): DomainState | undefined {
    const name = normalizeDomain(domain);
    const explicit = this.states.get(name);
    if (explicit) return explicit;
    if (this.ownsAll && !this.removed.has(name) && !name.includes('*')) return 'online';
    return undefined;
  }

  set(domain: string, state: DomainState): void {
    const name = normalizeDomain(domain);
    this.removed.delete(name);
    this.states.set(name, state);
  }

  /** The account stops owning the domain. */
  remove(domain: string): void {
    const name = normalizeDomain(domain);
    this.states.delete(name);
    if (this.ownsAll) this.removed.add(name);
  }

  snapshot(): DomainsSnapshot {
    return {
      ownsAll: this.ownsAll,
      domains: Object.fromEntries([...this.states].sort(([a], [b]) => a.localeCompare(b))),
      removed: [...this.removed].sort(),
    };
  }
}
