import { escape as escapeQuery } from 'node:querystring';
import { fresh, hmacSha256, invalid, missing, safeEqual, type Delivery } from '../delivery.js';
import type { Preset } from './preset.js';

const SIGNED_HEADERS = 'x-contentful-signed-headers';
const TIMESTAMP = 'x-contentful-timestamp';

/** The path as @contentful/node-apps-toolkit canonicalises it (its `getNormalizedEncodedURI`). */
function canonicalPath(target: string): string {
  const [pathname = '', search] = target.split('?');
  const escaped = search ? escapeQuery(search) : '';
  return encodeURI(escaped ? `${pathname}?${escaped}` : pathname);
}

/**
 * Contentful's request verification, as its node-apps-toolkit computes it: HMAC-SHA256 (hex) of
 * `method \n path \n k:v;k:v… \n body`, over the headers named in `x-contentful-signed-headers`
 * (lower-cased, trimmed, sorted, always including that header and `x-contentful-timestamp`).
 */
function contentfulSignature(secret: string, delivery: Delivery, timestamp: number, signed: string): string {
  const headers = new Map<string, string>();
  for (const name of signed.split(',').map((part) => part.trim().toLowerCase())) {
    const value = name === '' ? undefined : delivery.header(name);
    if (value !== undefined) headers.set(name, value.trim());
  }
  headers.set(TIMESTAMP, String(timestamp));
  headers.delete(SIGNED_HEADERS);
  const names = [...headers.keys(), SIGNED_HEADERS].sort((a, b) => (a > b ? 1 : -1));
  headers.set(SIGNED_HEADERS, names.join(','));
  const canonicalHeaders = names.map((name) => `${name}:${headers.get(name)}`).join(';');
  return hmacSha256(
    secret,
    `${delivery.method}\n${canonicalPath(delivery.target)}\n${canonicalHeaders}\n`,
    delivery.body,
  ).toString('hex');
}

/**
 * Contentful: signed requests (`x-contentful-signature`, `x-contentful-signed-headers`,
 * `x-contentful-timestamp`), the topic in `X-Contentful-Topic`
 * (`ContentManagement.Entry.publish`), duplicate firings sharing `X-Contentful-Idempotency-Key`.
 * Entries carry no URLs of their own, so a Contentful hook lists its templates.
 */
export const contentful: Preset = {
  name: 'contentful',
  signsTime: true,
  verify(delivery, key, context) {
    const signature = delivery.header('x-contentful-signature');
    const signed = delivery.header(SIGNED_HEADERS);
    const stamp = delivery.header(TIMESTAMP);
    if (signature === undefined) return missing('x-contentful-signature');
    if (signed === undefined || stamp === undefined)
      return invalid('x-contentful-signed-headers and x-contentful-timestamp must come with the signature');
    if (!/^\d{1,16}$/.test(stamp.trim())) return invalid('x-contentful-timestamp must be milliseconds');
    const timestamp = Number(stamp.trim());
    const expected = contentfulSignature(key.secret, delivery, timestamp, signed);
    if (!safeEqual(signature.trim().toLowerCase(), expected)) return invalid();
    return fresh(timestamp, context);
  },
  event: (delivery) => delivery.header('x-contentful-topic'),
  deliveryId: (delivery) => delivery.header('x-contentful-idempotency-key'),
};
