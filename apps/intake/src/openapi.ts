import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  acceptedSchema,
  cancelResultSchema,
  errorSchema,
  healthSchema,
  hookAnswerSchema,
  listQuerySchema,
  lookupQuerySchema,
  pathLookupSchema,
  pauseBodySchema,
  pauseViewSchema,
  quotaViewSchema,
  readySchema,
  refreshBodySchema,
  requestListSchema,
  requestViewSchema,
  retryAcceptedSchema,
  retryBodySchema,
} from './api-schemas.js';

const json = (schema: z.ZodType, description: string): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});

const error = (description: string): ResponseConfig => json(errorSchema, description);

/** The answers every /v1 route may give besides its own. */
const COMMON: Record<number, ResponseConfig> = {
  401: error('`unauthorized`: no valid bearer token (when INTAKE_TOKENS is set)'),
  503: error('`unavailable`: Redis did not answer within REDIS_COMMAND_TIMEOUT_MS (Retry-After: 5)'),
};

const ACTION: Record<number, ResponseConfig> = {
  ...COMMON,
  401: error('`unauthorized`: no valid bearer token (ADMIN_TOKENS when set, else INTAKE_TOKENS)'),
  403: error('`forbidden`: an intake token, where ADMIN_TOKENS is set'),
};

const requestId = z.object({
  id: z.string().meta({ description: 'the request id (a UUID)' }),
});

const idempotencyKey = z.object({
  'idempotency-key': z.string().optional().meta({
    description: '1 to 255 visible ASCII characters; the same key within 24 h gets the first answer',
  }),
});

const bearer = [{ bearer: [] }];

const ROUTES: RouteConfig[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'The process runs',
    responses: { 200: json(healthSchema, 'always, while the process runs') },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Redis answers (and whether submitting is paused)',
    description:
      'Readiness is about Redis only: while an operator has paused submitting, intake still accepts, so this stays 200 and says `paused: true`.',
    responses: {
      200: json(readySchema, 'Redis answered within 1 s'),
      503: error('`not_ready`: Redis did not answer'),
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of this intake process',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: {
      200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.object({}).loose() } } },
    },
  },
  {
    method: 'get',
    path: '/ui',
    summary: 'The operator page (redirects to /ui/)',
    description:
      'Static HTML and JavaScript; every API call it makes sends the bearer token typed into the page (kept in sessionStorage).',
    responses: {
      301: { description: 'to /ui/' },
      200: { description: 'the page', content: { 'text/html': { schema: z.string() } } },
    },
  },
  {
    method: 'post',
    path: '/v1/refreshes',
    summary: 'Queue paths for refreshing',
    security: bearer,
    request: {
      headers: idempotencyKey,
      body: { required: true, content: { 'application/json': { schema: refreshBodySchema } } },
    },
    responses: {
      202: json(acceptedSchema, 'durable in Redis; a Location header names the status'),
      400: error('a bad body or path (see the rejection table of the README); nothing queued'),
      413: error('`payload_too_large`'),
      415: error('`unsupported_media_type`'),
      422: error('`idempotency_key_reused`'),
      ...COMMON,
    },
  },
  {
    method: 'get',
    path: '/v1/refreshes',
    summary: 'Requests, newest first, paged',
    description:
      'A page looks at no more than 1000 requests: with a rare `state`, a page may hold fewer than `limit` and still give a `nextCursor`. Lists admitted requests (a request still in the intake queue shows once a worker has taken it).',
    security: bearer,
    request: { query: listQuerySchema },
    responses: {
      200: json(requestListSchema, 'a page'),
      400: error('`invalid_request`: a bad parameter or cursor'),
      ...COMMON,
    },
  },
  {
    method: 'get',
    path: '/v1/refreshes/{id}',
    summary: 'The status of one request and each of its paths',
    security: bearer,
    request: { params: requestId },
    responses: {
      200: json(requestViewSchema, 'the status'),
      404: error('`not_found`: unknown, or past STATUS_RETENTION_SECONDS'),
      ...COMMON,
    },
  },
  {
    method: 'post',
    path: '/v1/refreshes/{id}/retry',
    summary: "Queue a request's failed and rejected paths again, as a new request",
    description:
      'The new request carries `retryOf`; the original lists it in `retriedBy` and keeps its own history.',
    security: bearer,
    request: {
      params: requestId,
      headers: idempotencyKey,
      body: { required: false, content: { 'application/json': { schema: retryBodySchema } } },
    },
    responses: {
      202: json(retryAcceptedSchema, 'the new request, durable in Redis'),
      400: error('`invalid_request`, or a path this service no longer takes'),
      404: error('`not_found`'),
      409: error(
        '`nothing_to_retry`, `not_retryable` (a named path is not failed or rejected), or `not_admitted`',
      ),
      ...ACTION,
    },
  },
  {
    method: 'delete',
    path: '/v1/refreshes/{id}',
    summary: 'Cancel what is still queued of a request',
    description:
      'Each queued path is unlinked for this request only: a path another request waits on stays queued for it.',
    security: bearer,
    request: { params: requestId },
    responses: {
      200: json(cancelResultSchema, 'what was cancelled, and what had already gone'),
      404: error('`not_found`'),
      409: error('`not_admitted`: still in the intake queue; retry shortly (Retry-After: 1)'),
      ...ACTION,
    },
  },
  {
    method: 'get',
    path: '/v1/paths',
    summary:
      'Look a path up by URL: its state, last submission, last end, and the requests that asked for it',
    security: bearer,
    request: { query: lookupQuerySchema },
    responses: {
      200: json(pathLookupSchema, 'what is known of the path'),
      400: error('`invalid_request` or `invalid_path`'),
      404: error('`not_found`: no request asked for it within STATUS_RETENTION_SECONDS'),
      ...COMMON,
    },
  },
  {
    method: 'get',
    path: '/v1/quota',
    summary: "Today's quota, the backlog by type and lane, holds, the breaker and the pause",
    security: bearer,
    responses: {
      200: json(quotaViewSchema, 'as the workers last published it (every 5 s), and live where noted'),
      ...COMMON,
    },
  },
  {
    method: 'post',
    path: '/v1/admin/pause',
    summary: 'Stop submitting (every worker); intake keeps accepting',
    security: bearer,
    request: { body: { required: false, content: { 'application/json': { schema: pauseBodySchema } } } },
    responses: {
      200: json(pauseViewSchema, 'the pause in force (a second pause keeps the first)'),
      ...ACTION,
    },
  },
  {
    method: 'post',
    path: '/v1/admin/resume',
    summary: 'Submit again',
    security: bearer,
    responses: { 200: json(pauseViewSchema, 'not paused'), ...ACTION },
  },
  {
    method: 'post',
    path: '/v1/hooks/{name}',
    summary: "A CMS webhook, authenticated by the hook's own signature",
    request: {
      params: z.object({ name: z.string().meta({ description: 'a hook of WEBHOOKS_FILE' }) }),
      body: { required: true, content: { 'application/json': { schema: z.object({}).loose() } } },
    },
    responses: {
      200: json(z.object({ ok: z.boolean(), ping: z.boolean(), hook: z.string() }), "WooCommerce's ping"),
      202: json(hookAnswerSchema, 'queued, or nothing to queue (with a reason)'),
      400: error('`invalid_json`'),
      401: error('`missing_signature`, `invalid_signature`, `stale_timestamp`, or `unauthorized`'),
      404: error('`hook_not_found`'),
      422: error('a mapped path that fails a rule; `details[].template` names the template'),
      503: error('`unavailable`'),
    },
  },
];

/** The routes the document describes, as `METHOD /path` with express's `:param`s. */
export const describedRoutes = (): string[] =>
  ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path.replace(/\{(\w+)\}/g, ':$1')}`);

let document: unknown;

/** GET /openapi.json: generated once from the schemas that check requests (api-schemas.ts). */
export function openApiDocument(): unknown {
  if (document) return document;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'a token of INTAKE_TOKENS (or ADMIN_TOKENS); the actions need ADMIN_TOKENS when it is set',
  });
  for (const route of ROUTES) registry.registerPath(route);
  document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'refreshq',
      version: '1',
      description:
        'Keeps Alibaba Cloud VOD CDN caches fresh: queue paths, follow each to its end, and act on them. Errors are `{"error": {"code", "message", "details"?}}`.',
    },
  });
  return document;
}
