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

/**
 * Guards the actions (retry, cancel, pause, resume): a token of ADMIN_TOKENS when it is set, else
 * one of INTAKE_TOKENS (open when neither is set). Runs after the bearer check of /v1: a caller
 * whose token opened /v1 but is no admin's gets 403, not 401, since it is known, just not allowed.
 */
export function adminAuth(adminTokens: readonly string[], intakeTokens: readonly string[]): RequestHandler {
  const check = bearerAuth(adminTokens.length > 0 ? adminTokens : intakeTokens);
  return (req, res, next) => {
    const known = res.locals.caller !== undefined && res.locals.caller !== 'anonymous';
    check(req, res, (error?: unknown) => {
      if (error instanceof ApiError && error.status === 401 && known) {
        next(new ApiError(403, 'forbidden', 'this action needs a token of ADMIN_TOKENS'));
        return;
      }
      next(error);
    });
  };
}
