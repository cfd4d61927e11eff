import { createServer, type Server } from 'node:http';
import type { Registry } from '@refreshq/telemetry';

/** The worker's own small HTTP server: /metrics for Prometheus, /healthz for orchestrators. */
export function createMetricsServer(registry: Registry, isHealthy: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { code: 'internal_error', message: 'metrics could not be collected' } }),
          );
        });
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      const healthy = isHealthy();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          healthy ? { status: 'ok' } : { error: { code: 'not_ready', message: 'Redis does not answer' } },
        ),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'route_not_found', message: 'try /metrics or /healthz' } }));
  });
}
