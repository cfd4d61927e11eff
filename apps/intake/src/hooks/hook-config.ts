import { readFileSync } from 'node:fs';
import type { ObjectType, Priority } from '@refreshq/domain';
import { ConfigError, caseInsensitive } from '@refreshq/config';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { PRESET_NAMES, PRESETS, type Preset } from './presets/index.js';
import { parseTemplate, TemplateError, type Template } from './templates.js';

/** A hook of WEBHOOKS_FILE, checked and ready: its secret resolved, its templates parsed. */
export interface Hook {
  name: string;
  preset: Preset;
  /** undefined only for a hook marked `unsigned: true`. */
  secret?: string;
  /** Lower-case name of the header carrying the shared secret (strapi). */
  secretHeader: string;
  events?: readonly string[];
  matchesEvent(event: string): boolean;
  templates: readonly Template[];
  objectType: ObjectType;
  priority: Priority;
  callbackUrl?: string;
  toleranceMs: number;
}

export type HookSet = ReadonlyMap<string, Hook>;

export const NO_HOOKS: HookSet = new Map();

export const MIN_SECRET_LENGTH = 16;

const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

const hookSchema = z
  .object({
    preset: z.enum(PRESET_NAMES, { error: `must be one of ${PRESET_NAMES.join(', ')}` }),
    secretEnv: z
      .string({ error: 'must be the name of an environment variable' })
      .regex(ENV_NAME, 'must be the name of an environment variable (letters, digits, _)')
      .optional(),
    unsigned: z.boolean({ error: 'must be true or false' }).optional(),
    header: z
      .string({ error: 'must be a header name' })
      .regex(HEADER_NAME, 'must be a header name')
      .optional(),
    events: z
      .array(z.string({ error: 'each event must be a string' }).min(1, 'an event cannot be empty'), {
        error: 'must be a list of event names',
      })
      .min(1, 'list at least one event, or leave events out to take every event')
      .optional(),
    paths: z
      .array(z.string({ error: 'each template must be a string' }), {
        error: 'must be a list of URL templates',
      })
      .min(1, 'list at least one URL template')
      .max(100, 'at most 100 templates')
      .optional(),
    objectType: caseInsensitive(['File', 'Directory'] as const, 'objectType').default('File'),
    priority: caseInsensitive(['high', 'normal', 'low'] as const, 'priority').default('normal'),
    callbackUrl: z
      .string({ error: 'must be a URL' })
      .max(2048, 'must be at most 2048 characters')
      .refine((value) => {
        try {
          return ['http:', 'https:'].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, 'must be an http:// or https:// URL')
      .optional(),
    toleranceSeconds: z
      .number({ error: 'must be a whole number of seconds' })
      .int('must be a whole number of seconds')
      .min(1, 'must be from 1 to 86400')
      .max(86_400, 'must be from 1 to 86400')
      .optional(),
  })
  .strict();

const fileSchema = z
  .object(
    { hooks: z.record(z.string(), z.unknown(), { error: 'must map hook names to hooks' }) },
    { error: 'must be a mapping with one key, hooks' },
  )
  .strict();

function describe(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((issue) => {
    const where = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
    const at = where === '' ? '' : `${where}: `;
    if (issue.code === 'unrecognized_keys') return `${at}unknown field(s) ${issue.keys.join(', ')}`;
    return `${at}${issue.message}`;
  });
}

/** `*` matches any run of characters; everything else is literal. */
function eventMatcher(patterns: readonly string[] | undefined): (event: string) => boolean {
  if (!patterns) return () => true;
  const regexes = patterns.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (event) => regexes.some((regex) => regex.test(event));
}

function checkHook(
  name: string,
  raw: unknown,
  env: NodeJS.ProcessEnv,
  defaultToleranceMs: number,
  problems: string[],
): Hook | undefined {
  const where = `hooks.${name}`;
  if (!HOOK_NAME.test(name)) {
    problems.push(`${where}: a hook name is 1 to 64 of A-Z a-z 0-9 _ . - (it is the last part of its URL)`);
    return undefined;
  }
  const parsed = hookSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...describe(parsed.error, where));
    return undefined;
  }
  const spec = parsed.data;
  const preset = PRESETS[spec.preset];
  const before = problems.length;

  let secret: string | undefined;
  if (spec.unsigned === true) {
    if (spec.secretEnv !== undefined)
      problems.push(`${where}.unsigned: a hook with secretEnv is signed; drop one of the two`);
  } else if (spec.secretEnv === undefined) {
    problems.push(
      `${where}.secretEnv: required, the name of the environment variable holding this hook's secret (or set unsigned: true to accept unsigned deliveries)`,
    );
  } else {
    const value = env[spec.secretEnv];
    if (value === undefined || value === '') {
      problems.push(`${where}.secretEnv: ${spec.secretEnv} is not set in the environment`);
    } else if (value.length < MIN_SECRET_LENGTH) {
      problems.push(
        `${where}.secretEnv: ${spec.secretEnv} must hold at least ${MIN_SECRET_LENGTH} characters (it holds fewer)`,
      );
    } else {
      secret = value;
    }
  }
  if (spec.header !== undefined && preset.name !== 'strapi')
    problems.push(`${where}.header: only preset strapi carries its secret in a header`);
  if (spec.toleranceSeconds !== undefined && !preset.signsTime)
    problems.push(`${where}.toleranceSeconds: preset ${preset.name} signs no timestamp`);

  const sources = spec.paths ?? preset.defaultPaths;
  if (!sources) {
    problems.push(`${where}.paths: preset ${preset.name} sends no URLs of its own; list URL templates`);
  }
  const templates: Template[] = [];
  (sources ?? []).forEach((source, index) => {
    try {
      templates.push(parseTemplate(source));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      problems.push(`${where}.paths[${index}]: ${error.message}`);
    }
  });
  if (problems.length > before) return undefined;

  return {
    name,
    preset,
    ...(secret !== undefined ? { secret } : {}),
    secretHeader: (spec.header ?? 'authorization').toLowerCase(),
    ...(spec.events ? { events: spec.events } : {}),
    matchesEvent: eventMatcher(spec.events),
    templates,
    objectType: spec.objectType,
    priority: spec.priority,
    ...(spec.callbackUrl !== undefined ? { callbackUrl: spec.callbackUrl } : {}),
    toleranceMs: (spec.toleranceSeconds ?? defaultToleranceMs / 1000) * 1000,
  };
}

/** Checks a parsed WEBHOOKS_FILE; secrets are read from `env` by the names the file gives. */
export function checkHooks(document: unknown, env: NodeJS.ProcessEnv, defaultToleranceMs: number): HookSet {
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success)
    throw new ConfigError(describe(parsed.error, '').map((line) => `WEBHOOKS_FILE: ${line}`));
  const problems: string[] = [];
  const hooks = new Map<string, Hook>();
  for (const [name, raw] of Object.entries(parsed.data.hooks)) {
    const hook = checkHook(name, raw, env, defaultToleranceMs, problems);
    if (hook) hooks.set(name, hook);
  }
  if (Object.keys(parsed.data.hooks).length === 0) problems.push('hooks: define at least one hook');
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `WEBHOOKS_FILE: ${problem}`));
  return hooks;
}

/**
 * Reads and checks WEBHOOKS_FILE (YAML, or JSON, which is YAML too). Every problem names the hook
 * and the field; no message quotes the file, so a secret pasted into it by mistake stays unshown.
 */
export function loadHooks(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  defaultToleranceMs: number,
): HookSet {
  if (file === undefined) return NO_HOOKS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`WEBHOOKS_FILE: cannot read ${file} (${code})`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const offset = error.pos[0];
    const before = text.slice(0, offset).split('\n');
    const place = ` at line ${before.length}, column ${(before.at(-1) ?? '').length + 1}`;
    throw new ConfigError([`WEBHOOKS_FILE: ${file} is not valid YAML or JSON${place} (${error.code})`]);
  }
  return checkHooks(document, env, defaultToleranceMs);
}

/** Every secret the hooks hold, for the logger to scrub. */
export const hookSecrets = (hooks: HookSet): string[] =>
  [...hooks.values()].flatMap((hook) => (hook.secret === undefined ? [] : [hook.secret]));
