import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';

export interface ErrorDetail {
  index?: number;
  path?: string;
  /** A media id at fault (a request by media ids). */
  mediaId?: string;
  /** The webhook URL template that produced `path` (POST /v1/hooks/:name). */
  template?: string;
  reason: string;
  message: string;
}

/** An answer refused on purpose: a status, a code a caller can act on, and a sentence. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'route_not_found', `no route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
}

function fromBodyParser(error: BodyParserError): ApiError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'the body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', 'the body is larger than MAX_BODY_BYTES');
    case 'encoding.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'the body must be UTF-8 JSON');
    case 'charset.unsupported':
      return new ApiError(
        400,
        'unsupported_charset',
        'the body must be JSON in UTF-8 (charset=utf-8 or none)',
      );
    case 'entity.verify.failed':
      return new ApiError(400, 'invalid_json', 'the body is not valid UTF-8 JSON');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ApiError(400, 'invalid_request', 'the body could not be read');
    default: {
      // Anything else that says it is the client's fault (a body that does not decompress, a
      // broken %-escape in the URL) stays a 4xx.
      const status = error.status ?? error.statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500)
        return new ApiError(status, 'invalid_request', 'the request could not be read');
      return undefined;
    }
  }
}

/**
 * Writes the answer to any error as JSON `{"error": {"code", "message"}}`, unexpected ones as
 * 500 without internals, and returns what it answered. An answer given before the body was
 * read in full (401, 413 by Content-Length, 415, …) closes the connection: Node then stops
 * reading, where keeping it alive would read the whole body first.
 */
export function writeError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  onUnexpected: (error: unknown) => void,
): ApiError {
  const known = error instanceof ApiError ? error : fromBodyParser(error as BodyParserError);
  if (!known) onUnexpected(error);
  const answer =
    known ?? new ApiError(500, 'internal_error', 'unexpected error; nothing was queued by this request');
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  const body = JSON.stringify({
    error: {
      code: answer.code,
      message: answer.message,
      ...(answer.details ? { details: answer.details } : {}),
    },
  });
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (hasBody && !req.complete) res.setHeader('Connection', 'close');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
  return answer;
}

/** writeError as express's error handler; the code goes to res.locals.errorCode for the metrics. */
export function errorHandler(onUnexpected: (error: unknown) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    res.locals.errorCode = writeError(req, res, error, onUnexpected).code;
  };
}
