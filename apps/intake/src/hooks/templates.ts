/**
 * URL templates over a webhook's JSON body: literal text with `{a.b.c}` placeholders. `[]` after a
 * segment maps over an array (or an object's values), a numeric segment picks an array element,
 * and a placeholder with no value yields no path. Values are inserted as they are; the paths are
 * then checked and normalised like any path of POST /v1/refreshes.
 */

interface Segment {
  key: string;
  /** `key[]`: continue with every element (or value) instead of the container itself. */
  each: boolean;
}

type Part = { literal: string } | { segments: Segment[] };

export interface Template {
  source: string;
  parts: Part[];
}

export class TemplateError extends Error {}

const SEGMENT = /^([^.{}[\]\s]+)(\[\])?$/;

function parsePlaceholder(expression: string): Segment[] {
  if (expression === '') throw new TemplateError('empty placeholder {}');
  return expression.split('.').map((raw) => {
    const match = SEGMENT.exec(raw);
    if (!match)
      throw new TemplateError(
        `bad placeholder {${expression}}: segments are names separated by dots, each optionally followed by []`,
      );
    return { key: match[1] as string, each: match[2] !== undefined };
  });
}

export function parseTemplate(source: string): Template {
  const parts: Part[] = [];
  let rest = source;
  while (rest !== '') {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) throw new TemplateError('a } without its {');
    if (open === -1) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    if (close === -1) throw new TemplateError('a { without its }');
    const expression = rest.slice(open + 1, close);
    if (expression.includes('{')) throw new TemplateError('placeholders cannot nest');
    parts.push({ segments: parsePlaceholder(expression.trim()) });
    rest = rest.slice(close + 1);
  }
  if (parts.length === 0) throw new TemplateError('empty template');
  return { source, parts };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function child(value: unknown, key: string): unknown[] {
  if (Array.isArray(value) && /^\d+$/.test(key)) {
    const index = Number(key);
    return index < value.length ? [value[index]] : [];
  }
  // Own properties only: a body never reaches Object.prototype through a template.
  return isRecord(value) && Object.hasOwn(value, key) ? [value[key]] : [];
}

function spread(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return [];
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Every value a placeholder names in `body`, as text; objects, arrays, null and '' are no value. */
export function valuesAt(body: unknown, segments: readonly Segment[]): string[] {
  let current: unknown[] = [body];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      for (const found of child(value, segment.key)) {
        if (segment.each) next.push(...spread(found));
        else next.push(found);
      }
    }
    current = next;
  }
  return current.map(text).filter((value): value is string => value !== undefined);
}

/**
 * The paths `template` yields over `body`: one per combination of placeholder values, at most
 * `limit` (a template over two large arrays must not build their whole product).
 */
export function expandTemplate(template: Template, body: unknown, limit: number): string[] {
  let results = [''];
  for (const part of template.parts) {
    if ('literal' in part) {
      results = results.map((prefix) => prefix + part.literal);
      continue;
    }
    const values = valuesAt(body, part.segments);
    if (values.length === 0) return [];
    const next: string[] = [];
    for (const prefix of results) {
      for (const value of values) {
        if (next.length >= limit) break;
        next.push(prefix + value);
      }
    }
    results = next;
  }
  return results;
}
