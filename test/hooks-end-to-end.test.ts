import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEmulator, startEmulator } from '@refreshq/vod-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, fixture, ghostHeaders, sanityHeaders, wooHeaders } from './support/cms-webhooks.js';
import { eventually, getJson, startTestStack, TEST_KEY, type TestStack } from './support/stack.js';

const GHOST_SECRET = 'e2e-ghost-secret-5c1a9e7b3d';
const WOO_SECRET = 'e2e-woo-secret-8f2d6b0a4c';
const SANITY_SECRET = 'e2e-sanity-secret-1b7e3c9f5a';

let upstream: RunningEmulator;
let stack: TestStack;

beforeAll(async () => {
  Object.assign(process.env, {
    E2E_GHOST_SECRET: GHOST_SECRET,
    E2E_WOO_SECRET: WOO_SECRET,
    E2E_SANITY_SECRET: SANITY_SECRET,
  });
  const dir = mkdtempSync(join(tmpdir(), 'refreshq-hooks-e2e-'));
  const file = join(dir, 'hooks.yml');
  // The shortest configs the README gives: a name, a preset and a secret (sanity lists templates).
  writeFileSync(
    file,
    [
      'hooks:',
      '  blog: { preset: ghost, secretEnv: E2E_GHOST_SECRET }',
      '  shop: { preset: woocommerce, secretEnv: E2E_WOO_SECRET }',
      '  studio:',
      '    preset: sanity',
      '    secretEnv: E2E_SANITY_SECRET',
      '    paths: ["{renditions[].url}"]',
      '',
    ].join('\n'),
  );
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    domains: { 'cdn.example.com': 'online', 'shop.example.com': 'online' },
    silent: true,
  });
  stack = await startTestStack(upstream.url, {}, { WEBHOOKS_FILE: file });
});

afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});

async function submitted(id: string) {
  return eventually(
    async () => {
      const body = (await getJson(`${stack.intake.url}/v1/refreshes/${id}`)).body;
      return body.counts?.queued === 0 ? body : undefined;
    },
    15_000,
    `request ${id} to leave the queue`,
  );
}

function taskIdsByPath(): Map<string, string> {
  return new Map(
    upstream.emulator
      .submissions()
      .flatMap((s) => s.paths.map((path, i) => [path, s.taskIds[i] as string] as const)),
  );
}

describe('CMS webhook -> intake -> worker -> VOD emulator', () => {
  it('ghost: a published post whose slug changed refreshes its new and its old URL', async () => {
    const body = fixture('ghost-post-published-edited');
    const answer = await deliver(
      `${stack.intake.url}/v1/hooks/blog?event=post.published.edited`,
      body,
      ghostHeaders(GHOST_SECRET, body, Date.now()),
    );
    expect(answer.status).toBe(202);
    const status = await submitted(answer.body.id);
    expect(status.state).toBe('submitted');
    const tasks = taskIdsByPath();
    for (const path of [
      'https://cdn.example.com/launch-trailer/',
      'https://cdn.example.com/trailer-draft/',
    ]) {
      const entry = status.paths.find((p: { path: string }) => p.path === path);
      expect(entry, path).toBeDefined();
      expect(entry.taskId).toBe(tasks.get(path));
    }
  });

  it('woocommerce: product.updated refreshes the product page, once for a retried delivery', async () => {
    const body = fixture('woocommerce-product-updated');
    const headers = wooHeaders(WOO_SECRET, body, { topic: 'product.updated', deliveryId: 'c1d9f2e8a7b6' });
    const first = await deliver(`${stack.intake.url}/v1/hooks/shop`, body, headers);
    const retry = await deliver(`${stack.intake.url}/v1/hooks/shop`, body, headers);
    expect(first.status).toBe(202);
    expect(retry.body).toMatchObject({ id: first.body.id, replayed: true });
    const status = await submitted(first.body.id);
    expect(status.paths).toHaveLength(1);
    expect(status.paths[0]).toMatchObject({
      path: 'https://shop.example.com/product/launch-trailer-4k/',
      state: 'submitted',
    });
    const page = upstream.emulator
      .submissions()
      .flatMap((s) => s.paths)
      .filter((path) => path === 'https://shop.example.com/product/launch-trailer-4k/');
    expect(page).toHaveLength(1);
  });

  it('sanity: one path per rendition of the document', async () => {
    const body = fixture('sanity-video-update');
    const answer = await deliver(
      `${stack.intake.url}/v1/hooks/studio`,
      body,
      sanityHeaders(SANITY_SECRET, body, Date.now(), { idempotencyKey: 'msg-e2e-1', operation: 'update' }),
    );
    expect(answer.body.accepted).toBe(2);
    const status = await submitted(answer.body.id);
    expect(status.paths.map((p: { path: string }) => p.path).sort()).toEqual([
      'https://cdn.example.com/videos/launch-trailer/1080p.m3u8',
      'https://cdn.example.com/videos/launch-trailer/720p.m3u8',
    ]);
    const tasks = taskIdsByPath();
    for (const entry of status.paths) expect(entry.taskId).toBe(tasks.get(entry.path));
  });
});
