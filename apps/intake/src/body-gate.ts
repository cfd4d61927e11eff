import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

/** The media types express.json parses in server.ts. */
const JSON_TYPES = ['application/json', 'application/*+json'];
const UTF8 = new Set(['utf-8', 'utf8']);

function charsetOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  try {
    return parseContentType(header).parameters.charset?.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The 413 for a body larger than MAX_BODY_BYTES by its Content-Length, if it is. */
export function lengthRefusal(headers: IncomingHttpHeaders, maxBodyBytes: number): ApiError | undefined {
  const length = Number(headers['content-length'] ?? 0);
  if (length <= maxBodyBytes) return undefined;
  return new ApiError(
    413,
    'payload_too_large',
    `the body (Content-Length ${length}) is larger than MAX_BODY_BYTES (${maxBodyBytes})`,
  );
}

/**
 * Refuses from the headers alone a body intake would refuse anyway: one larger than
 * MAX_BODY_BYTES by its Content-Length (even when no byte of it comes), and JSON declared in a
 * charset other than UTF-8 (body-parser would decode UTF-16 and the like). The answer goes at
 * once and, the body being unread, the connection closes (errorHandler).
 */
export function bodyGate(maxBodyBytes: number): RequestHandler {
  return (req, _res, next) => {
    const tooLarge = lengthRefusal(req.headers, maxBodyBytes);
    if (tooLarge) {
      next(tooLarge);
      return;
    }
    const charset = req.is(JSON_TYPES) ? charsetOf(req.headers['content-type']) : undefined;
    if (charset !== undefined && !UTF8.has(charset)) {
      next(
        new ApiError(400, 'unsupported_charset', 'the body must be JSON in UTF-8 (charset=utf-8 or none)'),
      );
      return;
    }
    next();
  };
}
