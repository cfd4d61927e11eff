import { invalid, missing, safeEqual } from '../delivery.js';
import type { Preset } from './preset.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Strapi signs nothing: its webhooks send the headers configured with them, so the secret travels
 * in one (`Authorization: Bearer <secret>` by default, or the hook's `header`), compared in
 * constant time. The event is in `X-Strapi-Event` and in the body's `event`. No timestamp, no
 * delivery id: a retry is recognised by its body.
 */
export const strapi: Preset = {
  name: 'strapi',
  signsTime: false,
  verify(delivery, key) {
    const presented = delivery.header(key.header);
    if (presented === undefined) return missing(key.header);
    const value = presented.trim();
    // Both forms are always compared, so the timing does not say which one was tried.
    const plain = safeEqual(value, key.secret);
    const bearer = safeEqual(value, `Bearer ${key.secret}`);
    return plain || bearer
      ? { ok: true }
      : invalid(`the ${key.header} header does not hold this hook's secret`);
  },
  event: (delivery, body) =>
    delivery.header('x-strapi-event') ??
    (isRecord(body) && typeof body.event === 'string' ? body.event : undefined),
  deliveryId: () => undefined,
};
