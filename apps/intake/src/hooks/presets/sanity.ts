import { fresh, hmacSha256, invalid, missing, safeEqual } from '../delivery.js';
import type { Preset } from './preset.js';

const SIGNATURE = /^t=(\d{1,16})[, ]+v1=([^, ]+)$/;

/**
 * Sanity (GROQ-powered webhooks): `sanity-webhook-signature: t=<ms>,v1=<base64url
 * HMAC-SHA256(secret, "<t>.<body>")>`, the operation in `sanity-operation`, the delivery in
 * `idempotency-key`. The body is the webhook's projection, so URLs are whatever it projects.
 */
export const sanity: Preset = {
  name: 'sanity',
  signsTime: true,
  verify(delivery, key, context) {
    const header = delivery.header('sanity-webhook-signature');
    if (header === undefined) return missing('sanity-webhook-signature');
    const match = SIGNATURE.exec(header.trim());
    if (!match) return invalid('sanity-webhook-signature must look like t=<ms>,v1=<base64url>');
    const [, t, presented] = match as unknown as [string, string, string];
    const expected = hmacSha256(key.secret, `${t}.`, delivery.body).toString('base64url');
    if (!safeEqual(presented, expected)) return invalid();
    return fresh(Number(t), context);
  },
  event: (delivery) => delivery.header('sanity-operation'),
  deliveryId: (delivery) => delivery.header('idempotency-key'),
};
