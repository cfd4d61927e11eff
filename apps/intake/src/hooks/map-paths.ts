import { ApiError, type ErrorDetail } from '../api-error.js';
import { checkRefreshBody, type BodyRules, type CheckedBody } from '../refresh-body.js';
import type { Hook } from './hook-config.js';
import { expandTemplate } from './templates.js';

export interface MappedPath {
  path: string;
  /** The template that produced it, to name in an error. */
  template: string;
}

/**
 * The distinct paths a hook's templates yield over a delivery's body (and, for Ghost, over the
 * version before the change). Stops one past `limit`, so the check below can say "too many".
 */
export function mapPaths(hook: Hook, body: unknown, limit: number): MappedPath[] {
  const views = hook.preset.views?.(body) ?? [body];
  const found = new Map<string, string>();
  for (const view of views) {
    for (const template of hook.templates) {
      for (const path of expandTemplate(template, view, limit + 1)) {
        if (!found.has(path)) found.set(path, template.source);
        if (found.size > limit) return [...found].map(([path, source]) => ({ path, template: source }));
      }
    }
  }
  return [...found].map(([path, template]) => ({ path, template }));
}

/**
 * Checks mapped paths exactly as POST /v1/refreshes checks its body. A failure is the hook's
 * configuration, not the CMS's fault, so it answers 422 naming the template of every bad path.
 */
export function checkMappedPaths(hook: Hook, mapped: readonly MappedPath[], rules: BodyRules): CheckedBody {
  try {
    return checkRefreshBody(
      {
        paths: mapped.map((entry) => entry.path),
        objectType: hook.objectType,
        priority: hook.priority,
        ...(hook.callbackUrl !== undefined ? { callbackUrl: hook.callbackUrl } : {}),
      },
      rules,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const details: ErrorDetail[] | undefined = error.details?.map((detail) => {
      const template = detail.index === undefined ? undefined : mapped[detail.index]?.template;
      return template === undefined ? detail : { ...detail, template };
    });
    const templates = [...new Set((details ?? []).flatMap((detail) => detail.template ?? []))];
    const named =
      templates.length > 0
        ? ` (template${templates.length > 1 ? 's' : ''} ${templates.map((source) => JSON.stringify(source)).join(', ')} of hooks.${hook.name}.paths)`
        : ` (hooks.${hook.name})`;
    throw new ApiError(422, error.code, `${error.message}${named}`, details);
  }
}
