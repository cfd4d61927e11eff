import { writeFileSync } from 'node:fs';
import { checkPath as canonicalise } from '@refreshq/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The emulator's rules for ObjectPath: what the upstream would refuse as InvalidObjectPath.Malformed.
import { checkPath as upstreamCheck } from '../../apps/vod-emulator/src/paths.js';
import { cleanNamespace, startTestIntake, type TestIntake } from '../support/stack.js';
import {
  ALLOWED_DOMAINS,
  authVariants,
  CALLBACK_ALLOWED_HOSTS,
  callbackUrls,
  contentEncodings,
  contentTypes,
  deepNesting,
  duplicateHeaders,
  emptyBodies,
  httpGarbage,
  hugeStrings,
  idempotencyKeys,
  invalidUtf8,
  jsonValues,
  LIMITS,
  pathsMain,
  pathsOpen,
  postRequest,
  refusedBeforeBody,
  routes,
  TOKENS,
  truncatedJson,
  unknownFields,
  wrongTypes,
  type FuzzInput,
  type KnownDefect,
} from './support/inputs.js';
import { rawRequest, type RawAnswer } from './support/raw-http.js';
import { PATH_REASONS, STATUS_OF_CODE } from './support/rejection-table.js';

/**
 * Fuzzes a real intake (express app, real Redis, INTAKE_TOKENS and ALLOWED_DOMAINS set) with
 * seeded fast-check inputs, class by class. For every input:
 *   - never a 5xx, never a hang;
 *   - a rejection is `{"error":{"code","message"}}` with a code and status from the README table
 *     (support/rejection-table.ts), a code the input allows, and nothing queued (queue counts equal);
 *   - a 202 only where the input allows it; then exactly one job more (none for a replay), and
 *     GET /v1/refreshes/:id reads it back with every path queued; every accepted path is safe
 *     (http(s), allowed host, no white space or control characters, within MAX_PATH_LENGTH),
 *     canonical (normalising it again changes nothing), and is checked against the upstream's rules.
 * Known product defects (RELIABILITY.md) are counted, not failed, unless FUZZ_KNOWN_FAILURES=1.
 *
 * FUZZ_SEED (default 20251124) and FUZZ_SCALE (default 1: about 6,000 inputs) tune the run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20251124);
/** No error answer is larger than this, whatever was sent. */
const MAX_ERROR_BYTES = 32 * 1024;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const STRICT = process.env.FUZZ_KNOWN_FAILURES === '1';

let main: TestIntake;
let open: TestIntake;
const ports = new Map<'main' | 'open', number>();

beforeAll(async () => {
  const limits = {
    MAX_PATHS_PER_REQUEST: String(LIMITS.maxPaths),
    MAX_PATH_LENGTH: String(LIMITS.maxPathLength),
    MAX_BODY_BYTES: String(LIMITS.maxBodyBytes),
  };
  main = await startTestIntake({
    INTAKE_TOKENS: TOKENS.join(','),
    ALLOWED_DOMAINS,
    CALLBACK_ALLOWED_HOSTS,
    ...limits,
  });
  open = await startTestIntake({ INTAKE_TOKENS: TOKENS.join(','), ...limits });
  ports.set('main', Number(new URL(main.url).port));
  ports.set('open', Number(new URL(open.url).port));
});

afterAll(async () => {
  printReport();
  await main?.close();
  await open?.close();
  if (main) await cleanNamespace(main.namespace);
  if (open) await cleanNamespace(open.namespace);
});

// ---------------------------------------------------------------------------------------------
// Bookkeeping for the report

interface ClassStats {
  tried: number;
  outcomes: Map<string, number>;
  known: Map<KnownDefect, number>;
  ms: number;
}
const stats = new Map<string, ClassStats>();
/** Accepted paths the upstream (emulator rules) would refuse: reason -> count and examples. */
const upstreamRefusals = new Map<string, { count: number; examples: string[] }>();

function tally(cls: string, outcome: string, known?: KnownDefect): void {
  let entry = stats.get(cls);
  if (!entry) {
    entry = { tried: 0, outcomes: new Map(), known: new Map(), ms: 0 };
    stats.set(cls, entry);
  }
  entry.tried += 1;
  entry.outcomes.set(outcome, (entry.outcomes.get(outcome) ?? 0) + 1);
  if (known) entry.known.set(known, (entry.known.get(known) ?? 0) + 1);
}

function printReport(): void {
  const rows = [...stats.entries()].map(([cls, s]) => ({
    class: cls,
    tried: s.tried,
    seconds: Number((s.ms / 1000).toFixed(1)),
    outcomes: [...s.outcomes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o}:${n}`)
      .join(' '),
    knownDefects: [...s.known.entries()].map(([d, n]) => `${d}:${n}`).join(' '),
  }));
  const total = rows.reduce((sum, row) => sum + row.tried, 0);
  const lines = [
    `intake fuzz: seed ${SEED}, scale ${SCALE}, ${total} inputs${STRICT ? ' (FUZZ_KNOWN_FAILURES=1)' : ''}`,
    ...rows.map(
      (row) =>
        `  ${row.class.padEnd(32)} ${String(row.tried).padStart(5)} in ${String(row.seconds).padStart(5)} s  ${row.outcomes}${row.knownDefects ? `  KNOWN DEFECTS ${row.knownDefects}` : ''}`,
    ),
    `  accepted paths the upstream would refuse (InvalidObjectPath.Malformed by the emulator's rules): ${[...upstreamRefusals.values()].reduce((sum, entry) => sum + entry.count, 0)}`,
    ...[...upstreamRefusals.entries()].map(
      ([reason, entry]) =>
        `    ${reason}: ${entry.count}, e.g. ${entry.examples.map((e) => JSON.stringify(e.length > 90 ? `${e.slice(0, 90)}…` : e)).join(', ')}`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (process.env.FUZZ_REPORT_FILE) {
    writeFileSync(
      process.env.FUZZ_REPORT_FILE,
      JSON.stringify(
        { seed: SEED, scale: SCALE, total, rows, upstreamRefusals: Object.fromEntries(upstreamRefusals) },
        null,
        2,
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Oracles

const idempotencyBindings = new Map<string, string>();

function isAllowedHost(host: string): boolean {
  // Written independently of the product's matcher: exact hosts, and sub-domains of *.media.example.org.
  return (
    host === 'cdn.example.com' ||
    host === 'xn--bcher-kva.example' ||
    (host.endsWith('.media.example.org') && host.length > '.media.example.org'.length)
  );
}

const UNSAFE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff#]/;

/**
 * The rules added after the fuzz found D2/D3 (a broken %-escape before any fragment, U+FFFD, a host
 * with an empty, over-long or single label, port 0), checked here independently of the product:
 * a rejection for one of them is right when the rule holds for the path named.
 */
function refinedRejectionHolds(
  input: { request: { body?: string | Buffer } },
  details: unknown,
  badIndex: number | undefined,
): boolean {
  if (!Array.isArray(details) || badIndex === undefined) return false;
  const mine = (details as { index: number; reason: string }[]).find((detail) => detail.index === badIndex);
  if (!mine) return false;
  let paths: string[] = [];
  try {
    const parsed = JSON.parse(String(input.request.body ?? '')) as { paths?: unknown; objectPath?: unknown };
    paths = Array.isArray(parsed.paths)
      ? (parsed.paths as string[])
      : String(parsed.objectPath ?? '')
          .split(/\r?\n/)
          .filter((line) => line.trim() !== '');
  } catch {
    return false;
  }
  const path = paths[badIndex];
  if (typeof path !== 'string') return false;
  switch (mine.reason) {
    case 'malformed_percent_encoding':
      return /%(?![0-9A-Fa-f]{2})/.test(path.split('#')[0] ?? '');
    case 'replacement_character':
      return path.includes('\uFFFD');
    case 'lone_surrogate':
      return /[\uD800-\uDFFF]/u.test(path);
    case 'invalid_port':
      return /^[a-z]+:\/\/[^/?#]*:0+(?:[/?#]|$)/i.test(path);
    case 'invalid_host': {
      try {
        const host = new URL(path).hostname;
        const labels = host.split('.');
        return (
          labels.length < 2 ||
          labels.some((label) => label.length === 0 || label.length > 63) ||
          host.length > 253
        );
      } catch {
        return false;
      }
    }
    default:
      return false;
  }
}

/** Why an accepted canonical path is not fit to be queued, or undefined. Upstream refusals are only recorded. */
function unsafePath(path: string, objectType: string, intake: 'main' | 'open'): string | undefined {
  if (!/^https?:\/\/[^/?#@]+/.test(path)) return 'not http(s)://host or has user info';
  if (UNSAFE.test(path)) return 'white space, control character or fragment';
  if (path.length > LIMITS.maxPathLength) return `longer than ${LIMITS.maxPathLength}`;
  let url: URL;
  try {
    url = new URL(path);
  } catch {
    return 'does not parse as a URL';
  }
  if (url.username || url.password) return 'user info';
  if (url.hostname.includes('*')) return 'wildcard host';
  if (intake === 'main' && !isAllowedHost(url.hostname))
    return `host ${url.hostname} outside ALLOWED_DOMAINS`;
  if (objectType === 'Directory' && (!url.pathname.endsWith('/') || path.includes('?')))
    return 'directory without trailing slash or with a query';
  const again = canonicalise(path, {
    objectType: objectType as 'File' | 'Directory',
    maxLength: LIMITS.maxPathLength,
  });
  if (!again.ok) return `normalising the canonical form again rejects it (${again.reason})`;
  if (again.path !== path) return `not a fixed point of normalisation: ${JSON.stringify(again.path)}`;
  const upstream = upstreamCheck(path, objectType as 'File' | 'Directory');
  if (!upstream.ok) {
    const entry = upstreamRefusals.get(upstream.reason) ?? { count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < 3) entry.examples.push(path);
    upstreamRefusals.set(upstream.reason, entry);
    if (STRICT) return `known D3: the upstream would refuse it (${upstream.reason})`;
  }
  return undefined;
}

/** How many paths the caller sent, when the body is JSON we can read. */
function rawPathCount(body: unknown): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : String(body));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const record = parsed as { paths?: unknown; objectPath?: unknown };
  if (Array.isArray(record.paths)) return record.paths.length;
  if (typeof record.objectPath === 'string')
    return record.objectPath.split(/\r?\n/).filter((line) => line.trim() !== '').length;
  return undefined;
}

function jsonOf(answer: RawAnswer): any {
  if (!/^application\/json/.test(answer.headers['content-type'] ?? '')) return undefined;
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Sends one input and returns what is wrong with the answer, or undefined. */
async function judge(input: FuzzInput): Promise<string | undefined> {
  const intake = input.intake === 'main' ? main : open;
  const port = ports.get(input.intake) as number;
  const before = await intake.queueCounts();
  // Refused from the headers alone: an answer that waits for the body never comes.
  const answer = await rawRequest(port, input.request, input.expect.answerBeforeBody ? 5000 : 10_000);
  const after = await intake.queueCounts();
  const { expect: want } = input;
  const known = (defect: KnownDefect) => !STRICT && (want.known ?? []).includes(defect);

  if (answer.noAnswer !== undefined) {
    tally(input.cls, 'no answer');
    if (want.httpLevel && after === before) return undefined;
    return `no answer (${answer.noAnswer})`;
  }
  const body = jsonOf(answer);

  if (answer.status >= 500) {
    if (
      answer.status === 500 &&
      body?.error?.code === 'internal_error' &&
      known('D1-http-error-as-500') &&
      after === before
    ) {
      tally(input.cls, '500 (known D1)', 'D1-http-error-as-500');
      return undefined;
    }
    tally(input.cls, `${answer.status}`);
    return `5xx: ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`;
  }

  if (body === undefined) {
    // Only Node's own HTTP parser answers without JSON (bare 400/431); never for a request intake saw.
    tally(input.cls, `${answer.status} (HTTP parser, no JSON)`);
    if (!want.httpLevel)
      return `answer is not JSON: ${answer.status} ${answer.headers['content-type'] ?? ''} ${answer.body.toString('utf8').slice(0, 100)}`;
    if (answer.status < 400 || answer.status >= 500) return `HTTP-level answer ${answer.status}`;
    if (after !== before) return `HTTP-level rejection queued something (${before} -> ${after})`;
    return undefined;
  }

  if (answer.status === 202) {
    const accepted = want.allow.includes('accepted');
    const viaDefect = !accepted && known('D2-invalid-utf8-accepted');
    tally(
      input.cls,
      viaDefect ? '202 (known D2)' : body.replayed ? '202 replayed' : '202',
      viaDefect ? 'D2-invalid-utf8-accepted' : undefined,
    );
    if (!accepted && !viaDefect)
      return `accepted (202) an input that allows only ${want.allow.join('|') || 'an HTTP-level rejection'}`;
    return checkAccepted(input, answer, body, after - before, viaDefect);
  }

  const error = body?.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string')
    return `error body not {"error":{"code","message"}}: ${JSON.stringify(body).slice(0, 200)}`;
  // However bad the body, the answer stays small (a capped list of issues).
  if (answer.body.length > MAX_ERROR_BYTES)
    return `error answer of ${answer.body.length} bytes (more than ${MAX_ERROR_BYTES})`;
  tally(input.cls, error.code);
  if (!STATUS_OF_CODE.has(error.code)) return `code ${error.code} is not in the README's table`;
  if (STATUS_OF_CODE.get(error.code) !== answer.status)
    return `code ${error.code} came with ${answer.status}, the table says ${STATUS_OF_CODE.get(error.code)}`;
  if (
    !want.allow.includes(error.code) &&
    !(error.code === 'invalid_path' && refinedRejectionHolds(input, error.details, want.badIndex))
  )
    return `answered ${answer.status} ${error.code} (${error.message}); allowed: ${want.allow.join('|')}`;
  if (after !== before) return `a rejection queued something (${before} -> ${after})`;
  if (error.code === 'unauthorized' && !(answer.headers['www-authenticate'] ?? '').includes('Bearer'))
    return '401 without WWW-Authenticate: Bearer';
  if (error.details !== undefined) {
    if (!Array.isArray(error.details)) return 'details is not an array';
    for (const detail of error.details) {
      if (!PATH_REASONS.includes(detail.reason))
        return `details reason ${detail.reason} is not in the README's table`;
    }
  }
  if ((error.code === 'invalid_path' || error.code === 'domain_not_allowed') && want.badIndex !== undefined) {
    const details = (error.details ?? []) as { index: number; reason: string }[];
    const mine = details.find((detail) => detail.index === want.badIndex);
    if (!mine)
      return `details do not name the bad path at index ${want.badIndex}: ${JSON.stringify(details).slice(0, 300)}`;
    if (
      want.reasons &&
      !want.reasons.includes(mine.reason) &&
      !refinedRejectionHolds(input, error.details, want.badIndex)
    )
      return `bad path rejected for ${mine.reason}; expected ${want.reasons.join('|')}`;
    const others = details.filter((detail) => detail.index !== want.badIndex);
    if (others.length > 0)
      return `valid companion paths named as bad: ${JSON.stringify(others).slice(0, 300)}`;
  }
  if (error.code === 'idempotency_key_reused' && input.idem) {
    const bound = idempotencyBindings.get(`${input.idem.scope}\u0000${input.idem.key}`);
    if (bound === undefined || bound === input.idem.fingerprint)
      return '422 for a key that was never bound to another body';
  } else if (input.idem && error.code !== 'idempotency_key_reused') {
    return `valid Idempotency-Key refused: ${error.code}`;
  }
  return undefined;
}

async function checkAccepted(
  input: FuzzInput,
  answer: RawAnswer,
  body: any,
  queued: number,
  viaDefect: boolean,
): Promise<string | undefined> {
  if (
    typeof body.id !== 'string' ||
    typeof body.accepted !== 'number' ||
    body.accepted < 1 ||
    body.state !== 'queued'
  )
    return `202 body malformed: ${JSON.stringify(body)}`;
  if (body.statusUrl !== `/v1/refreshes/${body.id}` || answer.headers.location !== body.statusUrl)
    return 'statusUrl / Location do not point at the request';
  if (input.idem) {
    const slot = `${input.idem.scope}\u0000${input.idem.key}`;
    const bound = idempotencyBindings.get(slot);
    if (bound === undefined) {
      if (body.replayed) return 'replayed although the key was never used';
      idempotencyBindings.set(slot, input.idem.fingerprint);
    } else if (bound !== input.idem.fingerprint) {
      return 'a reused key with another body was accepted (expected 422)';
    } else if (!body.replayed) {
      return 'the same key and body were not answered as a replay';
    }
  }
  const expectedJobs = body.replayed ? 0 : 1;
  if (queued !== expectedJobs)
    return `202 ${body.replayed ? '(replay) ' : ''}changed the queue by ${queued}, expected ${expectedJobs}`;
  const sent = rawPathCount(input.request.body);
  if (sent !== undefined && !viaDefect && body.accepted + body.duplicates !== sent)
    return `accepted ${body.accepted} + duplicates ${body.duplicates} != ${sent} paths sent`;

  const intake = input.intake === 'main' ? main : open;
  const status = await fetch(`${intake.url}${body.statusUrl}`, {
    headers: { authorization: `Bearer ${TOKENS[0]}` },
  });
  if (status.status !== 200) return `GET ${body.statusUrl} answered ${status.status}`;
  const view = (await status.json()) as {
    id: string;
    state: string;
    objectType: string;
    paths: { path: string; state: string }[];
  };
  if (view.id !== body.id || view.state !== 'queued')
    return `status view ${JSON.stringify(view).slice(0, 200)}`;
  if (view.paths.length !== body.accepted)
    return `status view has ${view.paths.length} paths, 202 said ${body.accepted}`;
  if (new Set(view.paths.map((p) => p.path)).size !== view.paths.length) return 'status view repeats a path';
  for (const path of view.paths) {
    if (path.state !== 'queued') return `path ${path.path} is ${path.state}, not queued`;
    const unsafe = unsafePath(path.path, view.objectType, input.intake);
    if (unsafe && !viaDefect) return `accepted path ${JSON.stringify(path.path).slice(0, 120)}: ${unsafe}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The run: one property per class

const CLASSES: [string, fc.Arbitrary<FuzzInput>, number][] = [
  ['body: random JSON value', jsonValues, 500],
  ['body: deep nesting', deepNesting, 120],
  ['body: huge strings near limits', hugeStrings, 150],
  ['body: wrong types', wrongTypes, 400],
  ['body: unknown fields', unknownFields, 250],
  ['body: invalid UTF-8', invalidUtf8, 250],
  ['body: truncated JSON', truncatedJson, 300],
  ['body: empty', emptyBodies, 30],
  ['body: wrong content types', contentTypes, 300],
  ['body: content encodings', contentEncodings, 150],
  ['headers: authorization', authVariants, 600],
  ['headers: Idempotency-Key', idempotencyKeys, 500],
  ['headers: duplicates', duplicateHeaders, 150],
  ['paths (ALLOWED_DOMAINS set)', pathsMain, 1500],
  ['paths (no ALLOWED_DOMAINS)', pathsOpen, 500],
  ['body: callbackUrl', callbackUrls, 600],
  ['framing: refused before the body', refusedBeforeBody, 150],
  ['routes', routes, 300],
  ['HTTP-level garbage', httpGarbage, 60],
];

describe('intake fuzz: malformed input never costs a 5xx, a job, or an undocumented answer', () => {
  CLASSES.forEach(([name, arbitrary, runs], index) => {
    it(
      name,
      async () => {
        const started = Date.now();
        try {
          await fc.assert(
            fc.asyncProperty(arbitrary, async (fuzz) => {
              const problem = await judge(fuzz);
              if (problem) throw new Error(`${fuzz.cls} / ${fuzz.label}: ${problem}`);
            }),
            { seed: SEED + index, numRuns: Math.max(1, Math.round(runs * SCALE)), verbose: 1 },
          );
        } finally {
          const entry = stats.get(name);
          if (entry) entry.ms += Date.now() - started;
        }
      },
      120_000 * Math.max(1, SCALE),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The defects the fuzz found, as plain examples: they failed before the fixes.

describe('former defects found by the fuzz (D1-D3), now fixed', () => {
  const send = (request: Parameters<typeof rawRequest>[1]) =>
    rawRequest(ports.get('main') as number, request);
  const auth: [string, string] = ['Authorization', `Bearer ${TOKENS[0]}`];

  it('D1: a gzip body that does not decompress is a 4xx, not 500 internal_error', async () => {
    const answer = await send({
      method: 'POST',
      target: '/v1/refreshes',
      headers: [auth, ['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']],
      body: 'not gzip',
    });
    expect(answer.status).toBeLessThan(500);
  });

  it('D1: GET /v1/refreshes/% (a broken escape in the id) is a 4xx, not 500 internal_error', async () => {
    const answer = await send({ method: 'GET', target: '/v1/refreshes/%', headers: [auth] });
    expect(answer.status).toBeLessThan(500);
  });

  it.each([
    ['a broken percent-escape', 'https://cdn.example.com/a%zz.mp4'],
    ['an empty host label', 'https://a..media.example.org/x.mp4'],
    ['port 0', 'https://cdn.example.com:0/x.mp4'],
  ])(
    'D3: %s is rejected at intake, not accepted and then refused upstream as InvalidObjectPath.Malformed',
    async (_what, path) => {
      expect(upstreamCheck(path, 'File').ok).toBe(false);
      const answer = await send(postRequest(JSON.stringify({ paths: [path] })));
      expect(answer.status).toBe(400);
    },
  );

  it('D2: invalid UTF-8 inside a path is invalid_json, not a 202 for a U+FFFD-mangled URL', async () => {
    const body = Buffer.concat([
      Buffer.from('{"paths":["https://cdn.example.com/a'),
      Buffer.from([0xff]),
      Buffer.from('"]}'),
    ]);
    const answer = await send(postRequest(body));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body.toString()).error.code).toBe('invalid_json');
  });
});
