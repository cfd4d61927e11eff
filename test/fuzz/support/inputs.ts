import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';

/**
 * Generators of malformed (and a few valid) inputs for intake, one fast-check arbitrary per
 * class. Each input carries what the README says intake must answer to it (`expect`): the codes
 * allowed, the path reasons allowed, or `accepted`. Where the exact answer depends on details the
 * generator does not model, the allowed set is wider and the oracles on accepted requests
 * (see intake-fuzz.test.ts) carry the weight.
 */

export const TOKENS = ['fuzz-token-A-0123456789abcdef', 'fuzz-token-B-0123456789abcdef'] as const;
export const ALLOWED_DOMAINS = 'cdn.example.com,*.media.example.org,xn--bcher-kva.example';
export const LIMITS = { maxPaths: 20, maxPathLength: 1024, maxBodyBytes: 32 * 1024 } as const;

/** Known product defects an input may trigger; see RELIABILITY.md "Defects found". */
export type KnownDefect =
  /** A 4xx error raised by express or body-parser without a body-parser `type` becomes 500 internal_error. */
  | 'D1-http-error-as-500'
  /** Invalid UTF-8 inside a JSON string is replaced by U+FFFD and the request is accepted. */
  | 'D2-invalid-utf8-accepted';

export interface Expectation {
  /** `accepted` and/or rejection codes from the README table. */
  allow: readonly string[];
  /** For invalid_path / domain_not_allowed: the reasons allowed for the bad path. */
  reasons?: readonly string[];
  /** Index of the bad path in the request, when the generator put exactly one there. */
  badIndex?: number;
  known?: readonly KnownDefect[];
  /** The request may be refused by Node's HTTP parser itself (bare 4xx, no JSON body). */
  httpLevel?: boolean;
  /** The body is never sent in full: the answer must come from the headers alone. */
  answerBeforeBody?: boolean;
}

export interface FuzzInput {
  cls: string;
  label: string;
  /** Which intake answers it: `main` has ALLOWED_DOMAINS; `open` has none. */
  intake: 'main' | 'open';
  request: RawRequest;
  expect: Expectation;
  /** Idempotency oracle: the caller's scope, the key as the server will see it, and the body's fingerprint. */
  idem?: { scope: string; key: string; fingerprint: string };
}

const AUTH = (token: string = TOKENS[0]): [string, string] => ['Authorization', `Bearer ${token}`];
const JSON_CT: [string, string] = ['Content-Type', 'application/json'];

export function postRequest(
  body: string | Buffer,
  extra: [string, string][] = [],
  auth: [string, string][] = [AUTH()],
): RawRequest {
  return { method: 'POST', target: '/v1/refreshes', headers: [...auth, JSON_CT, ...extra], body };
}

const input = (
  cls: string,
  label: string,
  request: RawRequest,
  expect: Expectation,
  intake: 'main' | 'open' = 'main',
): FuzzInput => ({
  cls,
  label,
  intake,
  request,
  expect,
});

// ---------------------------------------------------------------------------------------------
// Valid building blocks

const SEGMENT_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_~'.split('');
const segment = fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 10 });
/** Hosts that ALLOWED_DOMAINS admits, some spelled so that only normalisation makes them match. */
const allowedHost = fc.constantFrom(
  'cdn.example.com',
  'CDN.Example.com',
  'a.media.example.org',
  'v-1.media.example.org',
  'bücher.example',
  'xn--bcher-kva.example',
);
const scheme = fc.constantFrom('https', 'http', 'HTTPS', 'Http');
const query = fc.option(fc.constantFrom('?v=1', '?a=b&c=d', '?x', '?q=%20space'), { nil: undefined });

export const validFileUrl = fc
  .record({ scheme, host: allowedHost, segs: fc.array(segment, { minLength: 1, maxLength: 4 }), query })
  .map(({ scheme, host, segs, query }) => `${scheme}://${host}/${segs.join('/')}${query ?? ''}`);

export const validDirUrl = fc
  .record({ scheme, host: allowedHost, segs: fc.array(segment, { minLength: 0, maxLength: 3 }) })
  .map(({ scheme, host, segs }) => `${scheme}://${host}/${segs.map((s) => `${s}/`).join('')}`);

/** A body intake must accept: 1..5 valid file URLs. */
export const validBody = fc.array(validFileUrl, { minLength: 1, maxLength: 5 }).map((paths) => ({ paths }));

// ---------------------------------------------------------------------------------------------
// Bodies

const KNOWN_FIELDS = new Set([
  'paths',
  'objectPath',
  'objectType',
  'priority',
  'callbackUrl',
  // The kind of work (#16).
  'action',
  'force',
  'then',
  'mediaIds',
  'formats',
  'definitions',
  'streamType',
  'resultType',
  'sliceFlag',
  'sliceCount',
  'userData',
]);
const BODY_REJECTIONS = [
  'conflicting_fields',
  'force_not_applicable',
  'then_not_applicable',
  'preload_needs_files',
  'empty_media_ids',
  'too_many_media_ids',
  'invalid_media_id',
  'invalid_request',
  'empty_paths',
  'invalid_path',
  'too_many_paths',
  'domain_not_allowed',
  'payload_too_large',
  'invalid_callback_url',
  'callback_host_not_allowed',
];

/** Random JSON values as the whole body. */
export const jsonValues = fc.jsonValue({ maxDepth: 5 }).map((value) => {
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  const keys = isObject ? Object.keys(value) : [];
  const allow = !isObject
    ? ['invalid_request']
    : keys.some((key) => !KNOWN_FIELDS.has(key))
      ? ['invalid_request']
      : keys.length === 0
        ? ['empty_paths']
        : BODY_REJECTIONS;
  return input(
    'body: random JSON value',
    JSON.stringify(value).slice(0, 80),
    postRequest(JSON.stringify(value)),
    { allow },
  );
});

/** Deep nesting: the whole body, inside `paths`, inside a known field, inside an unknown one. */
export const deepNesting = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 50, max: 2000 }), fc.integer({ min: 2000, max: 20_000 })),
    where: fc.constantFrom('body', 'paths', 'paths[0]', 'objectType', 'priority', 'unknown', 'objectPath'),
    kind: fc.constantFrom('[', '{"a":'),
  })
  .map(({ depth, where, kind }) => {
    const open = kind.repeat(depth);
    const close = (kind === '[' ? ']' : '}').repeat(depth);
    const deep = `${open}1${close}`;
    const body =
      where === 'body'
        ? deep
        : where === 'paths'
          ? `{"paths":${deep}}`
          : where === 'paths[0]'
            ? `{"paths":[${deep}]}`
            : where === 'unknown'
              ? `{"paths":["https://cdn.example.com/a"],"x":${deep}}`
              : `{"paths":["https://cdn.example.com/a"],"${where}":${deep}}`;
    const tooLarge = Buffer.byteLength(body) > LIMITS.maxBodyBytes;
    return input('body: deep nesting', `${where} depth ${depth} ${kind}`, postRequest(body), {
      allow: tooLarge ? ['payload_too_large'] : ['invalid_request', 'invalid_json'],
    });
  });

/** Strings at and around the limits: path length, body size (exact bytes), path count, multi-byte growth. */
export const hugeStrings = fc.oneof(
  // A path of exactly n characters around MAX_PATH_LENGTH.
  fc.integer({ min: LIMITS.maxPathLength - 8, max: LIMITS.maxPathLength + 8 }).map((n) => {
    const head = 'https://cdn.example.com/';
    const path = head + 'a'.repeat(n - head.length);
    const ok = n <= LIMITS.maxPathLength;
    return input(
      'body: huge strings near limits',
      `path of ${n} chars`,
      postRequest(JSON.stringify({ paths: [path] })),
      {
        allow: [ok ? 'accepted' : 'invalid_path'],
        ...(ok ? {} : { reasons: ['too_long'], badIndex: 0 }),
      },
    );
  }),
  // A raw path under the limit whose canonical (percent-encoded) form is over it.
  fc.integer({ min: 300, max: 500 }).map((count) => {
    const path = `https://cdn.example.com/${'é'.repeat(count)}`;
    const canonical = 'https://cdn.example.com/'.length + count * 6;
    const ok = canonical <= LIMITS.maxPathLength;
    return input(
      'body: huge strings near limits',
      `${count} x é (canonical ${canonical} chars)`,
      postRequest(JSON.stringify({ paths: [path] })),
      {
        allow: [ok ? 'accepted' : 'invalid_path'],
        ...(ok ? {} : { reasons: ['too_long'], badIndex: 0 }),
      },
    );
  }),
  // A valid body padded with JSON white space to exactly MAX_BODY_BYTES + delta bytes.
  fc.integer({ min: -3, max: 3 }).map((delta) => {
    const core = JSON.stringify({ paths: ['https://cdn.example.com/padded'] });
    const size = LIMITS.maxBodyBytes + delta;
    const body = `${core.slice(0, -1) + ' '.repeat(size - core.length)}}`;
    return input('body: huge strings near limits', `body of ${size} bytes`, postRequest(body), {
      allow: [delta <= 0 ? 'accepted' : 'payload_too_large'],
    });
  }),
  // MAX_PATHS_PER_REQUEST and one more, as `paths` or as `objectPath` lines.
  fc
    .record({ n: fc.integer({ min: LIMITS.maxPaths - 1, max: LIMITS.maxPaths + 2 }), asLines: fc.boolean() })
    .map(({ n, asLines }) => {
      const paths = Array.from({ length: n }, (_v, i) => `https://cdn.example.com/many/${i}`);
      const body = asLines ? { objectPath: paths.join(i0(n) ? '\r\n' : '\n') } : { paths };
      return input(
        'body: huge strings near limits',
        `${n} paths${asLines ? ' as objectPath' : ''}`,
        postRequest(JSON.stringify(body)),
        {
          allow: [n <= LIMITS.maxPaths ? 'accepted' : 'too_many_paths'],
        },
      );
    }),
  // Far more paths than allowed, none of them valid: the count decides, before any element is
  // looked at, and the answer stays small (the judge caps every error answer's size).
  fc
    .record({
      n: fc.integer({ min: LIMITS.maxPaths + 1, max: 12_000 }),
      junk: fc.constantFrom('1', 'null', '{}', '[]', '"x"', '"https://cdn.example.com/a\\u0000"'),
      asLines: fc.boolean(),
    })
    .map(({ n, junk, asLines }) => {
      const body = asLines
        ? JSON.stringify({ objectPath: Array.from({ length: n }, (_v, i) => `x${i}`).join('\n') })
        : `{"paths":[${Array.from({ length: n }, () => junk).join(',')}]}`;
      const tooLarge = Buffer.byteLength(body) > LIMITS.maxBodyBytes;
      return input(
        'body: huge strings near limits',
        `${n} bad ${asLines ? 'objectPath lines' : `paths (${junk})`}`,
        postRequest(body),
        { allow: [tooLarge ? 'payload_too_large' : 'too_many_paths'] },
      );
    }),
  // Huge values in the short fields.
  fc
    .record({ field: fc.constantFrom('objectType', 'priority'), n: fc.integer({ min: 1000, max: 30_000 }) })
    .map(({ field, n }) => {
      const body = JSON.stringify({ paths: ['https://cdn.example.com/a'], [field]: 'F'.repeat(n) });
      const tooLarge = Buffer.byteLength(body) > LIMITS.maxBodyBytes;
      return input('body: huge strings near limits', `${field} of ${n} chars`, postRequest(body), {
        allow: [tooLarge ? 'payload_too_large' : 'invalid_request'],
      });
    }),
  // Multi-byte characters: few characters, many bytes.
  fc.integer({ min: 8000, max: 12_000 }).map((n) => {
    const body = JSON.stringify({ paths: [`https://cdn.example.com/${'😀'.repeat(n)}`] });
    return input(
      'body: huge strings near limits',
      `${n} emoji (${Buffer.byteLength(body)} bytes)`,
      postRequest(body),
      {
        allow: [Buffer.byteLength(body) > LIMITS.maxBodyBytes ? 'payload_too_large' : 'invalid_path'],
      },
    );
  }),
);

function i0(n: number): boolean {
  return n % 2 === 0;
}

const notAStringArray = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
  fc.array(
    fc.oneof(
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string()),
      fc.dictionary(fc.string(), fc.string()),
    ),
    { minLength: 1, maxLength: 4 },
  ),
  fc
    .tuple(
      fc.constant('https://cdn.example.com/a'),
      fc.oneof(fc.integer(), fc.constant(null), fc.constant({})),
    )
    .map((t) => [...t]),
);
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string()),
);
const badEnumString = (allowed: readonly string[]) =>
  fc.string({ maxLength: 20 }).filter((s) => !allowed.includes(s.toLowerCase()));

/** Each known field with a value of the wrong type or outside its enum; both paths and objectPath; duplicate keys. */
export const wrongTypes = fc
  .oneof(
    notAStringArray.map((paths) => ({
      label: `paths=${JSON.stringify(paths).slice(0, 60)}`,
      text: JSON.stringify({ paths }),
    })),
    notAString.map((objectPath) => ({
      label: `objectPath=${JSON.stringify(objectPath).slice(0, 60)}`,
      text: JSON.stringify({ objectPath }),
    })),
    fc.oneof(notAString, badEnumString(['file', 'directory'])).map((objectType) => ({
      label: `objectType=${JSON.stringify(objectType).slice(0, 60)}`,
      text: JSON.stringify({ paths: ['https://cdn.example.com/a'], objectType }),
    })),
    fc.oneof(notAString, badEnumString(['high', 'normal', 'low'])).map((priority) => ({
      label: `priority=${JSON.stringify(priority).slice(0, 60)}`,
      text: JSON.stringify({ paths: ['https://cdn.example.com/a'], priority }),
    })),
    fc.tuple(validFileUrl, validFileUrl).map(([a, b]) => ({
      label: 'paths and objectPath',
      text: JSON.stringify({ paths: [a], objectPath: b }),
    })),
    // Duplicate keys: JSON.parse keeps the last one, so the last must decide.
    fc.tuple(validFileUrl, notAStringArray).map(([good, bad]) => ({
      label: 'duplicate key, bad last',
      text: `{"paths":${JSON.stringify([good])},"paths":${JSON.stringify(bad)}}`,
    })),
  )
  .map(({ label, text }) =>
    input('body: wrong types', label, postRequest(text), { allow: ['invalid_request'] }),
  );

const unknownKey = fc.oneof(
  fc.string({ maxLength: 12 }).filter((key) => !KNOWN_FIELDS.has(key)),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'Paths',
    'PATHS',
    'paths ',
    ' paths',
    'objecttype',
    'ObjectType',
    'purge',
    'Force',
    'mediaids',
    'token',
    'access_token',
    '',
    'path',
    'urls',
    'toString',
    'hasOwnProperty',
  ),
);
/** A valid body plus fields the schema does not know. */
export const unknownFields = fc
  .record({
    body: validBody,
    extra: fc.uniqueArray(fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })), {
      minLength: 1,
      maxLength: 3,
      selector: ([key]) => key,
    }),
  })
  .map(({ body, extra }) => {
    // Written by hand so that __proto__ stays an own key on the wire.
    const members = [
      `"paths":${JSON.stringify(body.paths)}`,
      ...extra.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`),
    ];
    return input(
      'body: unknown fields',
      extra.map(([key]) => JSON.stringify(key)).join(','),
      postRequest(`{${members.join(',')}}`),
      { allow: ['invalid_request'] },
    );
  });

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xc3, 0x28],
  [0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc1, 0xbf],
];
/** Invalid UTF-8 byte sequences spliced into a valid body: between tokens, inside a key, inside a path. */
export const invalidUtf8 = fc
  .record({
    body: validBody,
    bytes: fc.constantFrom(...INVALID_UTF8),
    where: fc.constantFrom('in-path', 'in-key', 'anywhere'),
    at: fc.nat(),
  })
  .map(({ body, bytes, where, at }) => {
    const text = JSON.stringify(body);
    let offset: number;
    if (where === 'in-path') offset = text.indexOf('://') + 3 + (at % 5);
    else if (where === 'in-key') offset = 2 + (at % 4);
    else offset = at % (text.length + 1);
    const encoded = Buffer.from(text, 'utf8');
    const byteOffset = Buffer.byteLength(text.slice(0, offset));
    const raw = Buffer.concat([
      encoded.subarray(0, byteOffset),
      Buffer.from(bytes),
      encoded.subarray(byteOffset),
    ]);
    return input(
      'body: invalid UTF-8',
      `${where} @${offset} ${Buffer.from(bytes).toString('hex')}`,
      postRequest(raw),
      {
        // Correct: the body is not valid (UTF-8) JSON, so 400; any 400 code is a rejection that queues nothing.
        allow: ['invalid_json', 'invalid_request', 'invalid_path', 'domain_not_allowed'],
        reasons: [
          'malformed_url',
          'control_character',
          'whitespace',
          'unsupported_scheme',
          'domain_not_allowed',
          'wildcard_domain',
          'userinfo_not_allowed',
        ],
        known: ['D2-invalid-utf8-accepted'],
      },
    );
  });

/** A valid body cut short; random text that is not JSON; a body shorter than its Content-Length. */
export const truncatedJson = fc.oneof(
  fc.record({ body: validBody, cut: fc.nat() }).map(({ body, cut }) => {
    const text = JSON.stringify(body);
    const at = cut % text.length;
    return input('body: truncated JSON', `cut at ${at}/${text.length}`, postRequest(text.slice(0, at)), {
      allow: [at === 0 ? 'empty_paths' : 'invalid_json'],
    });
  }),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    const allow =
      text.trim() === ''
        ? ['empty_paths', 'invalid_json']
        : parses
          ? ['invalid_request', 'empty_paths']
          : ['invalid_json'];
    return input('body: truncated JSON', `text ${JSON.stringify(text).slice(0, 40)}`, postRequest(text), {
      allow,
    });
  }),
  fc.record({ body: validBody, missing: fc.integer({ min: 1, max: 50 }) }).map(({ body, missing }) => {
    const text = JSON.stringify(body);
    const request = {
      ...postRequest(text, [['Content-Length', String(Buffer.byteLength(text) + missing)]]),
      halfClose: true,
    };
    // The client gives up mid-body: no answer at all is fine; any answer must be a 4xx.
    return input(
      'body: truncated JSON',
      `${missing} bytes short of Content-Length, then half-close`,
      request,
      { allow: ['invalid_request', 'invalid_json'], httpLevel: true },
    );
  }),
);

/** No body at all, under every kind of content type and framing. */
export const emptyBodies = fc
  .record({
    contentType: fc.constantFrom<string | undefined>(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ),
    framing: fc.constantFrom('content-length: 0', 'no length', 'chunked'),
  })
  .map(({ contentType, framing }) => {
    const headers: [string, string][] = [AUTH()];
    if (contentType !== undefined) headers.push(['Content-Type', contentType]);
    if (framing === 'chunked') headers.push(['Transfer-Encoding', 'chunked']);
    const request: RawRequest = {
      method: 'POST',
      target: '/v1/refreshes',
      headers,
      body: framing === 'chunked' ? '0\r\n\r\n' : '',
      contentLength: framing === 'content-length: 0',
    };
    return input('body: empty', `${contentType ?? 'no content type'}, ${framing}`, request, {
      allow: ['empty_paths', 'unsupported_media_type'],
    });
  });

const JSONISH = /^application\/(json|[a-z0-9.+-]*\+json)$/i;
/** Well-formed media types that are not JSON, JSON ones with odd parameters, and garbage. */
export const contentTypes = fc
  .record({
    body: validBody,
    contentType: fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'text/html',
        'application/jsonp',
        'application/json-seq',
        'application/javascript',
        'json',
        '*/*',
        'application/*',
        'application',
        'application/',
        'application/octet-stream',
        'application/x-json',
        'text/x-json',
        'image/png',
        'application/json',
        'APPLICATION/JSON',
        'Application/Json; charset=UTF-8',
        'application/json;charset=utf-8',
        'application/json ; charset = utf-8',
        'application/vnd.api+json',
        'application/merge-patch+json',
        'application/json-patch+json',
        'application/problem+json',
        'application/json; charset=latin1',
        'application/json; charset=iso-8859-1',
        'application/json; charset=us-ascii',
        'application/json; charset=utf-16',
        'application/json; charset=utf-32',
        'application/json; charset=UTF-16LE',
        'application/json; charset=utf-16be',
        'application/json; charset="utf-8"',
        'application/json; charset=utf8',
        'application/vnd.api+json; charset=utf-16',
        'application/json; charset=windows-1252',
        'application/json; charset=""',
        'application/json; charset',
        'application/json;;;',
        'application/json; =x',
        'application/json, text/plain',
        'text/plain, application/json',
      ),
      fc
        .string({
          unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz/+;=-. *"'.split('')),
          minLength: 1,
          maxLength: 30,
        })
        .filter((s) => s.trim() !== ''),
    ),
  })
  .map(({ body, contentType }) => {
    const mediaType = (contentType.split(';', 1)[0] ?? '').trim();
    // A well-formed charset parameter on a JSON type: only UTF-8 may pass (README: UTF-8 only).
    const charset = /^[^;]+;\s*charset=("?)([A-Za-z0-9_-]+)\1\s*$/i.exec(contentType)?.[2]?.toLowerCase();
    const allow =
      JSONISH.test(mediaType) && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8'
        ? ['unsupported_charset']
        : JSONISH.test(mediaType) || contentType.includes('json')
          ? ['accepted', 'unsupported_media_type', 'invalid_json', 'unsupported_charset']
          : ['unsupported_media_type'];
    const request: RawRequest = {
      method: 'POST',
      target: '/v1/refreshes',
      headers: [AUTH(), ['Content-Type', contentType]],
      body: JSON.stringify(body),
    };
    return input('body: wrong content types', contentType, request, { allow });
  });

/** Content-Encoding: supported with a matching (valid gzip) body, supported with garbage, unsupported. */
export const contentEncodings = fc
  .record({
    body: validBody,
    encoding: fc.constantFrom(
      'gzip',
      'deflate',
      'br',
      'x-gzip',
      'identity',
      'compress',
      'zstd',
      'gzip, gzip',
      'GZIP',
    ),
    valid: fc.boolean(),
    garbage: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  })
  .map(({ body, encoding, valid, garbage }) => {
    const text = JSON.stringify(body);
    const decodable = encoding.toLowerCase() === 'gzip' || encoding === 'x-gzip';
    const payload =
      encoding === 'identity'
        ? Buffer.from(text)
        : valid && decodable
          ? gzipSync(text)
          : Buffer.from(garbage);
    const request: RawRequest = {
      method: 'POST',
      target: '/v1/refreshes',
      headers: [AUTH(), JSON_CT, ['Content-Encoding', encoding]],
      body: payload,
    };
    let expect: Expectation;
    if (encoding === 'identity') expect = { allow: ['accepted'] };
    else if (['compress', 'zstd', 'gzip, gzip'].includes(encoding))
      expect = { allow: ['unsupported_media_type', 'invalid_json', 'invalid_request'] };
    else if (valid && decodable) expect = { allow: ['accepted', 'unsupported_media_type'] };
    // An undecodable body is bad input: a 4xx (invalid_json or invalid_request), never a 5xx.
    // (A few garbage bytes do decompress, e.g. to nothing: then the body's own verdict applies.)
    else
      expect = {
        allow: ['invalid_json', 'invalid_request', 'unsupported_media_type', 'empty_paths'],
        known: ['D1-http-error-as-500'],
      };
    return input(
      'body: content encodings',
      `${encoding}${encoding === 'identity' ? '' : valid && decodable ? ' (valid gzip)' : ' (garbage)'}`,
      request,
      expect,
    );
  });

// ---------------------------------------------------------------------------------------------
// Headers

/** Authorization missing, malformed, wrong, or the token somewhere else. `valid` variants must pass. */
export const authVariants = fc
  .record({
    body: validBody,
    variant: fc.constantFrom(
      'none',
      'scheme only',
      'wrong token',
      'prefix of token',
      'token + char',
      'token of other case',
      'basic',
      'token scheme',
      'no scheme',
      'double space',
      'trailing garbage',
      'tab separator',
      'comma list',
      'query access_token',
      'query token',
      'query authorization',
      'x-api-key',
      'x-auth-token',
      'cookie',
      'proxy-authorization',
      'body field',
      'empty header',
      'bearer colon',
      'quoted token',
      'valid',
      'valid lower-case scheme',
      'valid upper-case scheme',
      'valid padded',
      'valid other token',
    ),
    token: fc.constantFrom(...TOKENS),
    junk: fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.~+/='.split('')),
      minLength: 1,
      maxLength: 40,
    }),
    method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
  })
  .map(({ body, variant, token, junk, method }) => {
    const headers: [string, string][] = [];
    let target = '/v1/refreshes';
    let payload: string = JSON.stringify(body);
    const wrong = junk === token ? `${junk}x` : junk;
    switch (variant) {
      case 'none':
        break;
      case 'scheme only':
        headers.push(['Authorization', 'Bearer']);
        break;
      case 'wrong token':
        headers.push(['Authorization', `Bearer ${wrong}`]);
        break;
      case 'prefix of token':
        headers.push(['Authorization', `Bearer ${token.slice(0, 1 + (junk.length % (token.length - 1)))}`]);
        break;
      case 'token + char':
        headers.push(['Authorization', `Bearer ${token}${junk.slice(0, 1)}`]);
        break;
      case 'token of other case':
        headers.push(['Authorization', `Bearer ${token.toUpperCase()}`]);
        break;
      case 'basic':
        headers.push(['Authorization', `Basic ${Buffer.from(`user:${token}`).toString('base64')}`]);
        break;
      case 'token scheme':
        headers.push(['Authorization', `Token ${token}`]);
        break;
      case 'no scheme':
        headers.push(['Authorization', token]);
        break;
      case 'double space':
        headers.push(['Authorization', `Bearer  ${token}`]);
        break;
      case 'trailing garbage':
        headers.push(['Authorization', `Bearer ${token} ${junk}`]);
        break;
      case 'tab separator':
        headers.push(['Authorization', `Bearer\t${token}`]);
        break;
      case 'comma list':
        headers.push(['Authorization', `Bearer ${wrong}, Bearer ${token}`]);
        break;
      case 'query access_token':
        target += `?access_token=${token}`;
        break;
      case 'query token':
        target += `?token=${token}`;
        break;
      case 'query authorization':
        target += `?authorization=${encodeURIComponent(`Bearer ${token}`)}`;
        break;
      case 'x-api-key':
        headers.push(['X-Api-Key', token]);
        break;
      case 'x-auth-token':
        headers.push(['X-Auth-Token', token]);
        break;
      case 'cookie':
        headers.push(['Cookie', `token=${token}; authorization=Bearer%20${token}`]);
        break;
      case 'proxy-authorization':
        headers.push(['Proxy-Authorization', `Bearer ${token}`]);
        break;
      case 'body field':
        payload = JSON.stringify({ ...body, token });
        break;
      case 'empty header':
        headers.push(['Authorization', '']);
        break;
      case 'bearer colon':
        headers.push(['Authorization', `Bearer: ${token}`]);
        break;
      case 'quoted token':
        headers.push(['Authorization', `Bearer "${token}"`]);
        break;
      case 'valid':
        headers.push(['Authorization', `Bearer ${token}`]);
        break;
      case 'valid lower-case scheme':
        headers.push(['Authorization', `bearer ${token}`]);
        break;
      case 'valid upper-case scheme':
        headers.push(['Authorization', `BEARER ${token}`]);
        break;
      case 'valid padded':
        headers.push(['Authorization', `  Bearer ${token}  `]);
        break;
      case 'valid other token':
        headers.push(['Authorization', `Bearer ${TOKENS[1]}`]);
        break;
    }
    const valid = variant.startsWith('valid');
    if (method === 'GET') {
      // The status API is guarded too: a random id that does not exist is 404 with a token, 401 without.
      const request: RawRequest = {
        method: 'GET',
        target: target.replace('/v1/refreshes', '/v1/refreshes/00000000-0000-4000-8000-000000000000'),
        headers,
      };
      return input('headers: authorization', `GET, ${variant}`, request, {
        allow: [valid ? 'not_found' : 'unauthorized'],
      });
    }
    const request: RawRequest = { method: 'POST', target, headers: [...headers, JSON_CT], body: payload };
    return input('headers: authorization', `POST, ${variant}`, request, {
      allow: [valid ? 'accepted' : 'unauthorized'],
    });
  });

const visible = fc.constantFrom(
  ...Array.from({ length: 0x7e - 0x21 + 1 }, (_v, i) => String.fromCharCode(0x21 + i)),
);
/** Keys as the server sees them (Node trims surrounding white space of header values). */
export const idempotencyKeys = fc
  .record({
    key: fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: visible, minLength: 1, maxLength: 255 }) },
      { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'cms-save-42', 'k1 ', ' k2') },
      { weight: 1, arbitrary: fc.string({ unit: visible, minLength: 256, maxLength: 400 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '',
          ' ',
          'a b',
          'a\tb',
          'key\u00e9',
          'ключ',
          '🔑',
          'x'.repeat(255),
          'x'.repeat(256),
        ),
      },
    ),
    token: fc.constantFrom(...TOKENS),
    body: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.nat(1000) }),
  })
  .map(({ key, token, body }) => {
    const paths = [`https://cdn.example.com/idem/${body}`];
    const onWire = Buffer.from(key, 'utf8').toString('latin1');
    const seen = key.trim();
    const valid = /^[\x21-\x7e]{1,255}$/.test(seen);
    const request = postRequest(JSON.stringify({ paths }), [['Idempotency-Key', onWire]], [AUTH(token)]);
    const fuzz = input(
      'headers: Idempotency-Key',
      `${JSON.stringify(key).slice(0, 40)} (${key.length} chars)`,
      request,
      {
        allow: valid ? ['accepted', 'idempotency_key_reused'] : ['invalid_idempotency_key'],
      },
    );
    return valid
      ? { ...fuzz, idem: { scope: token, key: seen, fingerprint: JSON.stringify(['File', 'normal', paths]) } }
      : fuzz;
  });

/** The same header twice. Node keeps the first Authorization / Content-Type and joins Idempotency-Keys with ", ". */
export const duplicateHeaders = fc
  .record({
    body: validBody,
    kind: fc.constantFrom(
      'authorization',
      'content-type',
      'idempotency-key',
      'content-length',
      'host',
      'transfer-encoding + content-length',
    ),
    first: fc.boolean(),
    second: fc.boolean(),
    junk: fc.string({ unit: fc.constantFrom(...'abcdef0123456789'.split('')), minLength: 16, maxLength: 24 }),
  })
  .map(({ body, kind, first, second, junk }) => {
    const text = JSON.stringify(body);
    const token = (good: boolean) => (good ? TOKENS[0] : `bad-${junk}`);
    let headers: [string, string][];
    let expect: Expectation;
    switch (kind) {
      case 'authorization':
        headers = [
          ['Authorization', `Bearer ${token(first)}`],
          ['Authorization', `Bearer ${token(second)}`],
          JSON_CT,
        ];
        // Never accepted without a valid token; with one valid and one not, Node keeps the first.
        expect = { allow: [first ? 'accepted' : 'unauthorized'] };
        break;
      case 'content-type':
        headers = [
          AUTH(),
          ['Content-Type', first ? 'application/json' : 'text/plain'],
          ['Content-Type', second ? 'application/json' : 'text/plain'],
        ];
        expect = { allow: [first ? 'accepted' : 'unsupported_media_type'] };
        break;
      case 'idempotency-key':
        headers = [
          AUTH(),
          JSON_CT,
          ['Idempotency-Key', `a-${junk}`],
          ['Idempotency-Key', first ? `a-${junk}` : `b-${junk}`],
        ];
        expect = { allow: ['invalid_idempotency_key'] };
        break;
      case 'content-length': {
        const length = Buffer.byteLength(text);
        headers = [
          AUTH(),
          JSON_CT,
          ['Content-Length', String(length)],
          ['Content-Length', String(first ? length : length + 1)],
        ];
        expect = { allow: ['accepted'], httpLevel: true };
        break;
      }
      case 'host':
        headers = [AUTH(), JSON_CT, ['Host', 'evil.example']];
        expect = { allow: ['accepted'], httpLevel: true };
        break;
      default:
        headers = [
          AUTH(),
          JSON_CT,
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', String(Buffer.byteLength(text))],
        ];
        expect = { allow: [], httpLevel: true };
    }
    const request: RawRequest = {
      method: 'POST',
      target: '/v1/refreshes',
      headers,
      body:
        kind === 'transfer-encoding + content-length'
          ? `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`
          : text,
    };
    return input('headers: duplicates', `${kind} (${first}, ${second})`, request, expect);
  });

// ---------------------------------------------------------------------------------------------
// Paths (the URLs to refresh)

interface PathCase {
  path: string;
  /** `accepted` and/or invalid_path reasons (or `domain_not_allowed`). */
  outcomes: readonly string[];
  objectType?: 'File' | 'Directory';
  label: string;
}

const pc = (
  label: string,
  path: string,
  outcomes: readonly string[],
  objectType?: 'File' | 'Directory',
): PathCase => ({
  label,
  path,
  outcomes,
  ...(objectType ? { objectType } : {}),
});

const insertAt = (text: string, at: number, piece: string, from = 0): string => {
  const position = from + (at % (text.length - from + 1));
  return text.slice(0, position) + piece + text.slice(position);
};
const afterHost = (url: string): number => url.indexOf('/', url.indexOf('://') + 3);
const replaceHost = (url: string, host: string): string => {
  const start = url.indexOf('://') + 3;
  const end = afterHost(url);
  return url.slice(0, start) + host + url.slice(end === -1 ? url.length : end);
};

const CONTROL = [
  ...Array.from({ length: 0x20 }, (_v, i) => String.fromCharCode(i)),
  ...Array.from({ length: 0x21 }, (_v, i) => String.fromCharCode(0x7f + i)),
];
const SPACES = [
  ' ',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2003',
  '\u200a',
  '\u200b',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
const BAD_SCHEMES = [
  'javascript:alert(1)//',
  'data:text/html,',
  'ftp://',
  'file://',
  'ws://',
  'wss://',
  '//',
  'http:/',
  'https:',
  'http:\\\\',
  'hxxp://',
  'htp://',
  'vbscript:',
  'blob:https://',
  'view-source:https://',
  'about:',
  'mailto:',
  'gopher://',
  'httpss://',
  'http+unix://',
  '',
];

export const pathCases: fc.Arbitrary<PathCase> = fc.oneof(
  fc
    .record({ url: validFileUrl, at: fc.nat(), c: fc.constantFrom(...CONTROL) })
    .map(({ url, at, c }) =>
      pc(`control U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`, insertAt(url, at, c), [
        'control_character',
      ]),
    ),
  fc
    .record({ url: validFileUrl, at: fc.nat(), c: fc.constantFrom(...SPACES) })
    .map(({ url, at, c }) =>
      pc(`white space U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`, insertAt(url, at, c), [
        'whitespace',
      ]),
    ),
  fc
    .record({ url: validFileUrl, s: fc.constantFrom(...BAD_SCHEMES) })
    .map(({ url, s }) =>
      pc(`scheme ${JSON.stringify(s)}`, s + url.slice(url.indexOf('://') + 3), ['unsupported_scheme']),
    ),
  fc
    .record({ url: validFileUrl, s: fc.constantFrom('HTTP://', 'HtTpS://', 'https:///', 'https:////') })
    .map(({ url, s }) =>
      pc(`odd but valid scheme ${s}`, s + url.slice(url.indexOf('://') + 3), ['accepted']),
    ),
  fc
    .record({
      url: validFileUrl,
      info: fc.constantFrom(
        'user@',
        'user:pass@',
        ':pass@',
        'user:@',
        'a%40b@',
        'cdn.example.com@',
        'x:y:z@',
      ),
    })
    .map(({ url, info }) =>
      pc(`user info ${info}`, insertAt(url, 0, info, url.indexOf('://') + 3), ['userinfo_not_allowed']),
    ),
  fc
    .record({ url: validFileUrl, info: fc.constantFrom('@', ':@') })
    .map(({ url, info }) =>
      pc(`empty user info ${info}`, insertAt(url, 0, info, url.indexOf('://') + 3), [
        'accepted',
        'userinfo_not_allowed',
      ]),
    ),
  fc
    .record({
      url: validFileUrl,
      host: fc.constantFrom(
        'evil.example\\@cdn.example.com',
        'cdn.example.com.evil.example',
        'evil.example#@cdn.example.com',
        'evil.example?@cdn.example.com',
        'cdn.example.com%2f@evil.example',
      ),
    })
    .map(({ url, host }) =>
      pc(`host confusion ${host}`, replaceHost(url, host), [
        'domain_not_allowed',
        'userinfo_not_allowed',
        'malformed_url',
      ]),
    ),
  fc
    .record({
      url: validFileUrl,
      host: fc.constantFrom(
        '*.cdn.example.com',
        '*.media.example.org',
        '*cdn.example.com',
        'a.*.media.example.org',
        '*',
        '**.example.com',
      ),
    })
    .map(({ url, host }) =>
      pc(`wildcard ${host}`, replaceHost(url, host), ['wildcard_domain', 'malformed_url']),
    ),
  fc
    .record({
      url: validFileUrl,
      host: fc.oneof(
        fc.constantFrom(
          '[::1]',
          '[2001:db8::1]',
          '[::ffff:127.0.0.1]',
          '[fe80::1%25eth0]',
          '[1:2:3]',
          '[::1',
          '127.0.0.1',
          '0x7f.1',
          '2130706433',
          '0177.0.0.1',
          '256.1.1.1',
          '1.2.3',
          '[v1.x]',
        ),
        fc.ipV6().map((ip) => `[${ip}]`),
        fc.ipV4Extended(),
      ),
    })
    .map(({ url, host }) =>
      pc(`IP host ${host}`, replaceHost(url, host), ['domain_not_allowed', 'malformed_url']),
    ),
  fc
    .record({
      url: validFileUrl,
      host: fc.constantFrom(
        'ｃｄｎ.example.com',
        'cdn。example。com',
        'CDN.EXAMPLE.COM',
        'BÜCHER.example',
        'bu\u0308cher.example',
        'cdn.example.com\u00ad',
        'x.media.example.org\u200d',
        'сdn.example.com',
        'cdn.exаmple.com',
        'cdn.example.com.',
        'cdn\u2024example.com',
        'xn--.example',
        'xn--bcher-kva.example.',
        'cdn.example.com\u3002',
        'ｘ.media.example.org',
        'a..media.example.org',
        '.media.example.org',
        'media.example.org',
      ),
    })
    .map(({ url, host }) =>
      pc(`unicode/odd host ${host}`, replaceHost(url, host), [
        'accepted',
        'domain_not_allowed',
        'malformed_url',
        'whitespace',
        'control_character',
      ]),
    ),
  fc
    .record({
      url: validFileUrl,
      at: fc.nat(),
      piece: fc.constantFrom(
        '\u202e',
        '\u200d',
        'é',
        '😀',
        'Ω',
        '\u0301',
        '\u2215',
        '\uff0f',
        '..%c0%af',
        '<script>',
        '"\'`',
        '{}|^[]',
      ),
    })
    .map(({ url, at, piece }) =>
      pc(`unicode/odd text in path ${JSON.stringify(piece)}`, insertAt(url, at, piece, afterHost(url) + 1), [
        'accepted',
      ]),
    ),
  // A JSON escape of half a surrogate pair: the URL parser would make it %EF%BF%BD, a URL nobody sent.
  fc
    .record({
      url: validFileUrl,
      at: fc.nat(),
      piece: fc.constantFrom(
        '\ud800',
        '\udbff',
        '\udc00',
        '\udfff',
        '\udfff\ud800',
        '\ud800\ud800',
        'a\ud83d',
      ),
    })
    .map(({ url, at, piece }) =>
      pc(`lone surrogate ${JSON.stringify(piece)}`, insertAt(url, at, piece), ['lone_surrogate']),
    ),
  fc.integer({ min: LIMITS.maxPathLength - 3, max: LIMITS.maxPathLength + 3 }).chain((n) =>
    fc.constantFrom('a', '%41').map((unit) => {
      const head = 'https://cdn.example.com/';
      // '%41' decodes to 'A': the canonical form is shorter than the raw one.
      const raw = head + unit.repeat(Math.ceil((n - head.length) / unit.length));
      const canonicalLength = head.length + (raw.length - head.length) / unit.length;
      const outcome =
        raw.length > LIMITS.maxPathLength || canonicalLength > LIMITS.maxPathLength ? 'too_long' : 'accepted';
      return pc(`long path ${raw.length} chars of ${unit}`, raw, [outcome]);
    }),
  ),
  fc
    .record({
      url: validFileUrl,
      at: fc.nat(),
      piece: fc.constantFrom(
        '%',
        '%z',
        '%%',
        '%0',
        '%00',
        '%2e%2e/',
        '%2F',
        '%E0%A4%A',
        '%C0%AF',
        '%ZZ',
        '%u0041',
        '%25',
        '%7e',
        '%41',
        '%ff',
        '%0A',
        '%0D%0A',
        '%20',
      ),
    })
    .map(({ url, at, piece }) =>
      pc(`percent ${piece} in path`, insertAt(url, at, piece, afterHost(url) + 1), [
        'accepted',
        'malformed_percent_encoding',
      ]),
    ),
  fc
    .record({
      url: validFileUrl,
      host: fc.constantFrom(
        'cdn%2Eexample.com',
        'cdn%00.example.com',
        'cdn%zz.example.com',
        'cdn%2eexample%2ecom',
        '%63dn.example.com',
        'cdn.example.com%',
      ),
    })
    .map(({ url, host }) =>
      pc(`percent in host ${host}`, replaceHost(url, host), [
        'accepted',
        'malformed_url',
        'malformed_percent_encoding',
        'invalid_host',
        'domain_not_allowed',
      ]),
    ),
  fc
    .record({
      url: validFileUrl,
      piece: fc.constantFrom(
        '/a/../../../b',
        '/./a',
        '/%2e%2e/a',
        '/%2E/a',
        '\\a\\b',
        '/a#frag',
        '/a#%zz',
        '/a#',
        '?q=<>"',
        '?q=%zz',
        '??',
        '?#',
        '/a;b=c',
        '//double//slash',
      ),
    })
    .map(({ url, piece }) => {
      const base = url.slice(0, afterHost(url));
      return pc(`path form ${piece}`, base + piece, ['accepted', 'malformed_percent_encoding']);
    }),
  fc
    .record({
      url: validFileUrl,
      port: fc.constantFrom(':443', ':80', ':0', ':65535', ':8080', ':', ':00080'),
    })
    .map(({ url, port }) => pc(`port ${port}`, replaceHost(url, `cdn.example.com${port}`), ['accepted'])),
  fc
    .record({
      url: validFileUrl,
      port: fc.constantFrom(':65536', ':-1', ':abc', ':1e3', ':99999999999', ': 80', ':0x50'),
    })
    .map(({ url, port }) =>
      pc(
        `bad port ${port}`,
        replaceHost(url, `cdn.example.com${port}`),
        port === ': 80' ? ['whitespace'] : ['malformed_url'],
      ),
    ),
  fc.record({ url: validFileUrl }).map(({ url }) => {
    const withoutQuery = url.split('?')[0] ?? url;
    return pc(
      'directory without trailing slash',
      withoutQuery.replace(/\/+$/, '') || withoutQuery,
      ['directory_needs_trailing_slash'],
      'Directory',
    );
  }),
  fc
    .record({ dir: validDirUrl, q: fc.constantFrom('?x=1', '?', '?a', '?#') })
    .map(({ dir, q }) => pc(`directory with query ${q}`, dir + q, ['directory_with_query'], 'Directory')),
  fc
    .record({ dir: validDirUrl, suffix: fc.constantFrom('', '#frag', './/', '/../') })
    .map(({ dir, suffix }) => pc(`valid directory ${suffix}`, dir + suffix, ['accepted'], 'Directory')),
  fc
    .record({ host: allowedHost })
    .map(({ host }) => pc('directory = host root', `https://${host}`, ['accepted'], 'Directory')),
  fc.record({ dir: validDirUrl }).map(({ dir }) => pc('file with trailing slash', dir, ['accepted'], 'File')),
  fc
    .constantFrom(
      '',
      'https://',
      'http://?',
      'https:///',
      'https://:80/',
      'http://[',
      'https://#',
      'http:',
      'https:/',
      'h',
      '?',
      '/',
      '//cdn.example.com/a',
    )
    .map((path) =>
      pc(`malformed ${JSON.stringify(path)}`, path, [
        'malformed_url',
        'unsupported_scheme',
        'domain_not_allowed',
      ]),
    ),
  fc
    .string({ unit: 'binary', maxLength: 60 })
    .map((path) =>
      pc('random text', path, [
        'accepted',
        'lone_surrogate',
        'malformed_url',
        'unsupported_scheme',
        'control_character',
        'whitespace',
        'domain_not_allowed',
        'too_long',
      ]),
    ),
  fc
    .webUrl({
      validSchemes: ['http', 'https', 'ftp', 'javascript', 'HTTP'],
      authoritySettings: {
        withIPv4: true,
        withIPv6: true,
        withIPv4Extended: true,
        withUserInfo: true,
        withPort: true,
      },
      withQueryParameters: true,
      withFragments: true,
    })
    .map((path) =>
      pc('random web URL', path, [
        'accepted',
        'malformed_url',
        'unsupported_scheme',
        'userinfo_not_allowed',
        'domain_not_allowed',
        'wildcard_domain',
        'too_long',
        'whitespace',
        'control_character',
      ]),
    ),
);

const ALL_REASONS = [
  'accepted',
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
  'domain_not_allowed',
];

/**
 * One request with 1..5 paths: valid companions and, at a random index, the case under test.
 * One bad path must reject the whole request with that path's index and reason in `details`.
 */
function pathRequest(intake: 'main' | 'open') {
  return fc
    .record({
      theCase: pathCases,
      companions: fc.array(fc.boolean(), { maxLength: 4 }),
      files: fc.array(validFileUrl, { minLength: 4, maxLength: 4 }),
      dirs: fc.array(validDirUrl, { minLength: 4, maxLength: 4 }),
      at: fc.nat(),
      asObjectPath: fc.boolean(),
      objectTypeSpelling: fc.constantFrom('exact', 'lower', 'upper', 'default'),
    })
    .map(({ theCase, companions, files, dirs, at, asObjectPath, objectTypeSpelling }) => {
      const objectType = theCase.objectType ?? 'File';
      const pool = objectType === 'Directory' ? dirs : files;
      const paths = companions.map((_c, i) => pool[i] as string);
      const badIndex = at % (paths.length + 1);
      paths.splice(badIndex, 0, theCase.path);
      // objectPath splits on newlines and drops blank lines; only use it where that changes nothing.
      const useLines = asObjectPath && !/[\r\n]/.test(theCase.path) && theCase.path.trim() !== '';
      const spelled =
        objectTypeSpelling === 'lower'
          ? objectType.toLowerCase()
          : objectTypeSpelling === 'upper'
            ? objectType.toUpperCase()
            : objectType;
      const body: Record<string, unknown> = useLines ? { objectPath: paths.join('\n') } : { paths };
      if (objectTypeSpelling !== 'default' || objectType === 'Directory') body.objectType = spelled;
      // On the open intake, every domain is allowed.
      const outcomes =
        intake === 'open'
          ? theCase.outcomes.map((o) => (o === 'domain_not_allowed' ? 'accepted' : o))
          : theCase.outcomes;
      const reasons = outcomes.filter((o) => o !== 'accepted');
      const allow = [
        ...(outcomes.includes('accepted') ? ['accepted'] : []),
        ...(reasons.some((r) => r !== 'domain_not_allowed') ? ['invalid_path'] : []),
        ...(reasons.includes('domain_not_allowed') ? ['domain_not_allowed'] : []),
      ];
      const fuzz = input(
        intake === 'main' ? 'paths (ALLOWED_DOMAINS set)' : 'paths (no ALLOWED_DOMAINS)',
        `${theCase.label} [${objectType}${useLines ? ', objectPath' : ''}, ${paths.length} paths, bad at ${badIndex}]`,
        postRequest(JSON.stringify(body)),
        { allow, reasons: reasons.length > 0 ? reasons : ALL_REASONS, badIndex },
        intake,
      );
      return fuzz;
    });
}

export const pathsMain = pathRequest('main');
export const pathsOpen = pathRequest('open');

// ---------------------------------------------------------------------------------------------
// Routes and HTTP-level garbage

const pctGarbage = fc.constantFrom('%', '%z', '%E0%A4%A', '%ZZ', '%%', '%C0', '%fg', 'a%');
/** Request targets an HTTP client can send: odd ids, odd routes, percent garbage, odd methods. */
export const routes = fc
  .record({
    method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST'),
    shape: fc.constantFrom(
      'status id',
      'status id garbage',
      'unknown under v1',
      'unknown root',
      'case variant',
      'trailing',
      'no auth',
    ),
    id: fc.oneof(
      fc.uuid(),
      fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'.split('')), minLength: 1, maxLength: 40 }),
      fc.string({ unit: visible, minLength: 1, maxLength: 30 }).map(encodeURIComponent),
    ),
    garbage: pctGarbage,
    seg: fc.string({ unit: fc.constantFrom(...'abcxyz019-._~'.split('')), minLength: 1, maxLength: 12 }),
  })
  .map(({ method, shape, id, garbage, seg }) => {
    const headers: [string, string][] = shape === 'no auth' ? [] : [AUTH()];
    let target: string;
    let allow: string[];
    let known: KnownDefect[] | undefined;
    // GET reads a request's status, DELETE cancels it: an unknown id is not_found for both.
    const statusMethod = method === 'GET' || method === 'DELETE';
    switch (shape) {
      case 'status id':
        target = `/v1/refreshes/${id}`;
        allow = statusMethod ? ['not_found'] : ['route_not_found'];
        break;
      case 'status id garbage':
        target = `/v1/refreshes/${seg}${garbage}`;
        // A caller's broken escape is a 4xx (400 or 404), never a 500.
        allow = ['not_found', 'route_not_found', 'invalid_request'];
        known = ['D1-http-error-as-500'];
        break;
      case 'unknown under v1':
        target = `/v1/${seg}${garbage}`;
        allow = ['route_not_found'];
        break;
      case 'unknown root':
        target = `/${seg}/${garbage}`;
        allow = ['route_not_found'];
        break;
      case 'case variant':
        target = `/V1/Refreshes/${id}`;
        allow = statusMethod ? ['not_found', 'route_not_found'] : ['route_not_found'];
        break;
      case 'trailing':
        target = `/v1/refreshes/${id}/${seg}`;
        allow = ['route_not_found'];
        break;
      default:
        target = `/v1/refreshes/${id}`;
        allow = ['unauthorized'];
    }
    const request: RawRequest =
      method === 'POST'
        ? {
            method,
            target,
            headers: [...headers, JSON_CT],
            body: JSON.stringify({ paths: ['https://cdn.example.com/route'] }),
          }
        : { method, target, headers };
    // POST to a route other than /v1/refreshes: unknown route (or 401 without a token).
    return input('routes', `${method} ${target.slice(0, 60)}`, request, {
      allow,
      ...(known ? { known } : {}),
    });
  });

/** Requests Node's HTTP parser refuses before intake sees them (bare 400/431, no JSON body). */
export const httpGarbage = fc
  .record({
    kind: fc.constantFrom(
      'control in target',
      'raw UTF-8 in target',
      'space in target',
      'control in header',
      'bad method',
      'huge target',
      'huge header',
      'bad header name',
      'bare LF',
    ),
    n: fc.integer({ min: 0, max: 31 }).filter((n) => n !== 9),
  })
  .map(({ kind, n }) => {
    let request: RawRequest;
    const base = {
      method: 'POST',
      target: '/v1/refreshes',
      headers: [AUTH(), JSON_CT] as [string, string][],
      body: '{"paths":["https://cdn.example.com/h"]}',
    };
    switch (kind) {
      case 'control in target':
        request = {
          ...base,
          method: 'GET',
          target: `/v1/refreshes/${String.fromCharCode(n)}x`,
          body: undefined as never,
        };
        break;
      case 'raw UTF-8 in target':
        request = {
          ...base,
          method: 'GET',
          target: Buffer.from('/v1/refreshes/é', 'utf8').toString('latin1'),
          body: undefined as never,
        };
        break;
      case 'space in target':
        request = { ...base, target: '/v1/refreshes x' };
        break;
      case 'control in header':
        request = { ...base, headers: [...base.headers, ['Idempotency-Key', `a${String.fromCharCode(n)}b`]] };
        break;
      case 'bad method':
        request = { ...base, method: 'P(ST' };
        break;
      case 'huge target':
        request = {
          ...base,
          method: 'GET',
          target: `/v1/refreshes/${'a'.repeat(100_000)}`,
          body: undefined as never,
        };
        break;
      case 'huge header':
        request = { ...base, headers: [...base.headers, ['X-Big', 'b'.repeat(100_000)]] };
        break;
      case 'bad header name':
        request = { ...base, headers: [...base.headers, ['Bad Name', 'x']] };
        break;
      default:
        request = { ...base, headers: [...base.headers, ['X-A', 'a\nX-B: b']] };
    }
    // Should Node pass one through, intake's own verdicts apply.
    return input('HTTP-level garbage', kind, request, {
      allow: ['accepted', 'invalid_idempotency_key', 'not_found', 'route_not_found', 'invalid_request'],
      httpLevel: true,
    });
  });

// ---------------------------------------------------------------------------------------------
// callbackUrl: the outbound address policy at intake

/** The main intake's CALLBACK_ALLOWED_HOSTS; the open intake has none (any public target). */
export const CALLBACK_ALLOWED_HOSTS = 'hooks.example.com:8443,*.cb.example.org';

/** Every spelling of an inside address a URL parser accepts, and names that are loopback by rule. */
const INWARD_HOSTS = [
  '127.0.0.1',
  '2130706433',
  '0x7f.1',
  '0177.0.0.1',
  '127.1',
  '127.255.255.254',
  '0.0.0.0',
  '0',
  '[::ffff:127.0.0.1]',
  '[::1]',
  '[::]',
  '[0:0:0:0:0:0:0:1]',
  '[::127.0.0.1]',
  'localhost',
  'LocalHost.',
  'app.localhost',
  '169.254.169.254',
  '0xa9.0xfe.0xa9.0xfe',
  '[fe80::1]',
  '[::ffff:169.254.169.254]',
  '[64:ff9b::a9fe:a9fe]',
  '[2002:7f00:1::]',
  '10.0.0.5',
  '012.0.0.1',
  '172.16.3.4',
  '172.31.255.255',
  '192.168.1.1',
  '3232235777',
  '[fd00::1]',
  '[fc00::abcd]',
  '100.64.0.1',
  '100.127.255.255',
  '224.0.0.1',
  '239.255.255.250',
  '255.255.255.255',
  '[ff02::1]',
  '192.0.2.1',
  '240.0.0.1',
];
const PUBLIC_HOSTS = [
  'hooks.example.net',
  '8.8.8.8',
  '[2606:4700:4700::1111]',
  'cb.example.com',
  'xn--bcher-kva.example',
];

/** Independent of the product: dotted IPv4 addresses the service must never call without leave. */
function inwardIPv4(dotted: string): boolean {
  const [a = 0, b = 0] = dotted.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}
/** Likewise for IPv6 literals as the URL parser prints them (lower-case hex, compressed, in brackets). */
function inwardIPv6(bracketed: string): boolean {
  const ip = bracketed.slice(1, -1);
  const mapped = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (mapped) {
    const high = parseInt(mapped[1] ?? '0', 16);
    const low = parseInt(mapped[2] ?? '0', 16);
    return inwardIPv4(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  // ::/16 (unspecified, loopback, IPv4-compatible), unique-local, link-local, multicast.
  return /^(::|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:|ff[0-9a-f]{2}:)/.test(ip);
}

const callbackCases = fc.oneof(
  fc
    .record({
      host: fc.constantFrom(...INWARD_HOSTS),
      scheme: fc.constantFrom('http', 'https', 'HTTP'),
      port: fc.constantFrom('', ':80', ':443', ':6379', ':8443'),
      path: fc.constantFrom('/', '/hook', '/latest/meta-data/', '/x?token=secret'),
    })
    .map(({ host, scheme, port, path }) => ({
      label: `inside ${host}${port}`,
      url: `${scheme}://${host}${port}${path}`,
      open: ['callback_host_not_allowed'],
      main: ['callback_host_not_allowed'],
    })),
  fc
    .record({ host: fc.constantFrom(...PUBLIC_HOSTS), path: fc.constantFrom('/', '/cb', '/cb?sig=1#frag') })
    .map(({ host, path }) => ({
      label: `public ${host}`,
      url: `https://${host}${path}`,
      open: ['accepted'],
      main: ['callback_host_not_allowed'],
    })),
  fc
    .constantFrom(
      ['https://hooks.example.com:8443/cb', 'accepted'],
      ['http://hooks.example.com:8443/', 'accepted'],
      ['https://HOOKS.example.com:8443/cb?x=1', 'accepted'],
      ['https://a.cb.example.org/cb', 'accepted'],
      ['https://a.b.cb.example.org:444/', 'accepted'],
      ['https://hooks.example.com/cb', 'callback_host_not_allowed'],
      ['https://hooks.example.com:8444/cb', 'callback_host_not_allowed'],
      ['https://hooks.example.com:6379/', 'callback_host_not_allowed'],
      ['https://cb.example.org/', 'callback_host_not_allowed'],
      ['https://evil.example/?x=hooks.example.com:8443', 'callback_host_not_allowed'],
      ['https://hooks.example.com:8443@evil.example/', 'invalid_callback_url'],
    )
    .map(([url, outcome]) => ({
      label: `allow-list ${url}`,
      url,
      main: [outcome],
      open: [outcome === 'invalid_callback_url' ? outcome : 'accepted'],
    })),
  fc
    .record({
      host: fc.oneof(
        fc.ipV4Extended(),
        fc.ipV6().map((ip) => `[${ip}]`),
      ),
    })
    .map(({ host }) => {
      let canonical: string | undefined;
      try {
        canonical = new URL(`http://${host}/`).hostname;
      } catch {
        canonical = undefined;
      }
      const inward =
        canonical === undefined
          ? undefined
          : canonical.startsWith('[')
            ? inwardIPv6(canonical)
            : inwardIPv4(canonical);
      // One-sided: an inside address must be refused; others may be (reserved ranges are too).
      const open =
        inward === undefined
          ? ['invalid_callback_url']
          : inward
            ? ['callback_host_not_allowed']
            : ['accepted', 'callback_host_not_allowed'];
      return {
        label: `random address ${host}`,
        url: `http://${host}/cb`,
        open,
        main: inward === undefined ? ['invalid_callback_url'] : ['callback_host_not_allowed'],
      };
    }),
  fc
    .record({
      at: fc.nat(),
      c: fc.constantFrom('\r', '\n', '\r\n', '\t', '\u0000', '\u001b', '\u007f', '\u0085', '\u009f'),
    })
    .map(({ at, c }) => {
      const url = 'https://hooks.example.com:8443/cb?a=1';
      const position = at % (url.length + 1);
      return {
        label: `control U+${c.charCodeAt(0).toString(16).padStart(4, '0')} at ${position}`,
        url: url.slice(0, position) + c + url.slice(position),
        open: ['invalid_callback_url'],
        main: ['invalid_callback_url'],
      };
    }),
  fc
    .record({
      at: fc.nat(),
      c: fc.constantFrom(' ', '\u00a0', '\u2028', '\u3000', '\ufeff', '\ud800', '\udfff'),
    })
    .map(({ at, c }) => {
      const url = 'https://hooks.example.com:8443/cb';
      const position = at % (url.length + 1);
      return {
        label: `odd text U+${c.charCodeAt(0).toString(16)} at ${position}`,
        url: url.slice(0, position) + c + url.slice(position),
        open: ['invalid_callback_url'],
        main: ['invalid_callback_url'],
      };
    }),
  fc
    .constantFrom(
      'ftp://hooks.example.com:8443/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'gopher://hooks.example.com:8443/',
      'not a url',
      '',
      '//hooks.example.com:8443/',
      'https://user:pw@hooks.example.com:8443/',
      'https://:pw@hooks.example.com:8443/',
      'http://[::1/',
      'http://256.256.256.256/',
    )
    .map((url) => ({
      label: `malformed ${JSON.stringify(url)}`,
      url,
      open: ['invalid_callback_url'],
      main: ['invalid_callback_url'],
    })),
  fc.integer({ min: 2040, max: 2060 }).map((n) => {
    const head = 'https://hooks.example.com:8443/';
    const url = head + 'a'.repeat(n - head.length);
    const outcome = n > 2048 ? 'invalid_request' : 'accepted';
    return { label: `${n} characters`, url, open: [outcome], main: [outcome] };
  }),
);

/** A valid request carrying a callbackUrl: on the open intake (no list) or the main one (CALLBACK_ALLOWED_HOSTS set). */
export const callbackUrls = fc
  .record({ theCase: callbackCases, path: validFileUrl, main: fc.boolean(), notString: fc.nat(20) })
  .map(({ theCase, path, main, notString }) => {
    const which = main ? 'main' : 'open';
    // Now and then not a string at all.
    const value: unknown = notString === 0 ? [theCase.url] : notString === 1 ? 42 : theCase.url;
    const allow = typeof value === 'string' ? theCase[which] : ['invalid_request'];
    return input(
      'body: callbackUrl',
      `${which}: ${typeof value === 'string' ? theCase.label : `not a string (${theCase.label})`}`,
      postRequest(JSON.stringify({ paths: [path], callbackUrl: value })),
      { allow },
      which,
    );
  });

// ---------------------------------------------------------------------------------------------
// Refused before the body: the answer must come at once, not after the body (which never comes)

export const refusedBeforeBody = fc
  .record({
    kind: fc.constantFrom('no token', 'declared too large', 'not JSON', 'not UTF-8'),
    huge: fc.oneof(
      fc.integer({ min: LIMITS.maxBodyBytes + 1, max: 64 * 1024 * 1024 }),
      fc.constantFrom(2 ** 40, 999_999_999_999_999),
    ),
    small: fc.integer({ min: 2001, max: LIMITS.maxBodyBytes }),
    sent: fc.nat(2000),
  })
  .map(({ kind, huge, small, sent }) => {
    const tooLarge = kind === 'declared too large' || (kind === 'no token' && sent % 2 === 0);
    const declared = tooLarge ? huge : small;
    const headers: [string, string][] = [];
    if (kind !== 'no token') headers.push(AUTH());
    headers.push([
      'Content-Type',
      kind === 'not JSON'
        ? 'text/plain'
        : kind === 'not UTF-8'
          ? 'application/json; charset=utf-16'
          : 'application/json',
    ]);
    headers.push(['Content-Length', String(declared)]);
    const code =
      kind === 'no token'
        ? 'unauthorized'
        : declared > LIMITS.maxBodyBytes
          ? 'payload_too_large'
          : kind === 'not JSON'
            ? 'unsupported_media_type'
            : 'unsupported_charset';
    const request: RawRequest = {
      method: 'POST',
      target: '/v1/refreshes',
      headers,
      // Fewer bytes than declared, and the client waits: only an answer before the body ends it.
      body: `{"paths":["https://cdn.example.com/${'a'.repeat(sent)}`,
    };
    return input('framing: refused before the body', `${kind}, ${declared} declared, ${sent} sent`, request, {
      allow: [code],
      answerBeforeBody: true,
    });
  });
