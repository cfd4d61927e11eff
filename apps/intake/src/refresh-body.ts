import {
  checkPath,
  isDomainAllowed,
  judgeTarget,
  type MediaOptions,
  type ObjectType,
  type OutboundPolicy,
  type Priority,
  type WorkAction,
} from '@refreshq/domain';
import type { z } from 'zod';
import { ApiError, type ErrorDetail } from './api-error.js';
import { refreshBodySchema } from './api-schemas.js';
import { checkMedia, checkMediaCount, MEDIA_OPTION_FIELDS } from './media-body.js';
import { describeIssues, preview } from './validate.js';

export interface BodyRules {
  maxPaths: number;
  maxPathLength: number;
  allowedDomains: readonly string[];
  /** Where a callbackUrl may point (CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE). */
  callbackPolicy: OutboundPolicy;
}

/** A request body that passed every check: distinct canonical paths and their domains. */
export interface CheckedBody {
  objectType: ObjectType;
  priority: Priority;
  /** Empty for a request by media ids. */
  paths: string[];
  domains: string[];
  /** Paths (or media ids) the caller sent more than once (after normalisation) within this request. */
  duplicates: number;
  callbackUrl?: string;
  /** `refresh` (default) or `preload`. */
  action: WorkAction;
  /** Force=true on RefreshVodObjectCaches. */
  force?: boolean;
  then?: 'preload';
  /** A request by media ids, with the options of RefreshMediaPlayUrls. */
  media?: { ids: string[]; options: MediaOptions };
  /** Set by POST /v1/refreshes/:id/retry: the request whose paths this queues again. */
  retryOf?: string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;
/** In a `u` regex a class of surrogates matches only unpaired ones. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A callback target: http(s), a host, no user info, nothing the URL parser would silently drop or
 * rewrite (control characters, white space, lone surrogates), and a target the outbound policy
 * allows. Only an address literal is judged here; a name is judged again at connect time.
 */
function checkCallbackUrl(raw: string, policy: OutboundPolicy): string {
  if (CONTROL.test(raw))
    throw new ApiError(
      400,
      'invalid_callback_url',
      'callbackUrl contains a control character (CR, LF, tab, …); remove it or percent-encode it',
    );
  if (WHITESPACE.test(raw))
    throw new ApiError(400, 'invalid_callback_url', 'callbackUrl contains white space; percent-encode it');
  if (LONE_SURROGATE.test(raw))
    throw new ApiError(
      400,
      'invalid_callback_url',
      'callbackUrl contains a lone UTF-16 surrogate, which is not text and cannot be encoded',
    );
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
  const verdict = judgeTarget(url, policy);
  if (!verdict.ok) throw new ApiError(400, 'callback_host_not_allowed', `callbackUrl: ${verdict.message}`);
  url.hash = '';
  return url.toString();
}

const tooMany = (max: number) =>
  new ApiError(400, 'too_many_paths', `at most ${max} paths per request; split the request`);

/** The non-blank lines of an objectPath (split at LF or CRLF), or undefined as soon as there are more than `max`. */
function objectPathLines(text: string, max: number): string[] | undefined {
  const lines: string[] = [];
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, newline !== -1 && text[end - 1] === '\r' ? end - 1 : end);
    if (line.trim() !== '') {
      if (lines.length === max) return undefined;
      lines.push(line);
    }
    start = end + 1;
  }
  return lines;
}

/** Checks a POST /v1/refreshes body; throws ApiError (4xx) naming every problem before anything is queued. */
export function checkRefreshBody(body: unknown, rules: BodyRules): CheckedBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(
      400,
      'invalid_request',
      'the body must be a JSON object like {"paths": ["https://…"]}',
    );
  }
  // The count before any per-element work: a huge list costs one comparison, not a check per element.
  const { paths: sentPaths, objectPath: sentLines } = body as { paths?: unknown; objectPath?: unknown };
  if (Array.isArray(sentPaths) && sentPaths.length > rules.maxPaths) throw tooMany(rules.maxPaths);
  checkMediaCount((body as { mediaIds?: unknown }).mediaIds, rules.maxPaths);
  const lines = typeof sentLines === 'string' ? objectPathLines(sentLines, rules.maxPaths) : undefined;
  if (typeof sentLines === 'string' && lines === undefined) throw tooMany(rules.maxPaths);

  const parsed = refreshBodySchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', describeIssues(parsed.error));
  const { paths, objectPath, objectType, priority, action, force, then } = parsed.data;
  const callbackUrl =
    parsed.data.callbackUrl === undefined
      ? undefined
      : checkCallbackUrl(parsed.data.callbackUrl, rules.callbackPolicy);
  if (paths !== undefined && objectPath !== undefined) {
    throw new ApiError(400, 'invalid_request', 'send either paths or objectPath, not both');
  }
  const sent = (field: string) => Object.hasOwn(body, field);
  checkKindFields(parsed.data, {
    objectTypeSent: sent('objectType'),
    withPaths: paths !== undefined || objectPath !== undefined,
  });
  const common = {
    objectType,
    priority,
    action,
    ...(force ? { force: true } : {}),
    ...(then ? { then } : {}),
    ...(callbackUrl ? { callbackUrl } : {}),
  };
  if (parsed.data.mediaIds !== undefined) {
    const media = checkMedia(parsed.data, action);
    return {
      ...common,
      paths: [],
      domains: [],
      duplicates: media.duplicates,
      media: { ids: media.ids, options: media.options },
    };
  }
  const raw = paths ?? lines ?? [];
  if (raw.length === 0) throw new ApiError(400, 'empty_paths', 'at least one path is required');

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
    ...common,
    paths: [...seen.keys()],
    domains: [...seen.values()],
    duplicates: raw.length - seen.size,
  };
}

/**
 * The kind-of-work fields (#16) that do not go together, each refused with a clear code before
 * any path is looked at: `force` only refreshes paths, `then: "preload"` only follows a refresh of
 * files, a preload takes no directories, and the media options only go with `mediaIds`.
 */
function checkKindFields(
  data: z.output<typeof refreshBodySchema>,
  sent: { objectTypeSent: boolean; withPaths: boolean },
): void {
  const media = data.mediaIds !== undefined;
  if (media && sent.withPaths)
    throw new ApiError(400, 'conflicting_fields', 'send paths (or objectPath) or mediaIds, not both');
  if (media && sent.objectTypeSent)
    throw new ApiError(400, 'conflicting_fields', 'objectType does not apply to mediaIds');
  const options = MEDIA_OPTION_FIELDS.filter((field) => data[field] !== undefined);
  if (!media && options.length > 0)
    throw new ApiError(400, 'conflicting_fields', `${options.join(', ')} apply only with mediaIds`);
  if (data.force !== undefined && (data.action === 'preload' || media))
    throw new ApiError(
      400,
      'force_not_applicable',
      'force applies only to action refresh of paths (RefreshVodObjectCaches Force); a preload or a refresh by media id has none',
    );
  if (data.then !== undefined && (data.action === 'preload' || media || data.objectType === 'Directory'))
    throw new ApiError(
      400,
      'then_not_applicable',
      'then: "preload" follows a refresh of files (action refresh, objectType File, paths): each file is prefetched once its refresh completes',
    );
  if (data.action === 'preload' && data.objectType === 'Directory')
    throw new ApiError(
      400,
      'preload_needs_files',
      'a preload (PreloadVodObjectCaches) takes URLs of files, never directories; send objectType File',
    );
}
