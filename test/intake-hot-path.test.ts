import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takesHotPath } from '../apps/intake/src/hot-path.js';
import { cleanNamespace, startTestIntake, type TestIntake } from './support/stack.js';

/**
 * POST /v1/refreshes has two ways in: the hot path (hot-path.ts: the exact URL, plain UTF-8
 * JSON) and the express route (everything else, e.g. a query string). Both must answer every
 * body alike: same status, same code, same message, same headers that matter, same metrics.
 */
const TOKEN = 'hot-path-test-token-0001';
let intake: TestIntake;

beforeAll(async () => {
  intake = await startTestIntake({
    INTAKE_TOKENS: TOKEN,
    MAX_BODY_BYTES: '2000',
    ALLOWED_DOMAINS: 'cdn.example.com',
  });
});

afterAll(async () => {
  await intake.close();
  await cleanNamespace(intake.namespace);
});

interface Case {
  name: string;
  body: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  headers?: Record<string, string>;
}

let n = 0;
const path = () => `https://cdn.example.com/hot/${(n += 1)}.png`;
const bytes = (...values: number[]) => new Uint8Array(values);
const json = (value: unknown) => JSON.stringify(value);

/** Each case is made twice (distinct paths each time), once per way in. */
const CASES: (() => Case)[] = [
  () => ({ name: 'one path', body: json({ paths: [path()] }) }),
  () => {
    const one = path();
    return { name: 'a path sent twice, spelt differently', body: json({ paths: [one, `${one}#frag`] }) };
  },
  () => ({ name: 'objectPath lines', body: json({ objectPath: `${path()}\r\n${path()}` }) }),
  () => ({ name: 'empty body', body: '' }),
  () => ({ name: 'a BOM alone', body: bytes(0xef, 0xbb, 0xbf) }),
  () => ({
    name: 'a BOM, then JSON',
    body: new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(json({ paths: [path()] }))]),
  }),
  () => ({ name: 'not JSON', body: '{"paths": [' }),
  () => ({ name: 'invalid UTF-8', body: bytes(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d) }),
  () => ({ name: 'a JSON string', body: '"https://cdn.example.com/x"' }),
  () => ({ name: 'an unknown field', body: json({ paths: [path()], colour: 'red' }) }),
  () => ({ name: 'another domain', body: json({ paths: ['https://elsewhere.example.org/a.png'] }) }),
  () => ({
    name: 'a bad Idempotency-Key',
    body: json({ paths: [path()] }),
    headers: { 'idempotency-key': 'has space' },
  }),
  () => ({
    name: 'an Idempotency-Key',
    body: json({ paths: [path()] }),
    headers: { 'idempotency-key': `k-${n}` },
  }),
  () => ({ name: 'no token', body: json({ paths: [path()] }), headers: { authorization: '' } }),
  () => ({ name: 'too large by Content-Length', body: json({ paths: [path()], pad: 'x'.repeat(3000) }) }),
  () => ({
    name: 'too large, streamed without Content-Length',
    body: () =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(Buffer.from(`{"paths":["${'a'.repeat(2500)}"]}`));
          controller.close();
        },
      }),
  }),
  () => ({
    name: 'charset=utf-8, any case',
    body: json({ paths: [path()] }),
    headers: { 'content-type': 'Application/JSON; Charset=UTF-8' },
  }),
];
/** Cases above that are accepted (202). */
const ACCEPTED = 6;

async function post(url: string, c: Case) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${TOKEN}`,
    ...c.headers,
  };
  if (headers.authorization === '') delete headers.authorization;
  const streamed = typeof c.body === 'function';
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: typeof c.body === 'function' ? c.body() : c.body,
    ...(streamed ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await response.text();
  const answer = text ? JSON.parse(text) : undefined;
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    location: response.headers.get('location') !== null,
    authenticate: response.headers.get('www-authenticate'),
    body: answer?.error ? answer : { ...answer, id: typeof answer?.id, statusUrl: typeof answer?.statusUrl },
  };
}

describe('which requests the hot path takes', () => {
  const request = (method: string, url: string, headers: Record<string, string>) =>
    ({ method, url, headers }) as Parameters<typeof takesHotPath>[0];
  it.each([
    ['POST', '/v1/refreshes', { 'content-type': 'application/json' }, true],
    ['POST', '/v1/refreshes', { 'content-type': 'application/json; charset=utf-8' }, true],
    ['POST', '/v1/refreshes', { 'content-type': 'APPLICATION/JSON;charset="UTF8"' }, true],
    ['POST', '/v1/refreshes?x=1', { 'content-type': 'application/json' }, false],
    ['POST', '/v1/refreshes/', { 'content-type': 'application/json' }, false],
    ['GET', '/v1/refreshes', { 'content-type': 'application/json' }, false],
    ['POST', '/v1/refreshes', { 'content-type': 'application/json; charset=utf-16' }, false],
    ['POST', '/v1/refreshes', { 'content-type': 'application/vnd.api+json' }, false],
    ['POST', '/v1/refreshes', { 'content-type': 'text/plain' }, false],
    ['POST', '/v1/refreshes', {}, false],
    ['POST', '/v1/refreshes', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, false],
  ])('%s %s %j: %s', (method, url, headers, expected) => {
    expect(takesHotPath(request(method, url, headers))).toBe(expected);
  });
});

describe('POST /v1/refreshes: the hot path and the express route answer alike', () => {
  for (const make of CASES) {
    it(make().name, async () => {
      const hot = await post(`${intake.url}/v1/refreshes`, make());
      const express = await post(`${intake.url}/v1/refreshes?via=express`, make());
      expect(hot).toEqual(express);
    });
  }

  it('records both in the same metrics, under the route /v1/refreshes', async () => {
    const text = await intake.metrics.registry.metrics();
    const count = (pattern: RegExp) =>
      Number(
        text
          .split('\n')
          .find((line) => pattern.test(line))
          ?.split(' ')[1],
      );
    const accepted =
      /^refreshq_http_request_duration_seconds_count\{.*route="\/v1\/refreshes",status_code="202"/;
    expect(count(accepted)).toBe(2 * ACCEPTED);
    expect(count(/^refreshq_intake_requests_total\{.*code="invalid_json"/)).toBe(4);
  });
});
