import type { z } from 'zod';
import { ApiError } from './api-error.js';

export const preview = (text: string, max = 200): string =>
  text.length > max ? `${text.slice(0, max)}…` : text;

/** A few issues, each short: however bad the body, the answer stays small. */
const MAX_ISSUES = 10;

export function describeIssues(error: z.ZodError): string {
  const described = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.slice(0, MAX_ISSUES).map((key) => preview(key, 40));
      const more = issue.keys.length > MAX_ISSUES ? ` and ${issue.keys.length - MAX_ISSUES} more` : '';
      return `unknown field(s): ${keys.join(', ')}${more}`;
    }
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  const more = error.issues.length > MAX_ISSUES ? `; and ${error.issues.length - MAX_ISSUES} more` : '';
  return `${described.join('; ')}${more}`;
}

/** A query or body checked by its schema (api-schemas.ts), or 400 invalid_request naming the issues. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', describeIssues(parsed.error));
  return parsed.data;
}
