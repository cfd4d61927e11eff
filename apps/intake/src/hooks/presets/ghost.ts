import { fresh, hmacSha256, headerPairs, invalid, missing, safeEqual } from '../delivery.js';
import type { Preset } from './preset.js';

/** Ghost's resources that have a public URL, each sent as `{<resource>: {current, previous}}`. */
const RESOURCES = ['post', 'page', 'tag'] as const;

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The resource as it was before this change. Ghost's `previous` holds only the fields that changed
 * and never the computed `url`, so the rest comes from `current`, and the URL is rebuilt with the
 * old slug when the slug changed.
 */
function before(current: Fields, previous: Fields): Fields {
  const past: Fields = { ...current, ...previous };
  const { slug: newSlug, url } = current;
  const oldSlug = previous.slug;
  if (
    previous.url === undefined &&
    typeof url === 'string' &&
    typeof newSlug === 'string' &&
    typeof oldSlug === 'string' &&
    newSlug !== '' &&
    oldSlug !== newSlug
  ) {
    const segment = `/${newSlug}/`;
    const at = url.lastIndexOf(segment);
    past.url = at === -1 ? undefined : `${url.slice(0, at)}/${oldSlug}/${url.slice(at + segment.length)}`;
  }
  return past;
}

/**
 * Ghost: `X-Ghost-Signature: sha256=<hex HMAC-SHA256(secret, body + t)>, t=<ms>`. Ghost names the
 * event only in the webhook it fires, so the URL configured in Ghost carries it: `?event=…`.
 */
export const ghost: Preset = {
  name: 'ghost',
  defaultPaths: ['{post.current.url}', '{page.current.url}', '{tag.current.url}'],
  signsTime: true,
  verify(delivery, key, context) {
    const header = delivery.header('x-ghost-signature');
    if (header === undefined) return missing('X-Ghost-Signature');
    const pairs = headerPairs(header);
    const signature = pairs.get('sha256')?.toLowerCase();
    const t = pairs.get('t');
    if (!signature || !t || !/^\d{1,16}$/.test(t))
      return invalid('X-Ghost-Signature must look like sha256=<hex>, t=<ms>');
    const expected = hmacSha256(key.secret, delivery.body, t).toString('hex');
    if (!safeEqual(signature, expected)) return invalid();
    return fresh(Number(t), context);
  },
  event: (delivery) => delivery.query('event'),
  deliveryId: () => undefined,
  views(body) {
    if (!isFields(body)) return [body];
    let past: Fields | undefined;
    for (const resource of RESOURCES) {
      const entry = body[resource];
      if (!isFields(entry) || !isFields(entry.current) || !isFields(entry.previous)) continue;
      if (Object.keys(entry.previous).length === 0) continue;
      past ??= { ...body };
      past[resource] = { ...entry, current: before(entry.current, entry.previous) };
    }
    return past ? [body, past] : [body];
  },
};
