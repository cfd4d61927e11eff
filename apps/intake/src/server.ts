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
import { pathRoutes } from './routes/paths.js';
import { refreshRoutes } from './routes/refreshes.js';

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

/** The intake HTTP API; main.ts only builds the deps and listens. */
export function createServer(deps: IntakeDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxyHops ?? 0);
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpDuration.observe(
        { method: req.method, route, status_code: String(res.statusCode) },
        seconds,
      );
      if (res.statusCode >= 400 && req.path.startsWith('/v1/refreshes')) {
        deps.metrics.requests.inc({
          outcome: 'rejected',
          code: String(res.locals.errorCode ?? res.statusCode),
        });
      }
    });
    next();
  });

  const pause = new SubmitPause(deps.redis, deps.keys);
  const index = new RequestIndex(deps.redis, deps.keys);
  const adminTokens = deps.adminTokens ?? [];
  app.use(healthRoutes(deps.redis, deps.metrics.registry, pause));
  // The document and the page's static files are open; every API call the page makes needs the token.
  app.use(docsRoutes());
  // Admin tokens may do what intake tokens may; with no intake tokens, /v1 stays open.
  const bearer = bearerAuth(deps.tokens.length > 0 ? [...deps.tokens, ...adminTokens] : []);
  const admin = adminAuth(adminTokens, deps.tokens);
  const gate = bodyGate(deps.maxBodyBytes);
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
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.use(
    express.json({
      limit: deps.maxBodyBytes,
      type: ['application/json', 'application/*+json'],
      strict: false,
      // Invalid UTF-8 would otherwise become U+FFFD: a URL nobody sent.
      verify: (_req, _res, buffer) => {
        utf8.decode(buffer);
      },
    }),
  );
  app.use(
    refreshRoutes({
      queue: deps.queue,
      requests: deps.requests,
      idempotency: deps.idempotency,
      rules: deps.rules,
      metrics: deps.metrics,
      logger: deps.logger,
      clock: deps.clock,
      redis: deps.redis,
      keys: deps.keys,
      index,
      pause,
      admin,
      redisTimeoutMs: deps.redisTimeoutMs,
    }),
  );
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
  app.use(errorHandler((error) => deps.logger.error({ err: error }, 'unexpected error in intake')));
  return app;
}
