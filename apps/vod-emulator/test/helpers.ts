import { createHmac, randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import { afterEach, expect } from 'vitest';
import {
  DEV_ACCESS_KEY_ID,
  DEV_ACCESS_KEY_SECRET,
  startEmulator,
  type RunningEmulator,
  type StartOptions,
} from '../src/index.js';

export const VERSION = '2017-03-21';
export const DEV = { accessKeyId: DEV_ACCESS_KEY_ID, accessKeySecret: DEV_ACCESS_KEY_SECRET };

const running: RunningEmulator[] = [];

/** Starts an emulator on a free port, silent; closed after the test. */
export async function start(options: StartOptions = {}): Promise<RunningEmulator> {
  const r = await startEmulator({ silent: true, ...options });
  running.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** pop-core's request options as lib/rpc.js and httpx really read them (looser than any typing). */
export interface PopRequestOptions {
  method?: string;
  timeout?: number;
  beforeRequest?: (options: any) => any;
}

/** The surface of pop-core's RPCClient the tests use; typed here so tests do not depend on whose typing is in scope. */
export interface PopClient {
  request<T = Record<string, any>>(
    action: string,
    params?: Record<string, unknown>,
    opts?: PopRequestOptions,
  ): Promise<T>;
}

/** The real pop-core client pointed at the emulator. */
export function popClient(
  url: string,
  keys: { accessKeyId: string; accessKeySecret: string } = DEV,
  apiVersion = VERSION,
): PopClient {
  return new RPCClient({ ...keys, endpoint: url, apiVersion }) as unknown as PopClient;
}

export interface PopError extends Error {
  code: string;
  data: Record<string, unknown>;
  entry?: { response?: { statusCode?: number } };
}

/** Awaits a pop-core call that must fail with an API error; returns it. */
export async function popError(promise: Promise<unknown>): Promise<PopError> {
  try {
    await promise;
  } catch (error) {
    return error as PopError;
  }
  throw new Error('expected the call to fail');
}

/** Asserts Alibaba's error shape, code and HTTP status on a pop-core error. */
export function expectApiError(error: PopError, code: string, status: number): void {
  expect(error.code).toBe(code);
  expect(error.entry?.response?.statusCode).toBe(status);
  expectErrorBody(error.data, code);
}

export function expectErrorBody(body: unknown, code: string): void {
  expect(Object.keys(body as object).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
  const b = body as Record<string, unknown>;
  expect(b.Code).toBe(code);
  expect(b.HostId).toBe('vod.cn-shanghai.aliyuncs.com');
  expect(b.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  expect(typeof b.Message).toBe('string');
  expect((b.Message as string).length).toBeGreaterThan(0);
  expect(b.Recommend).toContain(encodeURIComponent(code));
}

// ---- The RPC signature, written here from pop-core's lib/rpc.js, independent of src/ ----

function encode(text: string): string {
  return encodeURIComponent(text)
    .replace(/!/g, '%21')
    .replace(/'/g, '%27')
    .replace(/\(/g, '%28')
    .replace(/\)/g, '%29')
    .replace(/\*/g, '%2A');
}

function canonicalize(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${encode(k)}=${encode(params[k] ?? '')}`)
    .join('&');
}

/** `YYYY-MM-DDTHH:mm:ssZ` like pop-core's timestamp(). */
export function aliTimestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Common parameters as pop-core sets them, plus the action's own. */
export function commonParams(
  action: string,
  own: Record<string, string> = {},
  keys = DEV,
): Record<string, string> {
  return {
    Action: action,
    Format: 'JSON',
    Timestamp: aliTimestamp(),
    Version: VERSION,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    AccessKeyId: keys.accessKeyId,
    ...own,
  };
}

export function sign(method: string, params: Record<string, string>, secret: string): string {
  const toSign = `${method}&${encode('/')}&${encode(canonicalize(params))}`;
  return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
}

/**
 * Sends a request by hand. `params` are sent as given (add `Signature` yourself, or use
 * `signed`). GET puts everything in the query; POST puts everything in a form body.
 */
export async function raw(
  url: string,
  method: 'GET' | 'POST',
  params: Record<string, string>,
  path = '/',
): Promise<RawAnswer> {
  const query = Object.entries(params)
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
  const response =
    method === 'GET'
      ? await fetch(`${url}${path}?${query}`)
      : await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: query,
        });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Signs `params` for `method` with `secret` and returns them with `Signature`. */
export function signed(
  method: string,
  params: Record<string, string>,
  secret = DEV.accessKeySecret,
): Record<string, string> {
  return { ...params, Signature: sign(method, params, secret) };
}

/** Control API helper. */
export async function control(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}/_emulator${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  return { status: response.status, json: await response.json() };
}

/** `n` distinct file URLs on `domain`. */
export function urls(n: number, domain = 'cdn.example.com', prefix = 'f'): string[] {
  return Array.from({ length: n }, (_, i) => `https://${domain}/${prefix}${i}.png`);
}
