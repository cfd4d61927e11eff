import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanNamespace, getJson, postJson, startTestIntake, type TestIntake } from './support/stack.js';

let intake: TestIntake;

beforeAll(async () => {
  intake = await startTestIntake({
    ALLOWED_DOMAINS: 'example.com,*.cdn.example.net',
    MAX_PATHS_PER_REQUEST: '5',
    MAX_BODY_BYTES: '2048',
  });
});

afterAll(async () => {
  await intake.close();
  await cleanNamespace(intake.namespace);
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${intake.url}/v1/refreshes`, body, headers);

describe('intake rejects bad input with a 4xx JSON error and queues nothing', () => {
  it.each<[string, unknown, number, string]>([
    ['body is not an object', ['https://example.com/a'], 400, 'invalid_request'],
    ['no paths', {}, 400, 'empty_paths'],
    ['empty paths', { paths: [] }, 400, 'empty_paths'],
    ['blank objectPath', { objectPath: '\n\n' }, 400, 'empty_paths'],
    ['paths not an array', { paths: 'https://example.com/a' }, 400, 'invalid_request'],
    ['a path not a string', { paths: [42] }, 400, 'invalid_request'],
    [
      'both paths and objectPath',
      { paths: ['https://example.com/a'], objectPath: 'https://example.com/b' },
      400,
      'invalid_request',
    ],
    ['unknown field', { paths: ['https://example.com/a'], purge: true }, 400, 'invalid_request'],
    ['bad objectType', { paths: ['https://example.com/a'], objectType: 'Regex' }, 400, 'invalid_request'],
    ['bad priority', { paths: ['https://example.com/a'], priority: 'urgent' }, 400, 'invalid_request'],
    [
      'too many paths',
      { paths: Array.from({ length: 6 }, (_v, i) => `https://example.com/${i}`) },
      400,
      'too_many_paths',
    ],
    ['no scheme', { paths: ['example.com/a'] }, 400, 'invalid_path'],
    ['ftp scheme', { paths: ['ftp://example.com/a'] }, 400, 'invalid_path'],
    ['wildcard host', { paths: ['https://*.example.com/a'] }, 400, 'invalid_path'],
    ['user info', { paths: ['https://u:p@example.com/a'] }, 400, 'invalid_path'],
    ['control character', { paths: ['https://example.com/a\u0007'] }, 400, 'invalid_path'],
    ['raw space', { paths: ['https://example.com/a b'] }, 400, 'invalid_path'],
    [
      'newline inside a path',
      { paths: ['https://example.com/a\nhttps://example.com/b'] },
      400,
      'invalid_path',
    ],
    [
      'directory without slash',
      { paths: ['https://example.com/dir'], objectType: 'Directory' },
      400,
      'invalid_path',
    ],
    [
      'directory with query',
      { paths: ['https://example.com/dir/?x=1'], objectType: 'Directory' },
      400,
      'invalid_path',
    ],
    ['domain not allowed', { paths: ['https://evil.com/a'] }, 400, 'domain_not_allowed'],
    [
      'sub-domain not allowed by an exact rule',
      { paths: ['https://www.example.com/a'] },
      400,
      'domain_not_allowed',
    ],
  ])('%s -> %i %s', async (_name, body, status, code) => {
    const before = await intake.queueCounts();
    const answer = await post(body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(typeof answer.body.error.message).toBe('string');
    expect(await intake.queueCounts()).toBe(before);
  });

  it('names each bad path with its index and reason, and queues none of the good ones', async () => {
    const answer = await post({ paths: ['https://example.com/ok', 'nope', 'https://*.example.com/x'] });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      expect.objectContaining({ index: 1, reason: 'unsupported_scheme' }),
      expect.objectContaining({ index: 2, reason: 'wildcard_domain' }),
    ]);
    expect(await intake.queueCounts()).toBe(0);
  });

  it('rejects malformed JSON with invalid_json', async () => {
    const answer = await post('{"paths": [');
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
  });

  it('rejects a body over MAX_BODY_BYTES with 413', async () => {
    const answer = await post({ paths: [`https://example.com/${'a'.repeat(3000)}`] });
    expect(answer).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('rejects a non-JSON content type with 415', async () => {
    const response = await fetch(`${intake.url}/v1/refreshes`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'https://example.com/a',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as any).error.code).toBe('unsupported_media_type');
  });

  it('counts paths before looking at any: six non-strings are too_many_paths, not one issue each', async () => {
    const answer = await post({ paths: [1, 2, 3, 4, 5, 6] });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'too_many_paths' } } });
  });

  it('rejects a lone surrogate in a path (it would become %EF%BF%BD, a URL nobody sent)', async () => {
    const answer = await post('{"paths":["https://example.com/a\\udfff.png"]}');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'invalid_path',
      details: [expect.objectContaining({ index: 0, reason: 'lone_surrogate' })],
    });
  });

  it.each(['utf-16', 'UTF-16LE', 'latin1', 'us-ascii'])(
    'rejects a body declared as charset=%s with 400 unsupported_charset',
    async (charset) => {
      const before = await intake.queueCounts();
      const response = await fetch(`${intake.url}/v1/refreshes`, {
        method: 'POST',
        headers: { 'content-type': `application/json; charset=${charset}` },
        body: Buffer.from(JSON.stringify({ paths: ['https://example.com/a'] }), 'utf16le'),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).error.code).toBe('unsupported_charset');
      expect(await intake.queueCounts()).toBe(before);
    },
  );

  it('rejects a bad Idempotency-Key', async () => {
    const answer = await post({ paths: ['https://example.com/a'] }, { 'idempotency-key': 'has space' });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_idempotency_key' } } });
  });

  it('answers unknown routes and ids with 404 JSON', async () => {
    const route = await fetch(`${intake.url}/v2/nothing`);
    expect(route.status).toBe(404);
    expect(((await route.json()) as any).error.code).toBe('route_not_found');
    const id = await fetch(`${intake.url}/v1/refreshes/00000000-0000-4000-8000-000000000000`);
    expect(id.status).toBe(404);
    expect(((await id.json()) as any).error.code).toBe('not_found');
    const malformed = await fetch(`${intake.url}/v1/refreshes/..%2f..%2fetc`);
    expect(malformed.status).toBe(404);
  });

  it('accepts good input: normalised, de-duplicated, objectPath form, case-insensitive enums', async () => {
    const answer = await post({
      objectPath: 'HTTPS://EXAMPLE.com/a\r\nhttps://example.com/./a\nhttps://x.cdn.example.net/b',
      objectType: 'file',
      priority: 'HIGH',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      accepted: 2,
      duplicates: 1,
      objectType: 'File',
      priority: 'high',
      state: 'queued',
    });
    expect(answer.headers.get('location')).toBe(`/v1/refreshes/${answer.body.id}`);
    const status = (await getJson(`${intake.url}/v1/refreshes/${answer.body.id}`)).body;
    expect(status.paths.map((p: { path: string }) => p.path).sort()).toEqual([
      'https://example.com/a',
      'https://x.cdn.example.net/b',
    ]);
    expect(status.state).toBe('queued');
  });
});
