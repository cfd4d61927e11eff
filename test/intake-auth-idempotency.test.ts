import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanNamespace, getJson, postJson, startTestIntake, type TestIntake } from './support/stack.js';

const TOKEN_A = 'token-a-0123456789abcdef';
const TOKEN_B = 'token-b-0123456789abcdef';
let intake: TestIntake;

beforeAll(async () => {
  intake = await startTestIntake({ INTAKE_TOKENS: `${TOKEN_A}, ${TOKEN_B}` });
});

afterAll(async () => {
  await intake.close();
  await cleanNamespace(intake.namespace);
});

const body = { paths: ['https://example.com/a.png'] };
const post = (headers: Record<string, string>, payload: unknown = body) =>
  postJson(`${intake.url}/v1/refreshes`, payload, headers);

describe('bearer auth', () => {
  it.each<[string, Record<string, string>]>([
    ['no token', {}],
    ['wrong token', { authorization: 'Bearer token-c-0123456789abcdef' }],
    ['a prefix of a token', { authorization: `Bearer ${TOKEN_A.slice(0, 10)}` }],
    ['wrong scheme', { authorization: `Basic ${TOKEN_A}` }],
    ['token in another header', { 'x-api-key': TOKEN_A }],
  ])('%s -> 401 and nothing queued', async (_name, headers) => {
    const answer = await post(headers);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthorized');
    expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    expect(await intake.queueCounts()).toBe(0);
  });

  it('refuses a token in the query string', async () => {
    const answer = await postJson(`${intake.url}/v1/refreshes?access_token=${TOKEN_A}`, body);
    expect(answer.status).toBe(401);
  });

  it('guards the status API too, but not health and metrics', async () => {
    expect((await getJson(`${intake.url}/v1/refreshes/00000000-0000-4000-8000-000000000000`)).status).toBe(
      401,
    );
    expect((await fetch(`${intake.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${intake.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${intake.url}/metrics`)).status).toBe(200);
  });

  it('accepts either configured token', async () => {
    expect((await post({ authorization: `Bearer ${TOKEN_A}` })).status).toBe(202);
    expect((await post({ authorization: `bearer ${TOKEN_B}` })).status).toBe(202);
  });
});

describe('Idempotency-Key', () => {
  it('returns the first answer for the same key and queues nothing new', async () => {
    const headers = { authorization: `Bearer ${TOKEN_A}`, 'idempotency-key': 'cms-save-42' };
    const before = await intake.queueCounts();
    const first = await post(headers);
    const second = await post(headers, { paths: ['https://EXAMPLE.com/a.png'] });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.replayed).toBe(true);
    expect(await intake.queueCounts()).toBe(before + 1);
  });

  it('refuses the same key with a different body', async () => {
    const headers = { authorization: `Bearer ${TOKEN_A}`, 'idempotency-key': 'cms-save-43' };
    expect((await post(headers)).status).toBe(202);
    const other = await post(headers, { paths: ['https://example.com/other.png'] });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  it('scopes keys per caller', async () => {
    const a = await post({ authorization: `Bearer ${TOKEN_A}`, 'idempotency-key': 'shared-key' });
    const b = await post({ authorization: `Bearer ${TOKEN_B}`, 'idempotency-key': 'shared-key' });
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('answers concurrent duplicates with one id', async () => {
    const headers = { authorization: `Bearer ${TOKEN_A}`, 'idempotency-key': 'burst-1' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(headers)));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
  });
});
