import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One webhook request as a preset sees it: the exact bytes and the request line and headers. */
export interface Delivery {
  /** The body exactly as received: signatures are over these bytes. */
  body: Buffer;
  method: string;
  /** The request target as received (path and query), e.g. `/v1/hooks/blog?event=post.published`. */
  target: string;
  /** A header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined;
  /** A query parameter of the target. */
  query(name: string): string | undefined;
}

/** What a signature check concluded; `timestamp` (ms) is the signed time where the scheme has one. */
export type Verdict =
  | { ok: true; timestamp?: number }
  | { ok: false; code: 'missing_signature' | 'invalid_signature' | 'stale_timestamp'; message: string };

export interface HookKey {
  secret: string;
  /** The header that carries a shared secret (strapi). */
  header: string;
}

export interface VerifyContext {
  now: number;
  toleranceMs: number;
}

export const hmacSha256 = (secret: string, ...parts: (string | Buffer)[]): Buffer => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compares two strings in constant time, whatever their lengths. */
export function safeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export const missing = (what: string): Verdict => ({
  ok: false,
  code: 'missing_signature',
  message: `the ${what} header is missing`,
});

export const invalid = (message = 'the signature does not match this hook'): Verdict => ({
  ok: false,
  code: 'invalid_signature',
  message,
});

/** A valid signature whose signed time is further than the tolerance from now is a replay. */
export function fresh(timestamp: number, context: VerifyContext): Verdict {
  if (Math.abs(context.now - timestamp) > context.toleranceMs) {
    return {
      ok: false,
      code: 'stale_timestamp',
      message: `the signed timestamp is more than ${Math.round(context.toleranceMs / 1000)} s from now`,
    };
  }
  return { ok: true, timestamp };
}

/** `k=v` pairs of a signature header like `sha256=…, t=…`. */
export function headerPairs(header: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at > 0) pairs.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return pairs;
}
