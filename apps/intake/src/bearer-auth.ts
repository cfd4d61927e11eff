import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Bearer tokens from INTAKE_TOKENS. Compares fixed-length digests in constant time, against every
 * token, so neither a token's length nor which token matched shows in the timing. The caller's
 * identity (for idempotency scopes) is the matching token's digest, never the token.
 */
export function bearerAuth(tokens: readonly string[]): RequestHandler {
  const expected = tokens.map(digest);
  return (req, res, next) => {
    if (expected.length === 0) {
      res.locals.caller = 'anonymous';
      next();
      return;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim());
    const presented = digest(match?.[1] ?? '');
    let caller: string | undefined;
    for (const candidate of expected) {
      if (timingSafeEqual(candidate, presented) && match) caller = candidate.toString('hex').slice(0, 16);
    }
    if (!caller) {
      next(
        new ApiError(
          401,
          'unauthorized',
          'a valid bearer token is required in the Authorization header',
          undefined,
          {
            'WWW-Authenticate': 'Bearer realm="refreshq"',
          },
        ),
      );
      return;
    }
    res.locals.caller = caller;
    next();
  };
}
