import type { RefreshRequest } from '@refreshq/domain';
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Keyspace } from './keyspace.js';

export const INTAKE_QUEUE = 'intake';

export type IntakeJob = Job<RefreshRequest>;

/** Jobs carry accepted requests from intake to the workers, who admit them into the pending pool. */
export const INTAKE_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

export function createIntakeQueue(connection: ConnectionOptions, keys: Keyspace): Queue<RefreshRequest> {
  return new Queue<RefreshRequest>(INTAKE_QUEUE, {
    connection,
    prefix: keys.bullPrefix,
    defaultJobOptions: INTAKE_JOB_OPTIONS,
  });
}

export function createIntakeWorker(
  connection: ConnectionOptions,
  keys: Keyspace,
  handle: (job: IntakeJob) => Promise<unknown>,
  concurrency: number,
): Worker<RefreshRequest> {
  return new Worker<RefreshRequest>(INTAKE_QUEUE, handle, {
    connection,
    prefix: keys.bullPrefix,
    concurrency,
    autorun: false,
  });
}
