import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanNamespace, getJson, postJson, startTestIntake, type TestIntake } from './support/stack.js';

/** Intake's checks of the kind-of-work fields (#16): action, force, then, mediaIds and its options. */

let intake: TestIntake;

beforeAll(async () => {
  intake = await startTestIntake({ MAX_PATHS_PER_REQUEST: '5', ALLOWED_DOMAINS: 'example.com' });
});

afterAll(async () => {
  await intake.close();
  await cleanNamespace(intake.namespace);
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${intake.url}/v1/refreshes`, body, headers);
const FILE = 'https://example.com/v/a.mp4';
const ID = '0123456789abcdef0123456789abcdef';

describe('intake refuses kind-of-work fields that do not apply, queueing nothing', () => {
  it.each<[string, unknown, string]>([
    ['an unknown action', { paths: [FILE], action: 'purge' }, 'invalid_request'],
    ['force not a boolean', { paths: [FILE], force: 'yes' }, 'invalid_request'],
    ['then other than preload', { paths: [FILE], then: 'refresh' }, 'invalid_request'],
    ['force on a preload', { paths: [FILE], action: 'preload', force: true }, 'force_not_applicable'],
    ['force on media ids', { mediaIds: [ID], force: false }, 'force_not_applicable'],
    ['then on a preload', { paths: [FILE], action: 'preload', then: 'preload' }, 'then_not_applicable'],
    [
      'then on a directory',
      { paths: ['https://example.com/v/'], objectType: 'Directory', then: 'preload' },
      'then_not_applicable',
    ],
    ['then on media ids', { mediaIds: [ID], then: 'preload' }, 'then_not_applicable'],
    [
      'a preload of a directory',
      { paths: ['https://example.com/v/'], objectType: 'Directory', action: 'preload' },
      'preload_needs_files',
    ],
    ['paths and mediaIds', { paths: [FILE], mediaIds: [ID] }, 'conflicting_fields'],
    ['objectType with mediaIds', { mediaIds: [ID], objectType: 'File' }, 'conflicting_fields'],
    ['a media option without mediaIds', { paths: [FILE], formats: ['mp4'] }, 'conflicting_fields'],
    ['sliceCount without sliceFlag', { mediaIds: [ID], sliceCount: 3 }, 'conflicting_fields'],
    ['no media id', { mediaIds: [] }, 'empty_media_ids'],
    ['too many media ids', { mediaIds: Array.from({ length: 6 }, (_v, i) => `m${i}`) }, 'too_many_media_ids'],
    ['a malformed media id', { mediaIds: [ID, 'not a media id!'] }, 'invalid_media_id'],
    ['mediaIds not strings', { mediaIds: [7] }, 'invalid_request'],
    ['a format the upstream does not take', { mediaIds: [ID], formats: ['mkv'] }, 'invalid_request'],
    ['a definition the upstream does not take', { mediaIds: [ID], definitions: 'HD,8K' }, 'invalid_request'],
    [
      'a stream type the upstream does not take',
      { mediaIds: [ID], streamType: 'subtitle' },
      'invalid_request',
    ],
    ['a bad resultType', { mediaIds: [ID], resultType: 'All' }, 'invalid_request'],
    ['sliceCount out of 1..20', { mediaIds: [ID], sliceFlag: true, sliceCount: 21 }, 'invalid_request'],
    ['userData not a JSON object', { mediaIds: [ID], userData: 'hello' }, 'invalid_request'],
    ['userData too long', { mediaIds: [ID], userData: { note: 'x'.repeat(1100) } }, 'invalid_request'],
  ])('%s -> 400 %s', async (_what, body, code) => {
    const before = await intake.queueCounts();
    const answer = await post(body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(10);
    expect(await intake.queueCounts()).toBe(before);
  });

  it('names the bad media id with its index', async () => {
    const answer = await post({ mediaIds: [ID, 'bad id'] });
    expect(answer.body.error.details).toEqual([
      expect.objectContaining({ index: 1, mediaId: 'bad id', reason: 'malformed_media_id' }),
    ]);
  });
});

describe('intake accepts every kind of work into the one queue', () => {
  it('a preload, a forced refresh and a then: preload answer with their kind, and the status shows it', async () => {
    const preload = await post({ paths: [FILE], action: 'PRELOAD' });
    expect(preload.body).toMatchObject({
      accepted: 1,
      action: 'preload',
      objectType: 'File',
      state: 'queued',
    });
    const forced = await post({ paths: [FILE], force: true, objectType: 'File' });
    expect(forced.body).toMatchObject({ action: 'refresh', force: true });
    const then = await post({ paths: [FILE], then: 'preload' });
    expect(then.body).toMatchObject({ action: 'refresh', then: 'preload' });
    const status = (await getJson(`${intake.url}/v1/refreshes/${forced.body.id}`)).body;
    expect(status).toMatchObject({
      state: 'queued',
      action: 'refresh',
      force: true,
      paths: [{ path: FILE, state: 'queued' }],
    });
  });

  it('media ids, deduplicated, with their options; the status lists each id queued', async () => {
    const answer = await post({
      mediaIds: [ID, ID, 'fedcba9876543210fedcba9876543210'],
      action: 'preload',
      formats: 'MP4, m3u8',
      definitions: ['hd', 'SD'],
      streamType: 'video',
      resultType: 'multiple',
      sliceFlag: true,
      sliceCount: 3,
      userData: { Extend: { cms: 'x' } },
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      accepted: 2,
      duplicates: 1,
      action: 'preload',
      mediaIds: [ID, 'fedcba9876543210fedcba9876543210'],
    });
    expect(answer.body.objectType).toBeUndefined();
    const status = (await getJson(`${intake.url}/v1/refreshes/${answer.body.id}`)).body;
    expect(status).toMatchObject({
      state: 'queued',
      action: 'preload',
      paths: [],
      media: [
        { mediaId: ID, state: 'queued', playUrls: [] },
        { mediaId: 'fedcba9876543210fedcba9876543210', state: 'queued', playUrls: [] },
      ],
    });
  });

  it('an Idempotency-Key replays only the same kind of work: another action, force or option is another body', async () => {
    const key = { 'Idempotency-Key': `kinds-${Date.now()}` };
    const first = await post({ paths: [FILE], action: 'preload' }, key);
    expect((await post({ paths: [FILE], action: 'preload' }, key)).body).toMatchObject({
      replayed: true,
      id: first.body.id,
    });
    expect((await post({ paths: [FILE] }, key)).status).toBe(422);
    const mediaKey = { 'Idempotency-Key': `kinds-media-${Date.now()}` };
    await post({ mediaIds: [ID], formats: ['mp4'] }, mediaKey);
    expect((await post({ mediaIds: [ID], formats: ['mp4'] }, mediaKey)).body.replayed).toBe(true);
    expect((await post({ mediaIds: [ID], formats: ['m3u8'] }, mediaKey)).status).toBe(422);
    const forceKey = { 'Idempotency-Key': `kinds-force-${Date.now()}` };
    await post({ paths: [FILE], force: true }, forceKey);
    expect((await post({ paths: [FILE] }, forceKey)).status).toBe(422);
  });
});
