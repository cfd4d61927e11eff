import {
  cancelResultSchema,
  pathLookupSchema,
  pauseViewSchema,
  quotaViewSchema,
  readySchema,
  requestListSchema,
  requestViewSchema,
  retryAcceptedSchema,
} from '@refreshq/intake';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import type { RunningWorker } from '@refreshq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, type TestIntake, type TestStack, eventually, startTestStack } from './support/stack.js';

// Operator endpoints against a real stack: intake, an in-process worker, the emulator, real Redis.
const INTAKE_TOKEN = 'intake-token-0123456789';
const ADMIN_TOKEN = 'admin-token-0123456789';

let upstream: RunningEmulator;
let intake: TestIntake;
let worker: RunningWorker;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startEmulator({
    credentials: [TEST_KEY],
    silent: true,
    domains: { 'ok.example.com': 'online', 'gone.example.com': 'offline' },
    tasks: { pendingMs: 50, completeAfterMs: 250, failureRate: 0, seed: 1 },
  });
  ({ intake, worker } = stack = await startTestStack(
    upstream.url,
    { TASK_FIRST_POLL_MS: '150', QUOTA_URLS_PER_DAY: '500' },
    { INTAKE_TOKENS: INTAKE_TOKEN, ADMIN_TOKENS: ADMIN_TOKEN },
  ));
});

afterAll(async () => {
  await stack.close();
  await upstream.close();
});

async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  const response = await fetch(`${intake.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const post = (paths: string[], extra: object = {}) =>
  call('POST', '/v1/refreshes', { token: INTAKE_TOKEN, body: { paths, ...extra } });

const status = async (id: string) => (await call('GET', `/v1/refreshes/${id}`, { token: INTAKE_TOKEN })).body;

/** Waits until the request's paths have all left `queued`, `submitted` and `refreshing`. */
function ended(id: string) {
  return eventually(
    async () => {
      const body = await status(id);
      const { queued, submitted, refreshing } = body.counts ?? {};
      return queued + submitted + refreshing === 0 ? body : undefined;
    },
    15_000,
    `request ${id} to end`,
  );
}

/** Waits until a worker has admitted the request (it is in the pool, and listed). */
const admitted = (id: string) =>
  eventually(
    async () => {
      const listed = await call('GET', '/v1/refreshes?limit=200', { token: INTAKE_TOKEN });
      return listed.body.refreshes.some((entry: { id: string }) => entry.id === id) ? true : undefined;
    },
    10_000,
    `request ${id} to be admitted`,
  );

async function paused<T>(run: () => Promise<T>): Promise<T> {
  expect((await call('POST', '/v1/admin/pause', { body: { reason: 'test' } })).status).toBe(200);
  try {
    return await run();
  } finally {
    expect((await call('POST', '/v1/admin/resume')).status).toBe(200);
  }
}

describe('GET /v1/paths', () => {
  it('finds a path by any spelling of its URL: state, last submission, last completion, requests', async () => {
    const first = await post(['https://ok.example.com/video/intro.m3u8']);
    const done = await ended(first.body.id);
    expect(done.paths[0].state).toBe('complete');
    expect(done.paths[0].upstreamRequestId).toEqual(expect.any(String));

    const lookup = await call(
      'GET',
      `/v1/paths?url=${encodeURIComponent('HTTPS://OK.example.com:443/video/./intro.m3u8')}`,
      {
        token: INTAKE_TOKEN,
      },
    );
    expect(lookup.status).toBe(200);
    const found = pathLookupSchema.parse(lookup.body);
    expect(found).toMatchObject({
      path: 'https://ok.example.com/video/intro.m3u8',
      objectType: 'File',
      state: 'complete',
      requestId: first.body.id,
      lastSubmission: {
        requestId: first.body.id,
        taskId: done.paths[0].taskId,
        upstreamRequestId: done.paths[0].upstreamRequestId,
        at: done.paths[0].submittedAt,
      },
      lastCompletion: { state: 'complete', requestId: first.body.id, taskId: done.paths[0].taskId },
      requests: [{ id: first.body.id, state: 'complete' }],
    });
    const submission = upstream.emulator
      .submissions()
      .find((entry) => entry.paths.includes('https://ok.example.com/video/intro.m3u8'));
    expect(found.lastSubmission?.upstreamRequestId).toBe(submission?.requestId);

    // Asked for again: the newest request leads, the history stays.
    const second = await post(['https://ok.example.com/video/intro.m3u8']);
    await ended(second.body.id);
    const again = (await call('GET', '/v1/paths?url=https://ok.example.com/video/intro.m3u8')).body;
    expect(again.requests.map((request: { id: string }) => request.id)).toEqual([
      second.body.id,
      first.body.id,
    ]);
    expect(again.lastSubmission.requestId).toBe(second.body.id);
  });

  it('shows the directory that covers a path, and its task once it ran', async () => {
    const [dir, file] = await paused(async () => {
      const dir = await post(['https://ok.example.com/season-1/'], { objectType: 'Directory' });
      await admitted(dir.body.id);
      const file = await post(['https://ok.example.com/season-1/ep1.mp4']);
      await admitted(file.body.id);
      const queued = (await call('GET', '/v1/paths?url=https://ok.example.com/season-1/ep1.mp4')).body;
      expect(queued).toMatchObject({ state: 'queued', coveredBy: 'https://ok.example.com/season-1/' });
      expect(queued.lastSubmission).toBeNull();
      return [dir, file];
    });
    const dirDone = await ended(dir.body.id);
    await ended(file.body.id);
    const covered = (await call('GET', '/v1/paths?url=https://ok.example.com/season-1/ep1.mp4')).body;
    expect(covered).toMatchObject({
      state: 'complete',
      coveredBy: 'https://ok.example.com/season-1/',
      lastSubmission: { taskId: dirDone.paths[0].taskId, coveredBy: 'https://ok.example.com/season-1/' },
    });
    // The directory itself, found as a Directory by its URL alone.
    const asDir = (await call('GET', '/v1/paths?url=https://ok.example.com/season-1/')).body;
    expect(asDir).toMatchObject({ objectType: 'Directory', state: 'complete', requestId: dir.body.id });
  });

  it('answers 404 for a path nobody asked for, and 400 for a URL it would not take', async () => {
    expect((await call('GET', '/v1/paths?url=https://ok.example.com/never')).status).toBe(404);
    const bad = await call('GET', '/v1/paths?url=ftp://ok.example.com/x');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_path',
      details: [{ reason: 'unsupported_scheme' }],
    });
    expect((await call('GET', '/v1/paths')).body.error.code).toBe('invalid_request');
    expect((await call('GET', '/v1/paths?url=a&url=b')).body.error.code).toBe('invalid_request');
    expect((await call('GET', '/v1/paths?url=https://ok.example.com/x', { token: null })).status).toBe(401);
  });
});

describe('GET /v1/refreshes', () => {
  it('lists newest first, filtered by state and time, in pages that neither skip nor repeat', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) ids.push((await post([`https://ok.example.com/list/${n}`])).body.id);
    const rejected = (await post(['https://gone.example.com/list/x'])).body.id;
    await ended(rejected);
    for (const id of ids) await ended(id);
    // From the first request's own stamp: intake stamps receivedAt on Redis' clock (measured
    // offset), which this process's clock may be a few milliseconds ahead of.
    const since: string = (await status(ids[0] as string)).receivedAt;

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `since=${encodeURIComponent(since)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', `/v1/refreshes?${query}`, { token: INTAKE_TOKEN });
      expect(page.status).toBe(200);
      const list = requestListSchema.parse(page.body);
      expect(list.refreshes.length).toBeLessThanOrEqual(2);
      seen.push(...list.refreshes.map((entry) => entry.id));
      cursor = list.nextCursor;
    } while (cursor);
    expect(seen).toEqual([rejected, ...[...ids].reverse()]);

    const failed = (await call('GET', `/v1/refreshes?state=failed&since=${Date.parse(since)}`)).body;
    expect(failed.refreshes.map((entry: { id: string }) => entry.id)).toEqual([rejected]);
    expect(failed.refreshes[0]).toMatchObject({ state: 'failed', counts: { rejected: 1 } });
    const both = (await call('GET', `/v1/refreshes?state=failed,complete&since=${encodeURIComponent(since)}`))
      .body;
    expect(both.refreshes).toHaveLength(6);
  });

  it('refuses a bad state, time, limit or cursor with 400', async () => {
    for (const query of [
      'state=done',
      'since=yesterday',
      'limit=0',
      'limit=201',
      'cursor=nope',
      'colour=red',
    ]) {
      const answer = await call('GET', `/v1/refreshes?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBe('invalid_request');
    }
  });
});

describe('POST /v1/refreshes/:id/retry', () => {
  it('queues the rejected paths again as a new request that names the first', async () => {
    const first = await post(['https://gone.example.com/r/1.mp4', 'https://ok.example.com/r/2.mp4']);
    const done = await ended(first.body.id);
    expect(done.state).toBe('partially_failed');

    upstream.emulator.setDomainState('gone.example.com', 'online');
    try {
      const retried = await call('POST', `/v1/refreshes/${first.body.id}/retry`);
      expect(retried.status).toBe(202);
      const answer = retryAcceptedSchema.parse(retried.body);
      expect(answer).toMatchObject({
        retryOf: first.body.id,
        accepted: 1,
        paths: ['https://gone.example.com/r/1.mp4'],
      });
      const again = await ended(answer.id);
      expect(again).toMatchObject({ state: 'complete', retryOf: first.body.id });
      const original = await status(first.body.id);
      expect(original.retriedBy).toEqual([answer.id]);
      expect(Object.fromEntries(original.paths.map((path: any) => [path.path, path.retriedBy]))).toEqual({
        'https://gone.example.com/r/1.mp4': answer.id,
        'https://ok.example.com/r/2.mp4': undefined,
      });
      // Nothing of it is failed any more: a second retry has nothing to do.
      expect((await call('POST', `/v1/refreshes/${answer.id}/retry`)).body.error.code).toBe(
        'nothing_to_retry',
      );
    } finally {
      upstream.emulator.setDomainState('gone.example.com', 'offline');
    }
  });

  it('retries failed tasks too, one named path at a time; refuses a path that did not fail', async () => {
    upstream.emulator.setTaskTiming({ failureRate: 1 });
    let first: { body: { id: string } };
    try {
      first = await post(['https://ok.example.com/f/1.mp4', 'https://ok.example.com/f/2.mp4']);
      expect((await ended(first.body.id)).state).toBe('failed');
    } finally {
      upstream.emulator.setTaskTiming({ failureRate: 0 });
    }
    const refused = await call('POST', `/v1/refreshes/${first.body.id}/retry`, {
      body: { paths: ['https://ok.example.com/f/1.mp4', 'https://ok.example.com/other'] },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'not_retryable',
      details: [{ index: 1, reason: 'not_retryable' }],
    });

    const one = await call('POST', `/v1/refreshes/${first.body.id}/retry`, {
      body: { paths: ['HTTPS://ok.example.com/f/1.mp4'], priority: 'high' },
    });
    expect(one.status).toBe(202);
    expect(one.body).toMatchObject({ paths: ['https://ok.example.com/f/1.mp4'], priority: 'high' });
    expect((await ended(one.body.id)).state).toBe('complete');
  });

  it('retries with the same kind of work: a forced refresh is retried forced', async () => {
    const first = await post(['https://gone.example.com/k/forced.mp4'], { force: true });
    expect((await ended(first.body.id)).state).toBe('failed');
    upstream.emulator.setDomainState('gone.example.com', 'online');
    try {
      const retried = await call('POST', `/v1/refreshes/${first.body.id}/retry`);
      expect(retried.status).toBe(202);
      expect(retryAcceptedSchema.parse(retried.body)).toMatchObject({ action: 'refresh', force: true });
      expect(await ended(retried.body.id)).toMatchObject({ state: 'complete', force: true });
    } finally {
      upstream.emulator.setDomainState('gone.example.com', 'offline');
    }
  });

  it('answers 404 for an unknown request and 400 for a bad body', async () => {
    expect((await call('POST', '/v1/refreshes/00000000-0000-4000-8000-000000000000/retry')).status).toBe(404);
    const { body } = await post(['https://gone.example.com/b/1']);
    await ended(body.id);
    const bad = await call('POST', `/v1/refreshes/${body.id}/retry`, { body: { paths: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });
});

describe('DELETE /v1/refreshes/:id', () => {
  it('cancels what is queued; a path another request waits on stays queued for it', async () => {
    const submittedBefore = upstream.emulator.submissions().length;
    const [a, b, cancel] = await paused(async () => {
      const a = await post(['https://ok.example.com/c/own.mp4', 'https://ok.example.com/c/shared.mp4']);
      const b = await post(['https://ok.example.com/c/shared.mp4']);
      await admitted(a.body.id);
      await admitted(b.body.id);
      const cancel = await call('DELETE', `/v1/refreshes/${a.body.id}`);
      return [a, b, cancel];
    });
    expect(cancel.status).toBe(200);
    expect(cancelResultSchema.parse(cancel.body)).toEqual({
      id: a.body.id,
      state: 'cancelled',
      cancelled: expect.arrayContaining([
        'https://ok.example.com/c/own.mp4',
        'https://ok.example.com/c/shared.mp4',
      ]),
      alreadyGone: [],
    });
    expect((await status(a.body.id)).counts.cancelled).toBe(2);
    expect((await ended(b.body.id)).state).toBe('complete');
    const sent = upstream.emulator
      .submissions()
      .slice(submittedBefore)
      .flatMap((entry) => entry.paths);
    expect(sent).toContain('https://ok.example.com/c/shared.mp4');
    expect(sent).not.toContain('https://ok.example.com/c/own.mp4');

    // Once everything has ended, nothing is left to cancel: each path says where it went.
    const late = await call('DELETE', `/v1/refreshes/${b.body.id}`);
    expect(late.body).toMatchObject({
      cancelled: [],
      alreadyGone: [{ path: 'https://ok.example.com/c/shared.mp4', state: 'complete' }],
    });
    expect((await call('DELETE', '/v1/refreshes/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('cancels a forced refresh and a preload too: each from the pool of its kind of work', async () => {
    const [forced, preload, cancels] = await paused(async () => {
      const forced = await post(['https://ok.example.com/k/forced.mp4'], { force: true });
      const preload = await post(['https://ok.example.com/k/warm.mp4'], { action: 'preload' });
      await admitted(forced.body.id);
      await admitted(preload.body.id);
      const cancels = [
        await call('DELETE', `/v1/refreshes/${forced.body.id}`),
        await call('DELETE', `/v1/refreshes/${preload.body.id}`),
      ];
      return [forced, preload, cancels];
    });
    expect(cancels.map((cancel) => cancelResultSchema.parse(cancel.body))).toEqual([
      {
        id: forced.body.id,
        state: 'cancelled',
        cancelled: ['https://ok.example.com/k/forced.mp4'],
        alreadyGone: [],
      },
      {
        id: preload.body.id,
        state: 'cancelled',
        cancelled: ['https://ok.example.com/k/warm.mp4'],
        alreadyGone: [],
      },
    ]);
    expect((await status(forced.body.id)).counts.cancelled).toBe(1);
    expect((await status(preload.body.id)).counts.cancelled).toBe(1);
  });
});

describe('POST /v1/admin/pause and /resume', () => {
  it('stops submitting (intake still accepts), shows it everywhere, and resumes', async () => {
    const pause = await call('POST', '/v1/admin/pause', { body: { reason: 'incident 42' } });
    expect(pauseViewSchema.parse(pause.body)).toMatchObject({ paused: true, reason: 'incident 42' });
    let accepted: { status: number; body: any } | undefined;
    try {
      // A second pause keeps the first one's time and reason.
      expect((await call('POST', '/v1/admin/pause', { body: {} })).body).toEqual(pause.body);
      accepted = await post(['https://ok.example.com/p/1.mp4']);
      expect(accepted.status).toBe(202);
      await admitted(accepted.body.id);
      // The gauge is set by a dispatcher tick that saw the pause: after it, nothing was claimed.
      await eventually(
        async () =>
          (await worker.metrics.registry.metrics()).match(/^refreshq_submit_paused\{[^}]*\} 1$/m)
            ? true
            : undefined,
        5_000,
        'the paused gauge',
      );
      const held = requestViewSchema.parse(await status(accepted.body.id));
      expect(held).toMatchObject({ paused: true, state: 'queued' });

      const ready = await fetch(`${intake.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(readySchema.parse(await ready.json())).toMatchObject({
        paused: true,
        pausedSince: pause.body.since,
      });

      const quota = quotaViewSchema.parse((await call('GET', '/v1/quota', { token: INTAKE_TOKEN })).body);
      expect(quota.pause).toMatchObject({ paused: true, reason: 'incident 42' });
    } finally {
      const resumed = await call('POST', '/v1/admin/resume');
      expect(resumed.body).toEqual({ paused: false });
    }
    expect((await ended(accepted!.body.id)).state).toBe('complete');
    expect((await status(accepted!.body.id)).paused).toBe(false);
    expect(await (await fetch(`${intake.url}/readyz`)).json()).toEqual({ status: 'ready', paused: false });
  });

  it('needs a token of ADMIN_TOKENS: an intake token gets 403, none 401', async () => {
    const { body } = await post(['https://gone.example.com/auth/1']);
    for (const [method, path] of [
      ['POST', '/v1/admin/pause'],
      ['POST', '/v1/admin/resume'],
      ['POST', `/v1/refreshes/${body.id}/retry`],
      ['DELETE', `/v1/refreshes/${body.id}`],
    ] as const) {
      const asIntake = await call(method, path, { token: INTAKE_TOKEN });
      expect(asIntake.status, `${method} ${path}`).toBe(403);
      expect(asIntake.body.error.code).toBe('forbidden');
      expect((await call(method, path, { token: null })).status, `${method} ${path}`).toBe(401);
    }
    expect((await call('GET', '/v1/quota')).status).toBe(200);
    expect((await status(body.id)).paused).toBe(false);
  });
});

describe('GET /v1/quota', () => {
  it("shows today's quota as the workers publish it, the live backlog, the breaker and the pause", async () => {
    const { body } = await post(['https://ok.example.com/q/1.mp4']);
    await ended(body.id);
    const view = await eventually(
      async () => {
        const answer = quotaViewSchema.parse((await call('GET', '/v1/quota', { token: INTAKE_TOKEN })).body);
        return (answer.quota.File?.day.used ?? 0) > 0 ? answer : undefined;
      },
      12_000,
      'a quota report counting the submissions',
    );
    const file = view.quota.File!;
    expect(file.day.budget).toBe(500);
    expect(file.day.left).toBe(500 - file.day.used);
    expect(file.minute.budget).toBeGreaterThan(0);
    expect(file.hold).toBeNull();
    expect(Date.parse(view.resetsAt!)).toBeGreaterThan(Date.now());
    expect(view.backlog.File.normal).toMatchObject({ paths: expect.any(Number) });
    expect(view.breaker).toEqual({ open: false });
    expect(view.pause).toEqual({ paused: false });
  });
});
