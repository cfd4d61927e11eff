import { createHash } from 'node:crypto';
import type { Logger } from '@refreshq/telemetry';
import express, {
  Router,
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { acceptRefresh, type AcceptDeps } from '../accept-refresh.js';
import { ApiError } from '../api-error.js';
import type { BodyRules } from '../refresh-body.js';
import type { Delivery } from './delivery.js';
import type { Hook, HookSet } from './hook-config.js';
import { checkMappedPaths, mapPaths } from './map-paths.js';

export interface HookRoutesDeps extends AcceptDeps {
  hooks: HookSet;
  rules: BodyRules;
  logger: Logger;
  maxBodyBytes: number;
  /** Guards the hooks marked `unsigned: true` when INTAKE_TOKENS is set: they have nothing else. */
  bearer: RequestHandler;
}

type Outcome =
  | 'accepted'
  | 'replayed'
  | 'filtered'
  | 'no_paths'
  | 'ping'
  | 'unauthorized'
  | 'stale'
  | 'invalid_body'
  | 'invalid_path'
  | 'unavailable'
  | 'unknown_hook'
  | 'error';

const OUTCOME_OF_CODE: Record<string, Outcome> = {
  hook_not_found: 'unknown_hook',
  missing_signature: 'unauthorized',
  invalid_signature: 'unauthorized',
  unauthorized: 'unauthorized',
  stale_timestamp: 'stale',
  invalid_json: 'invalid_body',
  payload_too_large: 'invalid_body',
  unsupported_media_type: 'invalid_body',
  invalid_request: 'invalid_body',
  invalid_path: 'invalid_path',
  domain_not_allowed: 'invalid_path',
  too_many_paths: 'invalid_path',
  empty_paths: 'invalid_path',
  invalid_callback_url: 'invalid_path',
  callback_host_not_allowed: 'invalid_path',
  unavailable: 'unavailable',
};

interface Answer {
  status: number;
  body: Record<string, unknown>;
  outcome: Outcome;
  requestId?: string;
  paths?: number;
}

/** What the log line and the metric say about one delivery; never the secret, signature or body. */
interface Note {
  event?: string;
  deliveryId?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const short = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : value.length > 200 ? `${value.slice(0, 200)}…` : value;

function deliveryOf(req: Request): Delivery {
  const query = new URL(req.originalUrl, 'http://hook.invalid').searchParams;
  return {
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    method: req.method,
    target: req.originalUrl,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    query: (name) => query.get(name) ?? undefined,
  };
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch {
    throw new ApiError(400, 'invalid_json', 'the signed body is not UTF-8 JSON; nothing was queued');
  }
}

const nothingToQueue = (hook: Hook, reason: string, message: string, event?: string): Answer => ({
  status: 202,
  body: { accepted: 0, reason, message, hook: hook.name, ...(event !== undefined ? { event } : {}) },
  outcome: reason === 'no_paths' ? 'no_paths' : 'filtered',
});

/**
 * One delivery: signature over the raw bytes, then the event filter, the mapping, the same checks
 * and the same queueing as POST /v1/refreshes. `note` collects what the log line may say even
 * when this throws.
 */
async function receive(hook: Hook, delivery: Delivery, deps: HookRoutesDeps, note: Note): Promise<Answer> {
  const { preset } = hook;
  if (preset.isPing?.(delivery)) {
    return { status: 200, body: { ok: true, ping: true, hook: hook.name }, outcome: 'ping' };
  }

  let timestamp: number | undefined;
  if (hook.secret !== undefined) {
    const verdict = preset.verify(
      delivery,
      { secret: hook.secret, header: hook.secretHeader },
      { now: Date.now(), toleranceMs: hook.toleranceMs },
    );
    if (!verdict.ok) throw new ApiError(401, verdict.code, `${verdict.message}; nothing was queued`);
    timestamp = verdict.timestamp;
  }

  const body = parseBody(delivery.body);
  const event = short(preset.event(delivery, body));
  const deliveryId = short(preset.deliveryId(delivery));
  if (event !== undefined) note.event = event;
  if (deliveryId !== undefined) note.deliveryId = deliveryId;

  if (hook.events !== undefined) {
    if (event === undefined) {
      return nothingToQueue(
        hook,
        'event_unknown',
        `this hook takes only the events ${hook.events.join(', ')}, and the delivery names none`,
      );
    }
    if (!hook.matchesEvent(event)) {
      return nothingToQueue(hook, 'event_filtered', `${event} is not one of this hook's events`, event);
    }
  }

  const mapped = mapPaths(hook, body, deps.rules.maxPaths);
  if (mapped.length === 0) {
    return nothingToQueue(hook, 'no_paths', 'no template of this hook found a value in the body', event);
  }
  const checked = checkMappedPaths(hook, mapped, deps.rules);

  // A retry carries the same bytes (and the same delivery id or signed time): the same key. A
  // later event with an identical body but its own delivery id or time is a change of its own.
  const bodyDigest = createHash('sha256').update(delivery.body).digest('hex');
  const key =
    deliveryId !== undefined
      ? `delivery:${deliveryId}:${bodyDigest}`
      : `body:${timestamp ?? ''}:${bodyDigest}`;
  // The key is its own fingerprint: a retry is the first delivery again even if the hook's
  // templates changed in between, so it never gets 422 for a reused key.
  const { request, replayed } = await acceptRefresh(deps, checked, {
    scope: `hook:${hook.name}`,
    key,
    fingerprint: key,
  });
  return {
    status: 202,
    body: {
      id: request.id,
      accepted: checked.paths.length,
      duplicates: checked.duplicates,
      objectType: checked.objectType,
      priority: checked.priority,
      state: 'queued',
      replayed,
      statusUrl: `/v1/refreshes/${request.id}`,
      hook: hook.name,
      ...(event !== undefined ? { event } : {}),
    },
    outcome: replayed ? 'replayed' : 'accepted',
    requestId: request.id,
    paths: checked.paths.length,
  };
}

function runMiddleware(handler: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    handler(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
  });
}

/**
 * POST /v1/hooks/:name. Mounted before the JSON parser and the bearer check of /v1: it reads the
 * raw bytes its signatures are over, and a CMS authenticates by signature, not by token.
 */
export function hookRoutes(deps: HookRoutesDeps): Router {
  const router = Router();
  const path = '/v1/hooks/:name';

  const record = (
    req: Request,
    res: Response,
    hookName: string,
    status: number,
    outcome: Outcome,
    extra: object,
  ) => {
    res.locals.hookRecorded = true;
    deps.metrics.hookDeliveries.inc({ hook: hookName, outcome });
    const level = status < 400 ? 'info' : 'warn';
    deps.logger[level](
      { hook: hookName || undefined, outcome, status, ip: req.ip, ...extra },
      'webhook delivery',
    );
  };

  router.post(
    path,
    express.raw({ type: () => true, limit: deps.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const name = String(req.params.name);
      const hook = deps.hooks.get(name);
      const note: Note = {};
      try {
        if (!hook) throw new ApiError(404, 'hook_not_found', 'no hook with this name in WEBHOOKS_FILE');
        if (hook.secret === undefined) await runMiddleware(deps.bearer, req, res);
        const answer = await receive(hook, deliveryOf(req), deps, note);
        if (answer.requestId) res.location(`/v1/refreshes/${answer.requestId}`);
        res.status(answer.status).json(answer.body);
        record(req, res, name, answer.status, answer.outcome, {
          preset: hook.preset.name,
          ...note,
          ...(answer.requestId ? { requestId: answer.requestId, paths: answer.paths } : {}),
          ...('reason' in answer.body ? { reason: answer.body.reason } : {}),
        });
      } catch (error) {
        const code = error instanceof ApiError ? error.code : 'internal_error';
        const status = error instanceof ApiError ? error.status : 500;
        record(req, res, hook ? name : '', status, OUTCOME_OF_CODE[code] ?? 'error', {
          ...(hook ? { preset: hook.preset.name } : {}),
          ...note,
          code,
        });
        throw error;
      }
    },
  );

  // The raw-body parser's own refusals (too large, unreadable) are deliveries too.
  const parserErrors: ErrorRequestHandler = (error, req, res, next) => {
    if (!res.locals.hookRecorded) {
      const hook = deps.hooks.get(String(req.params.name));
      const failure = error as { type?: string; status?: number };
      const code = failure.type === 'entity.too.large' ? 'payload_too_large' : 'invalid_request';
      record(req, res, hook ? hook.name : '', failure.status ?? 400, OUTCOME_OF_CODE[code] ?? 'error', {
        code,
      });
    }
    next(error);
  };
  router.use(path, parserErrors);
  return router;
}
