import type { Request } from 'express';

/**
 * The parameters of an RPC call: the query string, plus (for POST) the
 * `application/x-www-form-urlencoded` body, which wins on a clash. The first value of a
 * repeated key counts.
 */
export function readRpcParams(req: Request): Record<string, string> {
  const params: Record<string, string> = {};
  const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  addAll(params, new URLSearchParams(query));
  if (typeof req.body === 'string' && req.body.length > 0) {
    const fromBody: Record<string, string> = {};
    addAll(fromBody, new URLSearchParams(req.body));
    Object.assign(params, fromBody);
  }
  return params;
}

function addAll(target: Record<string, string>, search: URLSearchParams): void {
  for (const [key, value] of search) {
    if (!Object.hasOwn(target, key)) target[key] = value;
  }
}
