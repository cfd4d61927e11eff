import { domainOf, type RefreshRequest, workTypeOf } from '@refreshq/domain';
import {
  createIntakeWorker,
  type AdmitSettings,
  type IntakeJob,
  type Keyspace,
  type RequestStore,
} from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { ConnectionOptions, Worker } from 'bullmq';
import type { WorkerMetrics } from './worker-metrics.js';

export interface AdmitterSettings {
  admit: AdmitSettings;
  concurrency: number;
  /** Directory promotion happens only while this says the directory budget has room. */
  promotionAllowed: () => boolean;
}

/** Consumes the intake queue: each job's paths go into the shared pending pool, once. */
export function createAdmitter(
  connection: ConnectionOptions,
  keys: Keyspace,
  requests: RequestStore,
  settings: AdmitterSettings,
  metrics: WorkerMetrics,
  logger: Logger,
): Worker<RefreshRequest> {
  const admit = async (job: IntakeJob) => {
    const request = job.data;
    const admit =
      settings.admit.promoteAt > 0 && !settings.promotionAllowed()
        ? { ...settings.admit, promoteAt: 0 }
        : settings.admit;
    // Intake computed each path's domain while checking it; jobs queued by an older intake lack them.
    const domains = request.domains ?? request.paths.map(domainOf);
    const result = await requests.admit(request, domains, admit);
    if (result.admitted) {
      metrics.requestsAdmitted.inc();
      if (result.coalesced > 0)
        metrics.pathsCoalesced.inc({ object_type: workTypeOf(request) }, result.coalesced);
      logger.debug(
        { requestId: request.id, paths: request.paths.length, coalesced: result.coalesced },
        'request admitted',
      );
    }
    return result;
  };
  const worker = createIntakeWorker(connection, keys, admit, settings.concurrency);
  worker.on('failed', (job, error) =>
    logger.error({ err: error, requestId: job?.id }, 'admitting a request failed; BullMQ retries it'),
  );
  worker.on('error', (error) => logger.error({ err: error }, 'intake queue consumer error'));
  return worker;
}
