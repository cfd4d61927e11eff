import { hmacSha256, invalid, missing, safeEqual } from '../delivery.js';
import type { Preset } from './preset.js';

/**
 * Any sender that signs like GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
 * The event may ride in the URL (`?event=…`), the delivery in an `Idempotency-Key` header.
 */
export const generic: Preset = {
  name: 'generic',
  signsTime: false,
  verify(delivery, key) {
    const header = delivery.header('x-hub-signature-256');
    if (header === undefined) return missing('X-Hub-Signature-256');
    const match = /^sha256=([0-9a-fA-F]+)$/.exec(header.trim());
    if (!match) return invalid('X-Hub-Signature-256 must look like sha256=<hex>');
    const expected = hmacSha256(key.secret, delivery.body).toString('hex');
    return safeEqual((match[1] as string).toLowerCase(), expected) ? { ok: true } : invalid();
  },
  event: (delivery) => delivery.query('event'),
  deliveryId: (delivery) => delivery.header('idempotency-key'),
};
