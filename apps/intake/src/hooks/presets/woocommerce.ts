import { hmacSha256, invalid, missing, safeEqual } from '../delivery.js';
import type { Preset } from './preset.js';

/**
 * WooCommerce: `X-WC-Webhook-Signature: <base64 HMAC-SHA256(secret, body)>`, the topic in
 * `X-WC-Webhook-Topic` (`product.updated`), the delivery in `X-WC-Webhook-Delivery-ID`. Saving a
 * webhook sends an unsigned form-encoded ping (`webhook_id=N`) that must get 200, or WooCommerce
 * refuses to activate it.
 */
export const woocommerce: Preset = {
  name: 'woocommerce',
  defaultPaths: ['{permalink}'],
  signsTime: false,
  verify(delivery, key) {
    const presented = delivery.header('x-wc-webhook-signature');
    if (presented === undefined) return missing('X-WC-Webhook-Signature');
    const expected = hmacSha256(key.secret, delivery.body).toString('base64');
    return safeEqual(presented.trim(), expected) ? { ok: true } : invalid();
  },
  event: (delivery) => delivery.header('x-wc-webhook-topic'),
  deliveryId: (delivery) => delivery.header('x-wc-webhook-delivery-id'),
  isPing: (delivery) =>
    delivery.header('x-wc-webhook-signature') === undefined &&
    /^webhook_id=\d{1,20}$/.test(delivery.body.toString('latin1').trim()),
};
