import { checkPath, isDomainAllowed, type ObjectType, type Priority } from '@refreshq/domain';
import { z } from 'zod';
import { ApiError, type ErrorDetail } from './api-error.js';

export interface BodyRules {
  maxPaths: number;
  maxPathLength: number;
  allowedDomains: readonly string[];
  /** Hosts a callbackUrl may point at; empty = any public http(s) URL. */
  callbackHosts?: readonly string[];
}

/** A request body that passed every check: distinct canonical paths and their domains. */
export interface CheckedBody {
  objectType: ObjectType;
  priority: Priority;
  paths: string[];
  domains: string[];
  /** Paths the caller sent more than once (after normalisation) within this request. */
  duplicates: number;
  callbackUrl?: string;
}

const caseInsensitive = <const T extends readonly [string, ...string[]]>(values: T, field: string) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? (values.find((allowed) => allowed.toLowerCase() === value.toLowerCase()) ?? value)
        : value,
    z.enum(values, { error: `${field} must be one of ${values.join(', ')}` }),
  );

const bodySchema = z
  .object({
    paths: z
      .array(z.string({ error: 'each path must be a string' }), {
        error: 'paths must be an array of strings',
      })
      .optional(),
    objectPath: z.string({ error: 'objectPath must be a string of paths separated by newlines' }).optional(),
    objectType: caseInsensitive(['File', 'Directory'] as const, 'objectType').default('File'),
    priority: caseInsensitive(['high', 'normal', 'low'] as const, 'priority').default('normal'),
    callbackUrl: z
      .string({ error: 'callbackUrl must be a string' })
      .max(2048, 'callbackUrl must be at most 2048 characters')
      .optional(),
  })
  .strict();

/** A callback target: http(s), a host, no user info, and on CALLBACK_ALLOWED_HOSTS when that is set. */
function checkCallbackUrl(raw: string, allowedHosts: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError(400, 'invalid_callback_url', 'callbackUrl is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ApiError(400, 'invalid_callback_url', 'callbackUrl must be http:// or https://');
  if (url.username !== '' || url.password !== '')
    throw new ApiError(400, 'invalid_callback_url', 'callbackUrl must not carry user name or password');
  if (allowedHosts.length > 0 && !isDomainAllowed(url.hostname, allowedHosts)) {
    throw new ApiError(400, 'callback_host_not_allowed', `${url.hostname} is not in CALLBACK_ALLOWED_HOSTS`);
  }
  url.hash = '';
  return url.toString();
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${where}${issue.message}`;
    })
    .join('; ');
}

const preview = (path: string): string => (path.length > 200 ? `${path.slice(0, 200)}…` : path);

/** Checks a POST /v1/refreshes body; throws ApiError (4xx) naming every problem before anything is queued. */
export function checkRefreshBody(body: unknown, rules: BodyRules): CheckedBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(
      400,
      'invalid_request',
      'the body must be a JSON object like {"paths": ["https://…"]}',
    );
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', describeIssues(parsed.error));
  const { paths, objectPath, objectType, priority } = parsed.data;
  const callbackUrl =
    parsed.data.callbackUrl === undefined
      ? undefined
      : checkCallbackUrl(parsed.data.callbackUrl, rules.callbackHosts ?? []);
  if (paths !== undefined && objectPath !== undefined) {
    throw new ApiError(400, 'invalid_request', 'send either paths or objectPath, not both');
  }
  const raw = paths ?? (objectPath ?? '').split(/\r?\n/).filter((line) => line.trim() !== '');
  if (raw.length === 0) throw new ApiError(400, 'empty_paths', 'at least one path is required');
  if (raw.length > rules.maxPaths) {
    throw new ApiError(
      400,
      'too_many_paths',
      `at most ${rules.maxPaths} paths per request; split the request`,
    );
  }

  const problems: ErrorDetail[] = [];
  const outOfDomain: ErrorDetail[] = [];
  const seen = new Map<string, string>();
  raw.forEach((candidate, index) => {
    const checked = checkPath(candidate, { objectType, maxLength: rules.maxPathLength });
    if (!checked.ok) {
      problems.push({ index, path: preview(candidate), reason: checked.reason, message: checked.message });
    } else if (!isDomainAllowed(checked.domain, rules.allowedDomains)) {
      outOfDomain.push({
        index,
        path: preview(candidate),
        reason: 'domain_not_allowed',
        message: `${checked.domain} is not in ALLOWED_DOMAINS`,
      });
    } else if (!seen.has(checked.path)) {
      seen.set(checked.path, checked.domain);
    }
  });
  if (problems.length > 0) {
    throw new ApiError(
      400,
      'invalid_path',
      `${problems.length} path(s) are invalid; nothing was queued`,
      [...problems, ...outOfDomain].slice(0, 100),
    );
  }
  if (outOfDomain.length > 0) {
    throw new ApiError(
      400,
      'domain_not_allowed',
      `${outOfDomain.length} path(s) are on domains this service does not refresh; nothing was queued`,
      outOfDomain.slice(0, 100),
    );
  }
  return {
    objectType,
    priority,
    paths: [...seen.keys()],
    domains: [...seen.values()],
    duplicates: raw.length - seen.size,
    ...(callbackUrl ? { callbackUrl } : {}),
  };
}
