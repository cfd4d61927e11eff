import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * How each CMS signs its webhook deliveries, written from the CMS's own code and docs (not from
 * refreshq's verifiers), so the tests sign as the CMS would.
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/hooks/', import.meta.url));

/** The body of a delivery, byte for byte as the CMS sends it. */
export const fixture = (name: string): Buffer => readFileSync(`${FIXTURES}${name}.json`);

const hmac = (secret: string, ...parts: (string | Buffer)[]): Buffer => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** Ghost's WebhookTrigger: `sha256=${hmac(secret, `${reqPayload}${ts}`)}, t=${ts}`. */
export const ghostHeaders = (secret: string, body: Buffer, ts: number): Record<string, string> => ({
  'content-type': 'application/json',
  'content-version': 'v5.82',
  'x-ghost-signature': `sha256=${hmac(secret, body, String(ts)).toString('hex')}, t=${ts}`,
});

/** @sanity/webhook's encodeSignatureHeader: `t=<ms>,v1=<base64url hmac(secret, "<t>.<payload>")>`. */
export const sanityHeaders = (
  secret: string,
  body: Buffer,
  ts: number,
  extra: { idempotencyKey: string; operation: string },
): Record<string, string> => ({
  'content-type': 'application/json',
  'sanity-webhook-signature': `t=${ts},v1=${hmac(secret, `${ts}.`, body).toString('base64url')}`,
  'idempotency-key': extra.idempotencyKey,
  'sanity-operation': extra.operation,
  'sanity-project-id': 'x7q2k9m4',
  'sanity-dataset': 'production',
  'sanity-document-id': 'a7c3a9f5-0f8b-4d6e-9b1f-1c2d3e4f5a6b',
  'sanity-webhook-id': 'kS5Ct1MrPyFOpP0d',
});

/**
 * @contentful/node-apps-toolkit's signRequest: the named headers lower-cased and trimmed, plus
 * x-contentful-timestamp and x-contentful-signed-headers, sorted; HMAC (hex) of
 * `method\npath\nk:v;…\nbody`. Only plain paths (no query) here.
 */
export function contentfulHeaders(
  secret: string,
  request: { path: string; headers: Record<string, string>; body: Buffer; ts: number },
): Record<string, string> {
  if (request.path.includes('?') || encodeURI(request.path) !== request.path)
    throw new Error('plain paths only');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    headers[name.toLowerCase().trim()] = value.trim();
  headers['x-contentful-timestamp'] = String(request.ts);
  const names = [...new Set([...Object.keys(headers), 'x-contentful-signed-headers'])].sort();
  headers['x-contentful-signed-headers'] = names.join(',');
  const canonical = `POST\n${request.path}\n${names.map((name) => `${name}:${headers[name]}`).join(';')}\n`;
  return {
    ...request.headers,
    'x-contentful-signature': hmac(secret, canonical, request.body).toString('hex'),
    'x-contentful-signed-headers': headers['x-contentful-signed-headers'] as string,
    'x-contentful-timestamp': String(request.ts),
  };
}

/** WC_Webhook::generate_signature: base64_encode(hash_hmac('sha256', $payload, $secret, true)). */
export const wooHeaders = (
  secret: string,
  body: Buffer,
  extra: { topic: string; deliveryId: string },
): Record<string, string> => ({
  'content-type': 'application/json',
  'user-agent': 'WooCommerce/8.8.3 Hookshot (WordPress/6.5.2)',
  'x-wc-webhook-source': 'https://shop.example.com/',
  'x-wc-webhook-topic': extra.topic,
  'x-wc-webhook-resource': extra.topic.split('.')[0] as string,
  'x-wc-webhook-event': extra.topic.split('.')[1] as string,
  'x-wc-webhook-signature': hmac(secret, body).toString('base64'),
  'x-wc-webhook-id': '17',
  'x-wc-webhook-delivery-id': extra.deliveryId,
});

/** Strapi sends the headers configured with the webhook: here `Authorization: Bearer <secret>`. */
export const strapiHeaders = (secret: string, event: string): Record<string, string> => ({
  'content-type': 'application/json',
  'x-strapi-event': event,
  authorization: `Bearer ${secret}`,
});

/** GitHub-style: `X-Hub-Signature-256: sha256=<hex hmac(secret, body)>`. */
export const hubHeaders = (secret: string, body: Buffer): Record<string, string> => ({
  'content-type': 'application/json',
  'x-hub-signature-256': `sha256=${hmac(secret, body).toString('hex')}`,
});

/** The same bytes with one of them changed (inside a string value, so the JSON stays valid). */
export function oneByteChanged(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const at = copy.indexOf('e', Math.floor(copy.length / 2));
  if (at === -1) throw new Error('no byte to change');
  copy[at] = 'f'.charCodeAt(0);
  return copy;
}

/** POSTs raw bytes, as a CMS does. */
export async function deliver(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}
