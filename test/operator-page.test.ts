import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_KEY,
  type TestIntake,
  type TestStack,
  eventually,
  getJson,
  postJson,
  startTestStack,
} from './support/stack.js';

// The operator page in real headless Chromium (Debian's, driven by playwright-core), against a
// real stack. SKIP_BROWSER_TESTS=1 skips it; scripts/test-tools.mjs installs chromium otherwise.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the page's screenshot is saved (test-results/ is gitignored). */
export const SCREENSHOT = join(ROOT, 'test-results', 'operator-page.png');
const INTAKE_TOKEN = 'intake-token-0123456789';
const ADMIN_TOKEN = 'admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

const chromiumPath = (): string => {
  const found = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  return found || '/usr/bin/chromium';
};

let upstream: RunningEmulator;
let intake: TestIntake;
let stack: TestStack;
let context: BrowserContext;
let profile: string;
let page: Page;

const ended = (id: string) =>
  eventually(
    async () => {
      const body = (await getJson(`${intake.url}/v1/refreshes/${id}`, auth)).body;
      return body.counts.queued + body.counts.submitted + body.counts.refreshing === 0 ? body : undefined;
    },
    15_000,
    `request ${id} to end`,
  );

describe.skipIf(process.env.SKIP_BROWSER_TESTS)('the operator page at /ui/', () => {
  beforeAll(async () => {
    upstream = await startEmulator({
      credentials: [TEST_KEY],
      silent: true,
      domains: { 'cdn.example.com': 'online', 'old.example.com': 'offline' },
      tasks: { pendingMs: 50, completeAfterMs: 250, failureRate: 0, seed: 1 },
    });
    ({ intake } = stack = await startTestStack(
      upstream.url,
      { TASK_FIRST_POLL_MS: '150' },
      { INTAKE_TOKENS: INTAKE_TOKEN, ADMIN_TOKENS: ADMIN_TOKEN },
    ));
    profile = mkdtempSync(join(tmpdir(), 'refreshq-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      viewport: { width: 1280, height: 1100 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await stack?.close();
    await upstream?.close();
  });

  it('loads with a token, looks a path up, retries a failed path, pauses and resumes', async () => {
    const good = await postJson(
      `${intake.url}/v1/refreshes`,
      { paths: ['https://cdn.example.com/show/intro.m3u8', 'https://cdn.example.com/show/poster.jpg'] },
      auth,
    );
    const bad = await postJson(
      `${intake.url}/v1/refreshes`,
      { paths: ['https://old.example.com/show/intro.m3u8'] },
      auth,
    );
    const done = await ended(good.body.id);
    expect((await ended(bad.body.id)).state).toBe('failed');

    // Without a token the page loads, but says it needs one: every API call is authenticated.
    await page.goto(`${intake.url}/ui/`);
    await page.locator('#status', { hasText: 'Type a bearer token above.' }).waitFor();

    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#token-form button');
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('refreshq.token')")).toBe(ADMIN_TOKEN);
    await page.locator(`#request-rows tr[data-id="${good.body.id}"] td.state-complete`).waitFor();
    await page.locator('#pause-state[data-paused="false"]').waitFor();
    await page.locator('#quota-rows tr[data-type="File"]').waitFor();
    await page.locator('#backlog-rows tr[data-type="Directory"] td[data-lane="high"]').waitFor();

    // Look up: by another spelling of the URL.
    await page.fill('#lookup-url', 'HTTPS://CDN.example.com/show/./intro.m3u8');
    await page.click('#lookup-form button');
    const result = page.locator('#lookup-result dl[data-state="complete"]');
    await result.waitFor();
    const intro = done.paths.find((path: { path: string }) => path.path.endsWith('intro.m3u8'));
    expect(await result.textContent()).toContain(`task ${intro.taskId}`);
    expect(await result.textContent()).toContain(`RequestId ${intro.upstreamRequestId}`);

    // Retry the failed path once its domain is back.
    upstream.emulator.setDomainState('old.example.com', 'online');
    const row = page.locator('#failed-rows tr[data-path="https://old.example.com/show/intro.m3u8"]');
    await row.locator('td.state-rejected').waitFor();
    await row.locator('button.retry').click();
    const said = await page.locator('#status', { hasText: 'again as request' }).textContent();
    const retryId = /as request ([0-9a-f-]{36})/.exec(said ?? '')?.[1];
    expect(retryId).toBeDefined();
    expect((await ended(retryId!)).state).toBe('complete');
    await row.locator('.note', { hasText: `retried as ${retryId}` }).waitFor();
    expect(await row.locator('button.retry').count()).toBe(0);

    // Pause, with a reason; the API agrees; then the screenshot, then resume.
    await page.fill('#pause-reason', 'upstream incident');
    await page.click('#pause-button');
    await page.locator('#pause-state[data-paused="true"]', { hasText: 'upstream incident' }).waitFor();
    expect((await getJson(`${intake.url}/v1/quota`, auth)).body.pause).toMatchObject({
      paused: true,
      reason: 'upstream incident',
    });
    await page.fill('#lookup-url', 'https://cdn.example.com/show/intro.m3u8');
    await page.click('#lookup-form button');
    await page.locator('#lookup-result dl[data-state="complete"]').waitFor();
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click('#resume-button');
    await page.locator('#pause-state[data-paused="false"]').waitFor();
    expect((await getJson(`${intake.url}/v1/quota`, auth)).body.pause).toEqual({ paused: false });
  });

  it('an intake token may look but not act: the pause is refused with 403', async () => {
    await page.fill('#token', INTAKE_TOKEN);
    await page.click('#token-form button');
    await page.locator('#pause-state[data-paused="false"]').waitFor();
    await page.click('#pause-button');
    await page.locator('#status.error', { hasText: 'this action needs a token of ADMIN_TOKENS' }).waitFor();
    expect((await getJson(`${intake.url}/v1/quota`, auth)).body.pause).toEqual({ paused: false });
  });

  it('serves the page with a policy that runs only its own script', async () => {
    const response = await fetch(`${intake.url}/ui/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${intake.url}/ui`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/');
  });
});
