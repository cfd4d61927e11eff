import type { RefreshRequest } from '@refreshq/domain';
import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Keyspace } from './keyspace.js';
import { type Redis, requireReplicas } from './redis-connection.js';

export const INTAKE_QUEUE = 'intake';

export type IntakeJob = Job<RefreshRequest>;

/** Jobs carry accepted requests from intake to the workers, who admit them into the pending pool. */
export const INTAKE_JOB_OPTIONS: JobsOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

/** The connection each queue made here adds its jobs on (BullMQ hands out only a proxy of it). */
const connectionOf = new WeakMap<Queue<RefreshRequest>, Redis>();

export function createIntakeQueue(connection: Redis, keys: Keyspace): Queue<RefreshRequest> {
  const queue = new Queue<RefreshRequest>(INTAKE_QUEUE, {
    connection,
    prefix: keys.bullPrefix,
    defaultJobOptions: INTAKE_JOB_OPTIONS,
  });
  connectionOf.set(queue, connection);
  return queue;
}

/**
 * Queues an accepted request as its job (id = the request's id: adding it again while it is kept
 * does nothing) and resolves once Redis has it, and the replicas REDIS_WAIT_REPLICAS asks for;
 * fewer rejects with ReplicationShortfall (the job may then exist on the master alone).
 */
export async function enqueueRequest(queue: Queue<RefreshRequest>, request: RefreshRequest): Promise<void> {
  await queue.add('refresh', request, { jobId: request.id });
  const connection = connectionOf.get(queue);
  if (connection) await requireReplicas(connection, queue.toKey('id'));
}

/**
 * How fast an admission job held by a worker that died is run again. BullMQ renews a job's lock
 * every half `lockDuration` while its worker lives; every worker's stalled check, every
 * `stalledInterval`, marks the active jobs and puts back those marked last time whose lock has
 * gone. A killed worker's job is therefore back in the queue between `lockDuration / 2` and
 * `lockDuration + 2 x stalledInterval` after the kill (2 to 8 s), and run again at once.
 * Admission is idempotent (admit-request-3.lua does nothing for a request admitted before), so
 * running a job twice is harmless; a job stalled more than `maxStalledCount` times is failed by
 * BullMQ, so the limit is high enough that only a job that kills every worker it meets reaches it.
 */
export const INTAKE_LOCK = {
  lockDuration: 4000,
  stalledInterval: 2000,
  maxStalledCount: 10,
} as const;

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
    ...INTAKE_LOCK,
  });
}
