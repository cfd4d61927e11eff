import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { ApiError, writeError } from './api-error.js';
import { bearerCheck } from './bearer-auth.js';
import { lengthRefusal } from './body-gate.js';
import type { RequestRecorder } from './request-metrics.js';
import { acceptPost, idempotencyKeyOf, type RefreshRoutesDeps, writeAccepted } from './routes/refreshes.js';

export interface HotPathDeps extends RefreshRoutesDeps {
  tokens: readonly string[];
  maxBodyBytes: number;
  recorder: RequestRecorder;
  onUnexpected: (error: unknown) => void;
}

/** The one shape the hot path takes: plain UTF-8 JSON (what nearly every caller sends). */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/**
 * POST /v1/refreshes straight from node:http, in front of the express app: the same checks in
 * the same order as the express route (bearer, Content-Length, body, Idempotency-Key, the body's
 * content: bearerCheck, lengthRefusal, acceptPost), the same answers (writeAccepted, writeError),
 * the same metrics, without express's routing, request decoration and body-parser stream
 * machinery, which cost about as much as all of refreshq's own work on a one-path request.
 * Anything else, and any request not in the plain shape (another media type or charset, a
 * compressed body, a URL spelt differently), goes to `app`.
 */
export function withHotPath(deps: HotPathDeps, app: RequestListener): RequestListener {
  const authenticate = bearerCheck(deps.tokens);
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let status = 202;
    let code: string | undefined;
    try {
      const caller = authenticate(req.headers.authorization);
      if (caller instanceof ApiError) throw caller;
      const tooLarge = lengthRefusal(req.headers, deps.maxBodyBytes);
      if (tooLarge) throw tooLarge;
      const parsed = parseJson(await readBody(req, deps.maxBodyBytes), utf8);
      const key = idempotencyKeyOf(req.headers['idempotency-key']);
      writeAccepted(res, await acceptPost(deps, parsed, key, caller));
    } catch (error) {
      const answered = writeError(req, res, error, deps.onUnexpected);
      status = answered.status;
      code = answered.code;
    }
    deps.recorder.record('POST', '/v1/refreshes', '/v1/refreshes', status, started, code);
  };

  return (req, res) => {
    if (takesHotPath(req)) void serve(req, res);
    else app(req, res);
  };
}

/** The exact URL, plain UTF-8 JSON, not compressed: the rest goes to express. */
export function takesHotPath(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>): boolean {
  return (
    req.method === 'POST' &&
    req.url === '/v1/refreshes' &&
    req.headers['content-encoding'] === undefined &&
    PLAIN_JSON.test(req.headers['content-type'] ?? '')
  );
}

/** The body's bytes, at most `limit` of them (as express.json's limit: 413 past it). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: ApiError) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit)
        fail(new ApiError(413, 'payload_too_large', 'the body is larger than MAX_BODY_BYTES'));
      else if (!settled) chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', () => fail(new ApiError(400, 'invalid_request', 'the body could not be read')));
    req.on('close', () => {
      if (!req.complete) fail(new ApiError(400, 'invalid_request', 'the body could not be read'));
    });
  });
}

/**
 * As express.json (strict: false) with server.ts's UTF-8 check: decoded (a BOM dropped), then
 * parsed; an empty body is {}.
 */
function parseJson(bytes: Buffer, utf8: { decode(bytes: Buffer): string }): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid UTF-8 JSON');
  }
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
  }
}
