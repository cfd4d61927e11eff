import { z } from 'zod';

/** Empty strings count as unset, as in most shells' `VAR= cmd`. */
function unsetIfEmpty(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

export function port(defaultValue: number) {
  return z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ error: 'must be a whole number from 0 to 65535' })
      .int('must be a whole number from 0 to 65535')
      .min(0, 'must be a whole number from 0 to 65535')
      .max(65535, 'must be a whole number from 0 to 65535')
      .default(defaultValue),
  );
}

export function positiveInt(defaultValue: number, max = Number.MAX_SAFE_INTEGER) {
  const message = `must be a whole number from 1 to ${max}`;
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ error: message }).int(message).min(1, message).max(max, message).default(defaultValue),
  );
}

export function optionalPositiveInt(max = Number.MAX_SAFE_INTEGER) {
  const message = `must be a whole number from 1 to ${max}`;
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ error: message }).int(message).min(1, message).max(max, message).optional(),
  );
}

export function nonNegativeInt(defaultValue: number, max = Number.MAX_SAFE_INTEGER) {
  const message = `must be a whole number from 0 to ${max}`;
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ error: message }).int(message).min(0, message).max(max, message).default(defaultValue),
  );
}

/** A comma-separated list; blanks and surrounding spaces dropped. */
export function csvList(item: z.ZodType<string> = z.string()) {
  return z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : (value ?? []),
    z.array(item),
  );
}

export function url(defaultValue: string, protocols: readonly string[]) {
  const message = `must be a URL starting with ${protocols.join(' or ')}`;
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .default(defaultValue)
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, message),
  );
}

/** `true`/`false` (also `1`/`0`, any case); unset takes the default. */
export function flag(defaultValue: boolean) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' ? (unsetIfEmpty(value) as string | undefined)?.trim().toLowerCase() : value,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default(defaultValue ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
  );
}

export function optionalSecret() {
  return z.preprocess(unsetIfEmpty, z.string().optional());
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z.preprocess(
    unsetIfEmpty,
    z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(defaultValue),
  );
}

/** One of `values`, matched without regard to case (`file` is `File`); the error names `field`. */
export const caseInsensitive = <const T extends readonly [string, ...string[]]>(values: T, field: string) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? (values.find((allowed) => allowed.toLowerCase() === value.toLowerCase()) ?? value)
        : value,
    z.enum(values, { error: `${field} must be one of ${values.join(', ')}` }),
  );
