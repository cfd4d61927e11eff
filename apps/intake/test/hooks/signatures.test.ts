import { describe, expect, it } from 'vitest';
import type { Delivery, HookKey, Verdict } from '../../src/hooks/delivery.js';
import { PRESETS, type PresetName } from '../../src/hooks/presets/index.js';
import {
  contentfulHeaders,
  fixture,
  ghostHeaders,
  hubHeaders,
  oneByteChanged,
  sanityHeaders,
  strapiHeaders,
  wooHeaders,
} from '../../../../test/support/cms-webhooks.js';

function delivery(body: Buffer | string, headers: Record<string, string>, target = '/v1/hooks/h'): Delivery {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase().trim(), value]));
  const query = new URL(target, 'http://x').searchParams;
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    method: 'POST',
    target,
    header: (name) => lower.get(name),
    query: (name) => query.get(name) ?? undefined,
  };
}

const verify = (
  preset: PresetName,
  d: Delivery,
  secret: string,
  now: number,
  header = 'authorization',
): Verdict => PRESETS[preset].verify(d, { secret, header } satisfies HookKey, { now, toleranceMs: 300_000 });

describe('sanity: the vectors of @sanity/webhook', () => {
  // test/signature.test.ts of sanity-io/webhook-toolkit
  const secret = 'test';
  const body = JSON.stringify({ _id: 'resume' });
  const at = 1633519811129;

  it('accepts its valid signature', () => {
    const header = 't=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0';
    expect(verify('sanity', delivery(body, { 'sanity-webhook-signature': header }), secret, at)).toEqual({
      ok: true,
      timestamp: at,
    });
    const spaced = 't=1633519811129, v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0';
    expect(verify('sanity', delivery(body, { 'sanity-webhook-signature': spaced }), secret, at).ok).toBe(
      true,
    );
  });

  it('refuses the changed timestamp, hash, payload and version of its negative cases', () => {
    const cases: [string, string][] = [
      [body, 't=1633519811128,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0'],
      [body, 't=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N1'],
      [
        JSON.stringify({ _id: 'structure' }),
        't=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0',
      ],
      [body, 't=1633519811129,v5=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0'],
    ];
    for (const [payload, header] of cases) {
      const verdict = verify('sanity', delivery(payload, { 'sanity-webhook-signature': header }), secret, at);
      expect(verdict).toMatchObject({ ok: false, code: 'invalid_signature' });
    }
  });

  it('matches its encodeSignatureHeader vector', () => {
    const payload = JSON.stringify({ title: 'GROQ-Hooks are neat' });
    const header = 't=1633518820676,v1=e7C9h2sfbFfc4V7TEz7PSOp4IoNzl0UdVsBV-1wgdeA';
    expect(
      verify('sanity', delivery(payload, { 'sanity-webhook-signature': header }), 'try-me', 1633518820676).ok,
    ).toBe(true);
    expect(
      sanityHeaders('try-me', Buffer.from(payload), 1633518820676, {
        idempotencyKey: 'k',
        operation: 'update',
      })['sanity-webhook-signature'],
    ).toBe(header);
  });

  it('refuses a valid signature older than the tolerance', () => {
    const header = 't=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0';
    const verdict = verify(
      'sanity',
      delivery(body, { 'sanity-webhook-signature': header }),
      secret,
      at + 300_001,
    );
    expect(verdict).toMatchObject({ ok: false, code: 'stale_timestamp' });
  });
});

describe('contentful: vectors made by @contentful/node-apps-toolkit 3.16.1 signRequest', () => {
  // Produced once with the toolkit itself (signRequest, then checked with its verifyRequest) over
  // test/fixtures/hooks/contentful-entry-publish.json; the toolkit is not a dependency.
  const secret = 'Vx2JcQ6kQ0mZtW8yBf3nR5uP1sLd7aHgK9eT4oYiXbNqMzCvEwRjUlSpDhFgAk0=';
  const body = fixture('contentful-entry-publish');
  const at = 1714644115871;
  const vectors: { target: string; headers: Record<string, string> }[] = [
    {
      target: '/v1/hooks/cms',
      headers: {
        'Content-Type': 'application/vnd.contentful.management.v1+json',
        'X-Contentful-Topic': 'ContentManagement.Entry.publish',
        'X-Contentful-Webhook-Name': 'refreshq',
        'x-contentful-signature': '7289c19c9d51d2ce41a90e875e033ad9516019129537e21c97b0db56289f54d2',
        'x-contentful-signed-headers':
          'content-type,x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic,x-contentful-webhook-name',
        'x-contentful-timestamp': '1714644115871',
      },
    },
    {
      target: '/v1/hooks/cms?space=yadj1kx9rmg0&note=a%20b',
      headers: {
        'x-contentful-topic': 'ContentManagement.Entry.publish',
        'X-Custom-Header': '  padded value  ',
        'x-contentful-signature': 'd3ab3f5b6e64db8deeb90651ba1ba997a81d65c469c4b841859a04c8573af62e',
        'x-contentful-signed-headers':
          'x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic,x-custom-header',
        'x-contentful-timestamp': '1714644115871',
      },
    },
    {
      target: '/v1/hooks/cms',
      headers: {
        'x-contentful-signature': '15f44931e9c905a3f698b844cbd029bebe7f39f9cf9c1d929a800dc142f31879',
        'x-contentful-signed-headers': 'x-contentful-signed-headers,x-contentful-timestamp',
        'x-contentful-timestamp': '1714644115871',
      },
    },
  ];

  it.each(vectors.map((vector, index) => [index, vector] as const))('accepts vector %i', (_index, vector) => {
    expect(verify('contentful', delivery(body, vector.headers, vector.target), secret, at)).toEqual({
      ok: true,
      timestamp: at,
    });
  });

  it('signs vector 0 the same way in the tests’ own signer', () => {
    const { headers } = vectors[0]!;
    const signed = contentfulHeaders(secret, {
      path: '/v1/hooks/cms',
      headers: {
        'Content-Type': headers['Content-Type']!,
        'X-Contentful-Topic': headers['X-Contentful-Topic']!,
        'X-Contentful-Webhook-Name': headers['X-Contentful-Webhook-Name']!,
      },
      body,
      ts: at,
    });
    expect(signed['x-contentful-signature']).toBe(headers['x-contentful-signature']);
    expect(signed['x-contentful-signed-headers']).toBe(headers['x-contentful-signed-headers']);
  });

  it('refuses a changed body, signed header, path, method, timestamp or secret', () => {
    const good = vectors[0]!;
    const changed: Delivery[] = [
      delivery(oneByteChanged(body), good.headers, good.target),
      delivery(
        body,
        { ...good.headers, 'X-Contentful-Topic': 'ContentManagement.Entry.delete' },
        good.target,
      ),
      delivery(body, good.headers, '/v1/hooks/other'),
      { ...delivery(body, good.headers, good.target), method: 'PUT' },
      delivery(body, { ...good.headers, 'x-contentful-timestamp': String(at + 1) }, good.target),
    ];
    for (const d of changed)
      expect(verify('contentful', d, secret, at)).toMatchObject({ code: 'invalid_signature' });
    expect(
      verify('contentful', delivery(body, good.headers, good.target), `q${secret.slice(1)}`, at),
    ).toMatchObject({
      code: 'invalid_signature',
    });
  });

  it('ignores headers it did not sign, and refuses a stale signature', () => {
    const good = vectors[0]!;
    expect(
      verify('contentful', delivery(body, { ...good.headers, 'x-extra': 'y' }, good.target), secret, at).ok,
    ).toBe(true);
    expect(
      verify('contentful', delivery(body, good.headers, good.target), secret, at + 301_000),
    ).toMatchObject({
      code: 'stale_timestamp',
    });
  });

  it('says which part is missing', () => {
    const { 'x-contentful-signature': _s, ...unsigned } = vectors[0]!.headers;
    expect(verify('contentful', delivery(body, unsigned), secret, at)).toMatchObject({
      code: 'missing_signature',
    });
    const { 'x-contentful-timestamp': _t, ...noTime } = vectors[0]!.headers;
    expect(verify('contentful', delivery(body, noTime), secret, at)).toMatchObject({
      code: 'invalid_signature',
    });
  });
});

describe('ghost: signed as Ghost’s WebhookTrigger signs', () => {
  const secret = 'ghost-secret-0123456789';
  const body = fixture('ghost-post-published-edited');
  const at = 1714644115871;

  it('accepts its header, refuses a changed byte, another secret, another t and an old t', () => {
    const headers = ghostHeaders(secret, body, at);
    expect(verify('ghost', delivery(body, headers), secret, at + 1000)).toEqual({ ok: true, timestamp: at });
    expect(verify('ghost', delivery(oneByteChanged(body), headers), secret, at)).toMatchObject({
      code: 'invalid_signature',
    });
    expect(verify('ghost', delivery(body, headers), 'another-secret-0123456789', at)).toMatchObject({
      code: 'invalid_signature',
    });
    const moved = headers['x-ghost-signature']!.replace(`t=${at}`, `t=${at + 1}`);
    expect(verify('ghost', delivery(body, { 'x-ghost-signature': moved }), secret, at)).toMatchObject({
      code: 'invalid_signature',
    });
    expect(verify('ghost', delivery(body, headers), secret, at + 301_000)).toMatchObject({
      code: 'stale_timestamp',
    });
    expect(verify('ghost', delivery(body, {}), secret, at)).toMatchObject({ code: 'missing_signature' });
    expect(verify('ghost', delivery(body, { 'x-ghost-signature': 'sha256=abc' }), secret, at)).toMatchObject({
      code: 'invalid_signature',
    });
  });
});

describe('woocommerce, generic and strapi: signed as their senders sign', () => {
  const secret = 'shared-secret-0123456789';

  it('woocommerce: base64 HMAC of the body as sent (escaped slashes and all)', () => {
    const body = fixture('woocommerce-product-updated');
    expect(body.includes('https:\\/\\/shop.example.com')).toBe(true);
    const headers = wooHeaders(secret, body, { topic: 'product.updated', deliveryId: 'd1' });
    expect(verify('woocommerce', delivery(body, headers), secret, 0)).toEqual({ ok: true });
    expect(verify('woocommerce', delivery(oneByteChanged(body), headers), secret, 0).ok).toBe(false);
    expect(verify('woocommerce', delivery(body, headers), `${secret}x`, 0).ok).toBe(false);
    expect(PRESETS.woocommerce.isPing?.(delivery('webhook_id=17', {}))).toBe(true);
    expect(PRESETS.woocommerce.isPing?.(delivery('webhook_id=17', headers))).toBe(false);
    expect(PRESETS.woocommerce.isPing?.(delivery(body, {}))).toBe(false);
  });

  it('generic: sha256=<hex HMAC of the body>', () => {
    const body = fixture('generic-page-published');
    const headers = hubHeaders(secret, body);
    expect(verify('generic', delivery(body, headers), secret, 0)).toEqual({ ok: true });
    const upper = {
      'x-hub-signature-256': `sha256=${headers['x-hub-signature-256']!.slice(7).toUpperCase()}`,
    };
    expect(verify('generic', delivery(body, upper), secret, 0).ok).toBe(true);
    expect(verify('generic', delivery(oneByteChanged(body), headers), secret, 0).ok).toBe(false);
    expect(verify('generic', delivery(body, headers), `${secret}x`, 0).ok).toBe(false);
  });

  it('strapi: the secret in the configured header, bare or after Bearer', () => {
    const body = fixture('strapi-entry-publish');
    expect(verify('strapi', delivery(body, strapiHeaders(secret, 'entry.publish')), secret, 0).ok).toBe(true);
    expect(
      verify('strapi', delivery(body, { 'x-webhook-token': secret }), secret, 0, 'x-webhook-token').ok,
    ).toBe(true);
    expect(verify('strapi', delivery(body, strapiHeaders(`${secret}x`, 'entry.publish')), secret, 0).ok).toBe(
      false,
    );
    expect(
      verify('strapi', delivery(body, { authorization: `Bearer ${secret.slice(0, 8)}` }), secret, 0).ok,
    ).toBe(false);
    expect(verify('strapi', delivery(body, {}), secret, 0)).toMatchObject({ code: 'missing_signature' });
  });
});

describe('ghost: the version before the change', () => {
  it('rebuilds the old URL from the old slug, and takes unchanged fields from current', () => {
    const body = JSON.parse(fixture('ghost-post-published-edited').toString());
    const views = PRESETS.ghost.views!(body) as any[];
    expect(views).toHaveLength(2);
    expect(views[0]).toBe(body);
    expect(views[1].post.current.url).toBe('https://cdn.example.com/trailer-draft/');
    expect(views[1].post.current.slug).toBe('trailer-draft');
    expect(views[1].post.current.feature_image).toBe(body.post.current.feature_image);
  });

  it('has nothing before a new post, and keeps a URL Ghost sends in previous', () => {
    expect(
      PRESETS.ghost.views!({ post: { current: { url: 'https://a.example.com/x/' }, previous: {} } }),
    ).toHaveLength(1);
    const sent = {
      post: {
        current: { slug: 'b', url: 'https://a.example.com/b/' },
        previous: { slug: 'a', url: 'https://a.example.com/old/' },
      },
    };
    expect((PRESETS.ghost.views!(sent)[1] as any).post.current.url).toBe('https://a.example.com/old/');
  });
});
