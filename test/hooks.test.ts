import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { intakeEnvSchema, type RunningIntake, startIntake } from '@refreshq/intake';
import { createLogger } from '@refreshq/telemetry';
import { testNamespace } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentfulHeaders,
  deliver,
  fixture,
  ghostHeaders,
  hubHeaders,
  oneByteChanged,
  sanityHeaders,
  strapiHeaders,
  wooHeaders,
} from './support/cms-webhooks.js';
import { cleanNamespace, getJson, redisUrl } from './support/stack.js';

const SECRETS = {
  HOOKS_TEST_GHOST: 'ghost-secret-1f6a8c2e9b04d7',
  HOOKS_TEST_SANITY: 'sanity-secret-7d1e3b9a5c2f08',
  HOOKS_TEST_CONTENTFUL: 'Qm4vT8xZ2pL6nR0sK3wY7bH1cJ5dF9gA2eU6iO0tN4mX8zB3vC7kP1qW5rE9yL2j',
  HOOKS_TEST_STRAPI: 'strapi-secret-4b8e2a6c0d9f13',
  HOOKS_TEST_WOO: 'woo-secret-9c3f7a1e5b2d80',
  HOOKS_TEST_GENERIC: 'generic-secret-2e6a0c4f8b1d57',
};
const TOKEN = 'intake-token-0123456789abcdef';

const HOOKS_YAML = `
hooks:
  blog:
    preset: ghost
    secretEnv: HOOKS_TEST_GHOST
  blog-videos:
    preset: ghost
    secretEnv: HOOKS_TEST_GHOST
    events: [post.published, post.published.edited]
    paths:
      - "https://cdn.example.com/videos/{post.current.slug}/index.m3u8"
      - "{post.current.feature_image}"
  studio:
    preset: sanity
    secretEnv: HOOKS_TEST_SANITY
    paths:
      - "https://cdn.example.com/videos/{slug.current}/index.m3u8"
      - "{renditions[].url}"
  cms:
    preset: contentful
    secretEnv: HOOKS_TEST_CONTENTFUL
    events: [ContentManagement.Entry.publish, ContentManagement.Entry.unpublish]
    paths:
      - "{fields.hlsUrl[]}"
      - "https://cdn.example.com/videos/{fields.slug[]}/poster.jpg"
  strapi:
    preset: strapi
    secretEnv: HOOKS_TEST_STRAPI
    paths:
      - "https://cdn.example.com/videos/{entry.slug}/index.m3u8"
      - "{entry.poster.url}"
      - "{entry.poster.formats[].url}"
  strapi-media:
    preset: strapi
    secretEnv: HOOKS_TEST_STRAPI
    header: X-Refreshq-Token
    paths: ["{media.url}"]
  shop:
    preset: woocommerce
    secretEnv: HOOKS_TEST_WOO
    priority: high
  docs:
    preset: generic
    secretEnv: HOOKS_TEST_GENERIC
    paths: ["{page.url}", "{page.assets[]}"]
  open:
    preset: generic
    unsigned: true
    paths: ["{url}"]
`;

let intake: RunningIntake;
let url: string;
const namespace = testNamespace('hooks');
const logStream = new PassThrough();
let logText = '';
logStream.on('data', (chunk: Buffer) => {
  logText += chunk.toString();
});

beforeAll(async () => {
  Object.assign(process.env, SECRETS);
  const dir = mkdtempSync(join(tmpdir(), 'refreshq-hooks-'));
  writeFileSync(join(dir, 'hooks.yml'), HOOKS_YAML);
  const env = intakeEnvSchema.parse({
    REDIS_URL: redisUrl(),
    REFRESHQ_NAMESPACE: namespace,
    PORT: '0',
    HOST: '127.0.0.1',
    INTAKE_TOKENS: TOKEN,
    MAX_BODY_BYTES: '65536',
    WEBHOOKS_FILE: join(dir, 'hooks.yml'),
  });
  const logger = createLogger({ name: 'intake', level: 'info', destination: logStream });
  intake = await startIntake(env, logger);
  url = intake.url;
});

afterAll(async () => {
  intake.server.closeAllConnections();
  await intake.stop();
  await cleanNamespace(namespace);
});

async function queued(): Promise<number> {
  const counts = await intake.queue.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
  );
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function pathsOf(id: string): Promise<string[]> {
  const status = await getJson(`${url}/v1/refreshes/${id}`, { authorization: `Bearer ${TOKEN}` });
  expect(status.status).toBe(200);
  return status.body.paths.map((entry: { path: string }) => entry.path).sort();
}

/** The same shape with another timestamp in it: another event with the same fields. */
const variant = (body: Buffer, n: number): Buffer =>
  Buffer.from(body.toString().replaceAll('10:01:55', `10:0${n % 10}:55`));

interface Signing {
  secret: string;
  /** Signed time, ms. */
  ts: number;
  /** Delivery id, where the scheme has one. */
  id: string;
}

interface PresetCase {
  preset: string;
  hook: string;
  target?: string;
  secret: string;
  signsTime: boolean;
  body: Buffer;
  nothing: Buffer;
  nothingEvent?: string;
  expected: string[];
  sign(body: Buffer, how: Signing, event?: string): Record<string, string>;
}

const cases: PresetCase[] = [
  {
    preset: 'ghost',
    hook: 'blog',
    target: '/v1/hooks/blog?event=post.published.edited',
    secret: SECRETS.HOOKS_TEST_GHOST,
    signsTime: true,
    body: fixture('ghost-post-published-edited'),
    nothing: fixture('ghost-member-added'),
    // The slug changed (previous.slug): the old URL is refreshed too.
    expected: ['https://cdn.example.com/launch-trailer/', 'https://cdn.example.com/trailer-draft/'],
    sign: (body, how) => ghostHeaders(how.secret, body, how.ts),
  },
  {
    preset: 'sanity',
    hook: 'studio',
    secret: SECRETS.HOOKS_TEST_SANITY,
    signsTime: true,
    body: fixture('sanity-video-update'),
    nothing: fixture('sanity-category-create'),
    expected: [
      'https://cdn.example.com/videos/launch-trailer/1080p.m3u8',
      'https://cdn.example.com/videos/launch-trailer/720p.m3u8',
      'https://cdn.example.com/videos/launch-trailer/index.m3u8',
    ],
    sign: (body, how, event = 'update') =>
      sanityHeaders(how.secret, body, how.ts, { idempotencyKey: how.id, operation: event }),
  },
  {
    preset: 'contentful',
    hook: 'cms',
    secret: SECRETS.HOOKS_TEST_CONTENTFUL,
    signsTime: true,
    body: fixture('contentful-entry-publish'),
    nothing: fixture('contentful-entry-unpublish'),
    nothingEvent: 'ContentManagement.Entry.unpublish',
    expected: [
      'https://cdn.example.com/videos/launch-trailer/index.m3u8',
      'https://cdn.example.com/videos/launch-trailer/poster.jpg',
      'https://cdn.example.com/videos/startvorschau/poster.jpg',
    ],
    sign: (body, how, event = 'ContentManagement.Entry.publish') => ({
      ...contentfulHeaders(how.secret, {
        path: '/v1/hooks/cms',
        headers: {
          'Content-Type': 'application/vnd.contentful.management.v1+json',
          'X-Contentful-Topic': event,
          'X-Contentful-Webhook-Name': 'refreshq',
        },
        body,
        ts: how.ts,
      }),
      'x-contentful-idempotency-key': how.id,
    }),
  },
  {
    preset: 'strapi',
    hook: 'strapi',
    secret: SECRETS.HOOKS_TEST_STRAPI,
    signsTime: false,
    body: fixture('strapi-entry-publish'),
    nothing: fixture('strapi-entry-create-address'),
    nothingEvent: 'entry.create',
    expected: [
      'https://cdn.example.com/uploads/poster_3f9a1c.jpg',
      'https://cdn.example.com/uploads/thumbnail_poster_3f9a1c.jpg',
      'https://cdn.example.com/videos/launch-trailer/index.m3u8',
    ],
    sign: (_body, how, event = 'entry.publish') => strapiHeaders(how.secret, event),
  },
  {
    preset: 'woocommerce',
    hook: 'shop',
    secret: SECRETS.HOOKS_TEST_WOO,
    signsTime: false,
    body: fixture('woocommerce-product-updated'),
    nothing: fixture('woocommerce-product-deleted'),
    nothingEvent: 'product.deleted',
    expected: ['https://shop.example.com/product/launch-trailer-4k/'],
    sign: (body, how, event = 'product.updated') =>
      wooHeaders(how.secret, body, { topic: event, deliveryId: how.id }),
  },
  {
    preset: 'generic',
    hook: 'docs',
    secret: SECRETS.HOOKS_TEST_GENERIC,
    signsTime: false,
    body: fixture('generic-page-published'),
    nothing: fixture('generic-ping'),
    expected: ['https://cdn.example.com/docs/intro/', 'https://cdn.example.com/docs/intro/diagram.svg'],
    sign: (body, how) => ({ ...hubHeaders(how.secret, body), 'idempotency-key': how.id }),
  },
];

let serial = 0;
const fresh = (secret: string): Signing => ({ secret, ts: Date.now(), id: `delivery-${++serial}` });

describe.each(cases)('POST /v1/hooks/:name, preset $preset', (c) => {
  const target = () => `${url}${c.target ?? `/v1/hooks/${c.hook}`}`;

  it('queues the mapped paths of a valid delivery, normalised, and answers 202 after Redis has them', async () => {
    const before = await queued();
    const body = variant(c.body, 1);
    const answer = await deliver(target(), body, c.sign(body, fresh(c.secret)));
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({
      accepted: c.expected.length,
      replayed: false,
      state: 'queued',
      hook: c.hook,
    });
    expect(answer.headers.get('location')).toBe(`/v1/refreshes/${answer.body.id}`);
    expect(await queued()).toBe(before + 1);
    expect(await pathsOf(answer.body.id)).toEqual(c.expected);
  });

  it('refuses the delivery with one byte changed: 401, nothing queued', async () => {
    const before = await queued();
    const body = variant(c.body, 2);
    const headers = c.sign(body, fresh(c.secret));
    const answer = await deliver(target(), oneByteChanged(body), headers);
    // Strapi signs nothing, so a changed body still carries the right secret: it is accepted.
    if (c.preset === 'strapi') {
      expect(answer.status).toBe(202);
      return;
    }
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('invalid_signature');
    expect(await queued()).toBe(before);
  });

  it('refuses the delivery signed with another secret: 401, nothing queued', async () => {
    const before = await queued();
    const body = variant(c.body, 3);
    const answer = await deliver(target(), body, c.sign(body, fresh(`${c.secret.slice(0, -1)}X`)));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('invalid_signature');
    expect(answer.body.error.message).not.toContain(c.secret);
    expect(await queued()).toBe(before);
  });

  it(
    c.signsTime
      ? 'refuses a validly signed delivery whose timestamp is 10 minutes old: 401 stale_timestamp'
      : 'signs no time: an old delivery sent again is known by its bytes and queues nothing',
    async () => {
      const body = variant(c.body, 4);
      const old = { ...fresh(c.secret), ts: Date.now() - 10 * 60_000 };
      if (c.signsTime) {
        const before = await queued();
        const answer = await deliver(target(), body, c.sign(body, old));
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe('stale_timestamp');
        expect(await queued()).toBe(before);
        return;
      }
      const first = await deliver(target(), body, c.sign(body, old));
      const before = await queued();
      const again = await deliver(target(), body, c.sign(body, old));
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ id: first.body.id, replayed: true });
      expect(await queued()).toBe(before);
    },
  );

  it('answers the same delivery twice with the first answer and queues nothing new', async () => {
    const body = variant(c.body, 5);
    const how = fresh(c.secret);
    const before = await queued();
    const first = await deliver(target(), body, c.sign(body, how));
    const second = await deliver(target(), body, c.sign(body, how));
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ id: first.body.id, accepted: first.body.accepted, replayed: true });
    expect(await queued()).toBe(before + 1);
  });

  it('answers an event that maps to no path with 202 accepted 0 and the reason, queueing nothing', async () => {
    const before = await queued();
    const nothingTarget = c.preset === 'ghost' ? `${url}/v1/hooks/blog?event=member.added` : target();
    const answer = await deliver(
      nothingTarget,
      c.nothing,
      c.sign(c.nothing, fresh(c.secret), c.nothingEvent),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 0, reason: 'no_paths', hook: c.hook });
    expect(await queued()).toBe(before);
  });
});

describe('POST /v1/hooks/:name, answers a CMS can live with', () => {
  const ghostSecret = SECRETS.HOOKS_TEST_GHOST;

  it('unknown hook: 404', async () => {
    const body = fixture('ghost-post-published-edited');
    const answer = await deliver(`${url}/v1/hooks/nope`, body, ghostHeaders(ghostSecret, body, Date.now()));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('hook_not_found');
  });

  it('an event outside the hook’s events: 202 accepted 0 event_filtered; none named: event_unknown', async () => {
    const before = await queued();
    const body = variant(fixture('ghost-post-published-edited'), 6);
    const filtered = await deliver(
      `${url}/v1/hooks/blog-videos?event=post.unpublished`,
      body,
      ghostHeaders(ghostSecret, body, Date.now()),
    );
    expect(filtered.status).toBe(202);
    expect(filtered.body).toMatchObject({ accepted: 0, reason: 'event_filtered', event: 'post.unpublished' });
    const unnamed = await deliver(
      `${url}/v1/hooks/blog-videos`,
      body,
      ghostHeaders(ghostSecret, body, Date.now()),
    );
    expect(unnamed.body).toMatchObject({ accepted: 0, reason: 'event_unknown' });
    expect(await queued()).toBe(before);
    const kept = await deliver(
      `${url}/v1/hooks/blog-videos?event=post.published.edited`,
      body,
      ghostHeaders(ghostSecret, body, Date.now()),
    );
    expect(kept.status).toBe(202);
    expect(await pathsOf(kept.body.id)).toEqual([
      'https://cdn.example.com/content/images/2024/05/trailer-poster.jpg',
      'https://cdn.example.com/videos/launch-trailer/index.m3u8',
      'https://cdn.example.com/videos/trailer-draft/index.m3u8',
    ]);
  });

  it('a mapped path that fails validation: 422 naming the template, nothing queued', async () => {
    const before = await queued();
    // Strapi's local upload provider sends relative URLs.
    const body = Buffer.from(
      JSON.stringify({
        event: 'media.create',
        createdAt: '2024-05-02T10:58:41.115Z',
        media: {
          id: 1,
          name: 'poster.png',
          ext: '.png',
          mime: 'image/png',
          url: '/uploads/poster_353fc9.png',
          provider: 'local',
        },
      }),
    );
    const answer = await deliver(`${url}/v1/hooks/strapi-media`, body, {
      'content-type': 'application/json',
      'x-strapi-event': 'media.create',
      'x-refreshq-token': SECRETS.HOOKS_TEST_STRAPI,
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('invalid_path');
    expect(answer.body.error.message).toContain('{media.url}');
    expect(answer.body.error.details[0]).toMatchObject({
      template: '{media.url}',
      reason: 'unsupported_scheme',
    });
    expect(await queued()).toBe(before);
  });

  it('missing signature: 401', async () => {
    const body = fixture('woocommerce-product-updated');
    const answer = await deliver(`${url}/v1/hooks/shop`, body, { 'content-type': 'application/json' });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('missing_signature');
  });

  it('woocommerce’s ping when a webhook is saved: 200, nothing queued', async () => {
    const before = await queued();
    const answer = await deliver(`${url}/v1/hooks/shop`, 'webhook_id=17', {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'WooCommerce/8.8.3 Hookshot (WordPress/6.5.2)',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, ping: true });
    expect(await queued()).toBe(before);
  });

  it('sanity: a later event with the same body but its own delivery id is queued again', async () => {
    const body = variant(fixture('sanity-video-update'), 7);
    const secret = SECRETS.HOOKS_TEST_SANITY;
    const first = await deliver(
      `${url}/v1/hooks/studio`,
      body,
      sanityHeaders(secret, body, Date.now(), { idempotencyKey: 'msg-a', operation: 'update' }),
    );
    const second = await deliver(
      `${url}/v1/hooks/studio`,
      body,
      sanityHeaders(secret, body, Date.now(), { idempotencyKey: 'msg-b', operation: 'update' }),
    );
    expect(second.body.replayed).toBe(false);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('signed hooks need no bearer token; an unsigned hook does when INTAKE_TOKENS is set', async () => {
    const body = JSON.stringify({ url: 'https://cdn.example.com/open/a.png' });
    const refused = await deliver(`${url}/v1/hooks/open`, body, { 'content-type': 'application/json' });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');
    const accepted = await deliver(`${url}/v1/hooks/open`, body, {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body.accepted).toBe(1);
  });

  it('a signed body that is not JSON: 400', async () => {
    const body = Buffer.from('<xml/>');
    const answer = await deliver(`${url}/v1/hooks/docs`, body, hubHeaders(SECRETS.HOOKS_TEST_GENERIC, body));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_json');
  });

  it('a body over MAX_BODY_BYTES: 413, nothing queued', async () => {
    const before = await queued();
    const body = Buffer.from(JSON.stringify({ url: 'https://cdn.example.com/a', pad: 'x'.repeat(70_000) }));
    const answer = await deliver(`${url}/v1/hooks/docs`, body, hubHeaders(SECRETS.HOOKS_TEST_GENERIC, body));
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
    expect(await queued()).toBe(before);
  });

  it('counts deliveries per hook and outcome, and logs each without secret or signature', async () => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const series of [
      'refreshq_intake_hook_deliveries_total{hook="blog",outcome="accepted"',
      'refreshq_intake_hook_deliveries_total{hook="shop",outcome="ping"',
      'refreshq_intake_hook_deliveries_total{hook="studio",outcome="stale"',
      'refreshq_intake_hook_deliveries_total{hook="cms",outcome="unauthorized"',
      'refreshq_intake_hook_deliveries_total{hook="docs",outcome="replayed"',
      'refreshq_intake_hook_deliveries_total{hook="blog-videos",outcome="filtered"',
      'refreshq_intake_hook_deliveries_total{hook="strapi-media",outcome="invalid_path"',
      'refreshq_intake_hook_deliveries_total{hook="",outcome="unknown_hook"',
      'refreshq_intake_hook_deliveries_total{hook="docs",outcome="invalid_body"',
      'refreshq_intake_hook_deliveries_total{hook="open",outcome="unauthorized"',
    ]) {
      expect(metrics).toContain(series);
    }
    const lines = logText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'webhook delivery');
    expect(lines.length).toBeGreaterThan(30);
    expect(lines.every((line) => typeof line.outcome === 'string' && typeof line.status === 'number')).toBe(
      true,
    );
    expect(lines.some((line) => line.hook === 'shop' && line.deliveryId?.startsWith('delivery-'))).toBe(true);
    for (const secret of Object.values(SECRETS)) expect(logText).not.toContain(secret);
    expect(logText).not.toMatch(/sha256=|v1=|x-contentful-signature"?:\s*"[0-9a-f]/i);
  });
});
