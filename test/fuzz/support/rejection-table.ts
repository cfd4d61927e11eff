/**
 * The README's "What intake rejects" table, row by row, as the fuzz test's oracle. Keep it in
 * step with README.md: a code or reason intake answers that is not listed here fails the fuzz run,
 * so a new rejection must be documented before it ships.
 */
export interface RejectionRow {
  status: number;
  code: string;
  /** The README's "Input" column, abridged. */
  input: string;
}

export const REJECTION_TABLE: readonly RejectionRow[] = [
  {
    status: 401,
    code: 'unauthorized',
    input: 'missing or wrong bearer token (INTAKE_TOKENS set), token not in the Authorization header',
  },
  { status: 415, code: 'unsupported_media_type', input: 'content type not JSON' },
  { status: 400, code: 'unsupported_charset', input: 'a JSON body declared in a charset other than UTF-8' },
  { status: 400, code: 'invalid_json', input: 'body not valid JSON' },
  {
    status: 413,
    code: 'payload_too_large',
    input: 'body larger than MAX_BODY_BYTES (by Content-Length: answered before the body)',
  },
  {
    status: 400,
    code: 'invalid_request',
    input:
      'body not an object, unknown field, wrong types, objectType/priority not allowed, both paths and objectPath',
  },
  { status: 400, code: 'empty_paths', input: 'no paths' },
  { status: 400, code: 'too_many_paths', input: 'more than MAX_PATHS_PER_REQUEST paths' },
  { status: 400, code: 'invalid_path', input: 'a path that fails a check (details[].reason below)' },
  { status: 400, code: 'domain_not_allowed', input: 'a host outside ALLOWED_DOMAINS' },
  {
    status: 400,
    code: 'conflicting_fields',
    input:
      'paths (or objectPath) and mediaIds, objectType with mediaIds, a media option without mediaIds, sliceCount without sliceFlag',
  },
  { status: 400, code: 'force_not_applicable', input: 'force on a preload or on mediaIds' },
  { status: 400, code: 'then_not_applicable', input: 'then on a preload, a directory or mediaIds' },
  { status: 400, code: 'preload_needs_files', input: 'action preload with objectType Directory' },
  { status: 400, code: 'empty_media_ids', input: 'mediaIds empty' },
  { status: 400, code: 'too_many_media_ids', input: 'more than MAX_PATHS_PER_REQUEST media ids' },
  { status: 400, code: 'invalid_media_id', input: 'a media id not 1 to 64 of A-Z a-z 0-9 _ -' },
  { status: 400, code: 'invalid_idempotency_key', input: 'a bad Idempotency-Key' },
  { status: 422, code: 'idempotency_key_reused', input: 'a reused Idempotency-Key with another body' },
  {
    status: 400,
    code: 'invalid_callback_url',
    input:
      'callbackUrl not an http(s) URL, with user info, or with a control character, white space or lone surrogate',
  },
  {
    status: 400,
    code: 'callback_host_not_allowed',
    input:
      'callbackUrl host[:port] outside CALLBACK_ALLOWED_HOSTS (when set), or an inside address (any spelling) or localhost not allowed there',
  },
  { status: 404, code: 'route_not_found', input: 'unknown route' },
  { status: 404, code: 'not_found', input: 'unknown or expired request id; a path nobody asked for' },
  { status: 403, code: 'forbidden', input: 'an action with an intake token while ADMIN_TOKENS is set' },
  { status: 409, code: 'nothing_to_retry', input: 'retry of a request with no failed or rejected path' },
  { status: 409, code: 'not_retryable', input: 'retry naming a path that is not failed or rejected' },
  { status: 409, code: 'not_admitted', input: 'retry or cancel of a request still in the intake queue' },
  {
    status: 503,
    code: 'unavailable',
    input:
      'Redis unreachable or not answering within REDIS_COMMAND_TIMEOUT_MS (never expected in the fuzz run: Redis is up)',
  },
];

/** `details[].reason` values of `invalid_path` (README table, third column). */
export const PATH_REASONS: readonly string[] = [
  'too_long',
  'control_character',
  'whitespace',
  'unsupported_scheme',
  'malformed_url',
  'malformed_percent_encoding',
  'replacement_character',
  'lone_surrogate',
  'invalid_host',
  'invalid_port',
  'userinfo_not_allowed',
  'wildcard_domain',
  'directory_needs_trailing_slash',
  'directory_with_query',
  // `domain_not_allowed` rows list out-of-domain paths in details too (also under invalid_path when both occur).
  'domain_not_allowed',
  // `invalid_media_id` names each bad media id.
  'malformed_media_id',
];

export const STATUS_OF_CODE: ReadonlyMap<string, number> = new Map(
  REJECTION_TABLE.map((row) => [row.code, row.status]),
);
