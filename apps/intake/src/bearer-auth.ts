import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Bearer tokens from INTAKE_TOKENS: who an Authorization header is, or the 401 to answer.
 * Compares fixed-length digests in constant time, against every token, so neither a token's
 * length nor which token matched shows in the timing. The caller's identity (for idempotency
 * scopes) is the matching token's digest, never the token; `anonymous` when no token is set.
 */
export function bearerCheck(
  tokens: readonly string[],
): (authorization: string | undefined) => string | ApiError {
  const expected = tokens.map(digest);
  return (authorization) => {
    if (expected.length === 0) return 'anonymous';
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec((authorization ?? '').trim());
    const presented = digest(match?.[1] ?? '');
    let caller: string | undefined;
    for (const candidate of expected) {
      if (timingSafeEqual(candidate, presented) && match) caller = candidate.toString('hex').slice(0, 16);
    }
    return (
      caller ??
      new ApiError(
        401,
        'unauthorized',
        'a valid bearer token is required in the Authorization header',
        undefined,
        {
          'WWW-Authenticate': 'Bearer realm="refreshq"',
        },
      )
    );
  };
}

/** bearerCheck as express middleware: the caller goes to res.locals.caller. */
export function bearerAuth(tokens: readonly string[]): RequestHandler {
  const check = bearerCheck(tokens);
  return (req, res, next) => {
    const caller = check(req.get('authorization'));
    if (caller instanceof ApiError) {
      next(caller);
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
