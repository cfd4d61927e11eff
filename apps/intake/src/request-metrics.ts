import type { RequestHandler } from 'express';
import type { IntakeMetrics } from './intake-metrics.js';

export interface RequestRecorder {
  /** One answer: its time since `startedNs` (process.hrtime.bigint), and a refusal's code. */
  record(
    method: string,
    route: string,
    path: string,
    status: number,
    startedNs: bigint,
    errorCode?: string,
  ): void;
  /** The same for every express route, on each answer's 'finish'. */
  middleware: RequestHandler;
}

/**
 * Times every answer (refreshq_http_request_duration_seconds) and counts refused refresh
 * requests. The label sets repeat, so each one's child is looked up once, not hashed per answer.
 */
export function requestRecorder(metrics: IntakeMetrics): RequestRecorder {
  const durations = new Map<string, ReturnType<IntakeMetrics['httpDuration']['labels']>>();
  const record: RequestRecorder['record'] = (method, route, path, status, startedNs, errorCode) => {
    const statusCode = String(status);
    const key = `${method} ${route} ${statusCode}`;
    let child = durations.get(key);
    if (!child) {
      child = metrics.httpDuration.labels({ method, route, status_code: statusCode });
      durations.set(key, child);
    }
    child.observe(Number(process.hrtime.bigint() - startedNs) / 1e9);
    if (status >= 400 && path.startsWith('/v1/refreshes'))
      metrics.requests.inc({ outcome: 'rejected', code: errorCode ?? statusCode });
  };
  return {
    record,
    middleware: (req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
        const path = res.statusCode >= 400 ? req.path : '';
        record(req.method, route, path, res.statusCode, started, res.locals.errorCode);
      });
      next();
    },
  };
}
