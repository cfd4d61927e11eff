/**
 * ALLOWED_DOMAINS entries: `example.com` matches that host only; `*.example.com` or
 * `.example.com` matches every sub-domain of example.com (not example.com itself).
 * An empty list allows every domain.
 */
export function isDomainAllowed(domain: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const host = domain.toLowerCase();
  return allowed.some((entry) => {
    const rule = entry.toLowerCase();
    if (rule.startsWith('*.') || rule.startsWith('.')) {
      const suffix = rule.slice(rule.indexOf('.'));
      return host.endsWith(suffix) && host.length > suffix.length;
    }
    return host === rule;
  });
}
