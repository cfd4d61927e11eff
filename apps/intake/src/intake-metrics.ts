import {
  Counter,
  createMetricsRegistry,
  Histogram,
  LATENCY_BUCKETS,
  type Registry,
} from '@refreshq/telemetry';

export interface IntakeMetrics {
  registry: Registry;
  requests: Counter<'outcome' | 'code'>;
  paths: Counter<'object_type' | 'priority'>;
  hookDeliveries: Counter<'hook' | 'outcome'>;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

export function createIntakeMetrics(): IntakeMetrics {
  const registry = createMetricsRegistry('intake');
  return {
    registry,
    requests: new Counter({
      name: 'refreshq_intake_requests_total',
      help: 'Refresh requests answered by intake, by outcome (accepted, replayed, rejected) and error code.',
      labelNames: ['outcome', 'code'],
      registers: [registry],
    }),
    paths: new Counter({
      name: 'refreshq_intake_paths_accepted_total',
      help: 'Distinct paths accepted into the queue.',
      labelNames: ['object_type', 'priority'],
      registers: [registry],
    }),
    hookDeliveries: new Counter({
      name: 'refreshq_intake_hook_deliveries_total',
      help: 'Webhook deliveries to POST /v1/hooks/:name, by hook and outcome (accepted, replayed, filtered, no_paths, ping, unauthorized, stale, invalid_body, invalid_path, unavailable, unknown_hook, error).',
      labelNames: ['hook', 'outcome'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'refreshq_http_request_duration_seconds',
      help: 'Time to answer HTTP requests.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
