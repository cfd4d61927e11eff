import type { Redis, SubmitPause } from '@refreshq/store';
import type { Registry } from '@refreshq/telemetry';
import { Router } from 'express';

export function healthRoutes(redis: Redis, registry: Registry, pause: SubmitPause): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Readiness is about Redis: while submitting is paused intake still accepts, so it stays 200
  // (a load balancer must not drop intake during an incident) and only says so in the body.
  router.get('/readyz', async (_req, res) => {
    try {
      const [, state] = await Promise.race([
        Promise.all([redis.ping(), pause.read()]),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error('timeout')), 1000).unref(),
        ),
      ]);
      res.json({
        status: 'ready',
        paused: state !== undefined,
        ...(state && state.since > 0 ? { pausedSince: new Date(state.since).toISOString() } : {}),
      });
    } catch {
      res.status(503).json({ error: { code: 'not_ready', message: 'Redis does not answer' } });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
