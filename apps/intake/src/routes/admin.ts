import {
  readEstimates,
  type CircuitBreaker,
  type Keyspace,
  type PendingPool,
  type Redis,
  type RedisClock,
  type SubmitPause,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { pauseBodySchema } from '../api-schemas.js';
import { pauseView } from '../pause-view.js';
import { quotaView } from '../quota-view.js';
import { redisStep } from '../redis-step.js';
import { parseInput } from '../validate.js';

export interface AdminRoutesDeps {
  redis: Redis;
  keys: Keyspace;
  pause: SubmitPause;
  breaker: CircuitBreaker;
  pool: PendingPool;
  clock: RedisClock;
  logger: Logger;
  /** Guards pause and resume: ADMIN_TOKENS, else the intake tokens. */
  admin: RequestHandler;
  redisTimeoutMs: number;
}

/**
 * The operator's view and switches: GET /v1/quota (today's quota, backlog, holds, breaker,
 * pause) and POST /v1/admin/pause|resume. A pause stops every worker's submitting; intake keeps
 * accepting and the workers keep admitting, so nothing waits outside Redis.
 */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const durably = <T>(step: () => Promise<T>) => redisStep(step, deps.redisTimeoutMs);

  router.get('/v1/quota', async (_req: Request, res: Response) => {
    const [estimates, backlog, breaker, pause] = await durably(() =>
      Promise.all([
        readEstimates(deps.redis, deps.keys),
        deps.pool.backlog(),
        deps.breaker.state(),
        deps.pause.read(),
      ]),
    );
    res.json(quotaView({ estimates, backlog, breaker, pause, now: deps.clock.now() }));
  });

  router.post('/v1/admin/pause', deps.admin, async (req: Request, res: Response) => {
    const { reason } = parseInput(pauseBodySchema, req.body ?? {});
    const state = await durably(() =>
      deps.pause.pause({ since: deps.clock.now(), ...(reason ? { reason } : {}) }),
    );
    deps.logger.warn({ reason: state.reason }, 'submitting paused by an operator; intake keeps accepting');
    res.json(pauseView(state));
  });

  router.post('/v1/admin/resume', deps.admin, async (_req: Request, res: Response) => {
    const ended = await durably(() => deps.pause.resume());
    if (ended) deps.logger.warn({ pausedSince: ended.since }, 'submitting resumed by an operator');
    res.json(pauseView(undefined));
  });

  return router;
}
