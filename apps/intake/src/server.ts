import type { RequestListener } from 'node:http';
import type { RefreshRequest } from '@refreshq/domain';
import {
  CircuitBreaker,
  PendingPool,
  RequestIndex,
  SubmitPause,
  type IdempotencyStore,
  type Keyspace,
  type Redis,
  type RedisClock,
  type RequestStore,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { Queue } from 'bullmq';
import express, { type Express } from 'express';
import { errorHandler, notFoundRoute } from './api-error.js';
import { adminAuth, bearerAuth } from './bearer-auth.js';
import { type HookSet, hookRoutes, NO_HOOKS } from './hooks/index.js';
import { bodyGate } from './body-gate.js';
import type { IntakeMetrics } from './intake-metrics.js';
import type { BodyRules } from './refresh-body.js';
import { adminRoutes } from './routes/admin.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { withHotPath } from './hot-path.js';
import { type RequestRecorder, requestRecorder } from './request-metrics.js';
import { pathRoutes } from './routes/paths.js';
import { postRefresh, type RefreshRoutesDeps, refreshRoutes } from './routes/refreshes.js';

export interface IntakeDeps {
  redis: Redis;
  queue: Queue<RefreshRequest>;
  requests: RequestStore;
  idempotency: IdempotencyStore;
  metrics: IntakeMetrics;
  logger: Logger;
  rules: BodyRules;
  tokens: readonly string[];
  /** ADMIN_TOKENS: the tokens of the actions (retry, cancel, pause, resume); empty: `tokens` do. */
  adminTokens?: readonly string[];
  maxBodyBytes: number;
  /** REDIS_COMMAND_TIMEOUT_MS: the longest a Redis step of a request may take before 503. */
  redisTimeoutMs: number;
  trustProxyHops?: number;
  clock: RedisClock;
  keys: Keyspace;
  /** The hooks of WEBHOOKS_FILE, served at POST /v1/hooks/:name. */
  hooks?: HookSet;
}

/**
 * What node:http serves: the hot path for POST /v1/refreshes (hot-path.ts) in front of the
 * express app, both recording the same metrics. start.ts listens with it; `app` is the express
 * app behind it (tests enumerate its routes).
 */
export function createRequestListener(deps: IntakeDeps): { listener: RequestListener; app: Express } {
  const recorder = requestRecorder(deps.metrics);
  const app = buildApp(deps, recorder);
  const listener = withHotPath(
    {
      ...refreshDepsOf(deps),
      tokens: callerTokens(deps),
      maxBodyBytes: deps.maxBodyBytes,
      recorder,
      onUnexpected: unexpected(deps.logger),
    },
    app,
  );
  return { listener, app };
}

/** The intake HTTP API as an express app (every route, POST /v1/refreshes too). */
export function createServer(deps: IntakeDeps): Express {
  return buildApp(deps, requestRecorder(deps.metrics));
}

const unexpected = (logger: Logger) => (error: unknown) =>
  logger.error({ err: error }, 'unexpected error in intake');

/** Admin tokens may do what intake tokens may; with no intake tokens, /v1 stays open. */
const callerTokens = (deps: IntakeDeps): readonly string[] =>
  deps.tokens.length > 0 ? [...deps.tokens, ...(deps.adminTokens ?? [])] : [];

const refreshDepsOf = (deps: IntakeDeps): RefreshRoutesDeps => ({
  queue: deps.queue,
  requests: deps.requests,
  idempotency: deps.idempotency,
  rules: deps.rules,
  metrics: deps.metrics,
  logger: deps.logger,
  clock: deps.clock,
  redis: deps.redis,
  keys: deps.keys,
  index: new RequestIndex(deps.redis, deps.keys),
  pause: new SubmitPause(deps.redis, deps.keys),
  admin: adminAuth(deps.adminTokens ?? [], deps.tokens),
  redisTimeoutMs: deps.redisTimeoutMs,
});

function buildApp(deps: IntakeDeps, recorder: RequestRecorder): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  app.set('etag', false);

  app.use(recorder.middleware);

  const bearer = bearerAuth(callerTokens(deps));
  const gate = bodyGate(deps.maxBodyBytes);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const json = express.json({
    limit: deps.maxBodyBytes,
    type: ['application/json', 'application/*+json'],
    strict: false,
    // Invalid UTF-8 would otherwise become U+FFFD: a URL nobody sent.
    verify: (_req, _res, buffer) => {
      utf8.decode(buffer);
    },
  });
  const refreshDeps = refreshDepsOf(deps);
  const { index, pause, admin } = refreshDeps;
  // First, so that a POST /v1/refreshes the hot path leaves to express passes no other route.
  app.post('/v1/refreshes', bearer, gate, json, postRefresh(refreshDeps));

  app.use(healthRoutes(deps.redis, deps.metrics.registry, pause));
  // The document and the page's static files are open; every API call the page makes needs the token.
  app.use(docsRoutes());
  app.use('/v1/hooks', gate);
  // Before the bearer check and the JSON parser: hooks read raw bytes and authenticate by signature.
  app.use(
    hookRoutes({
      hooks: deps.hooks ?? NO_HOOKS,
      queue: deps.queue,
      idempotency: deps.idempotency,
      metrics: deps.metrics,
      clock: deps.clock,
      rules: deps.rules,
      logger: deps.logger,
      maxBodyBytes: deps.maxBodyBytes,
      redisTimeoutMs: deps.redisTimeoutMs,
      bearer,
    }),
  );
  app.use('/v1', bearer);
  app.use(gate);
  app.use(json);
  app.use(refreshRoutes(refreshDeps));
  app.use(
    pathRoutes({ index, maxPathLength: deps.rules.maxPathLength, redisTimeoutMs: deps.redisTimeoutMs }),
  );
  app.use(
    adminRoutes({
      redis: deps.redis,
      keys: deps.keys,
      pause,
      breaker: new CircuitBreaker(deps.redis, deps.keys),
      pool: new PendingPool(deps.redis, deps.keys, deps.clock),
      clock: deps.clock,
      logger: deps.logger,
      admin,
      redisTimeoutMs: deps.redisTimeoutMs,
    }),
  );
  app.use(notFoundRoute);
  app.use(errorHandler(unexpected(deps.logger)));
  return app;
}
