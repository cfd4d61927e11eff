import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Alibaba Cloud RPC signature, version 1.0 (HMAC-SHA1), exactly as `@alicloud/pop-core`
 * computes it: sort the parameters by key, percent-encode keys and values, join them into a
 * canonical query, sign `METHOD&%2F&` + encode(canonical query) with key `secret + "&"`.
 */

export type RpcParams = Readonly<Record<string, string>>;

/** encodeURIComponent, plus `! ' ( ) *` as Alibaba wants them. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/!/g, '%21')
    .replace(/'/g, '%27')
    .replace(/\(/g, '%28')
    .replace(/\)/g, '%29')
    .replace(/\*/g, '%2A');
}

/** Sorted, encoded `k=v&k=v` over every parameter except `Signature`. */
export function canonicalQuery(params: RpcParams): string {
  return Object.keys(params)
    .filter((key) => key !== 'Signature')
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] ?? '')}`)
    .join('&');
}

export function stringToSign(method: string, params: RpcParams): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/** Base64 HMAC-SHA1 of the string to sign, keyed with `secret + "&"`. */
export function computeSignature(method: string, params: RpcParams, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`)
    .update(stringToSign(method, params), 'utf8')
    .digest('base64');
}

/** Constant-time comparison of the given signature with the expected one. */
export function signatureMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Signs `params` (adds `Signature`), for tests and tools that speak the protocol by hand. */
export function signParams(
  method: string,
  params: RpcParams,
  accessKeySecret: string,
): Record<string, string> {
  return { ...params, Signature: computeSignature(method, params, accessKeySecret) };
}
