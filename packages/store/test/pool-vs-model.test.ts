import fc from 'fast-check';
import { PendingPoolModel, type ModelOutcome } from '@refreshq/domain/testing';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LATER_MS, poolOps, type OutcomeKind, type PoolOp } from '../../domain/test/pool-ops.js';
import {
  createRedis,
  keyspace,
  PendingPool,
  RedisClock,
  RequestStore,
  type ClaimedBatch,
  type PathOutcome,
  type PoolSettings,
  type RecordedStatus,
  type Redis,
} from '../src/index.js';

// Large limits: which paths fill a batch then never depends on ties in admission time.
const LIMITS = { maxFilesPerCall: 100, maxDirsPerCall: 100, windowMs: 0, quietMs: 0 };
const SETTINGS: PoolSettings = { ...LIMITS, leaseMs: 600_000 };

let redis: Redis;
beforeAll(() => {
  redis = createRedis(inject('redisUrl'), 'consumer', 'differential');
});
afterAll(() => {
  redis.disconnect();
});

function statusFor(kind: OutcomeKind, path: string, calledAt: number): RecordedStatus | undefined {
  if (kind === 'submitted') return { state: 'submitted', taskId: `T:${path}`, submittedAt: calledAt };
  if (kind === 'rejected')
    return { state: 'rejected', error: { code: 'InvalidDomain.Offline', message: 'offline' } };
  return undefined;
}

async function replay(ops: readonly PoolOp[], promoteAt: number): Promise<void> {
  const namespace = testNamespace('diff');
  const keys = keyspace(namespace);
  const pool = new PendingPool(redis, keys, new RedisClock(redis));
  const requests = new RequestStore(redis, keys);
  const model = new PendingPoolModel(LIMITS, promoteAt);
  const open: ClaimedBatch[] = [];
  const admitted: string[] = [];
  try {
    for (const [index, op] of ops.entries()) {
      if (op.op === 'admit') {
        const id = `r${index}`;
        admitted.push(id);
        const request = {
          id,
          objectType: op.objectType,
          priority: op.priority,
          paths: op.paths,
          receivedAt: index,
        };
        model.admit({ ...request, domains: op.paths.map(() => 'a.com') }, index);
        await requests.admit(
          request,
          op.paths.map(() => 'a.com'),
          { ...LIMITS, retentionSeconds: 600, promoteAt },
        );
      } else if (op.op === 'claim') {
        const expected = model.claim(op.objectType, op.lane, `b${index}`, index);
        const claim = await pool.claim(op.objectType, op.lane, `b${index}`, SETTINGS);
        const paths = (claim.batch?.items ?? []).map((item) => item.path).sort();
        expect(paths, `claim #${index} ${op.objectType}/${op.lane}`).toEqual(
          (expected?.items ?? []).map((item) => item.path).sort(),
        );
        if (claim.batch) open.push(claim.batch);
      } else {
        if (open.length === 0) continue;
        const batch = open.splice(op.pick % open.length, 1)[0] as ClaimedBatch;
        const modelOutcomes = new Map<string, ModelOutcome>();
        const outcomes = new Map<string, PathOutcome>();
        batch.items.forEach((item, i) => {
          const kind = op.outcomes[i % op.outcomes.length] as OutcomeKind;
          const status = statusFor(kind, item.path, op.calledBefore ? Number(batch.id.slice(1)) : index);
          if (status) {
            modelOutcomes.set(item.path, { status });
            outcomes.set(item.path, { status });
          } else if (kind !== 'uncertain') {
            const delayMs = kind === 'requeue-later' ? LATER_MS : 0;
            modelOutcomes.set(item.path, { requeue: { delayMs } });
            outcomes.set(item.path, { requeue: { delayMs, meta: item.meta } });
          }
        });
        model.finish(batch.id, modelOutcomes, index);
        expect(await pool.finish(batch, outcomes, SETTINGS)).toBe(true);
      }
    }
    const backlog = await pool.backlog();
    const actualBacklog = Object.fromEntries(
      Object.entries(backlog).flatMap(([type, lanes]) =>
        Object.entries(lanes)
          .filter(([, n]) => n > 0)
          .map(([lane, n]) => [`${type}:${lane}`, n]),
      ),
    );
    expect(actualBacklog, 'backlog counters').toEqual(model.backlog());
    for (const id of admitted) {
      const stored = await requests.read(id);
      const actual = Object.fromEntries(
        [...(stored?.paths ?? [])].map(([path, s]) => [
          path,
          { state: s.state, taskId: s.taskId, coveredBy: s.coveredBy },
        ]),
      );
      const expected = Object.fromEntries(
        [...(model.statuses.get(id) ?? [])].map(([path, s]) => [
          path,
          { state: s.state, taskId: s.taskId, coveredBy: s.coveredBy },
        ]),
      );
      expect(actual, `statuses of ${id}`).toEqual(expected);
    }
  } finally {
    await dropNamespace(inject('redisUrl'), namespace);
  }
}

describe('the Lua pool behaves exactly like the model', () => {
  it.each([0, 2])(
    'same batches and same statuses over random operation sequences (promotion at %i)',
    async (promoteAt) => {
      const sequences = fc.sample(poolOps, { numRuns: 120, seed: 424242 + promoteAt });
      for (const ops of sequences) {
        try {
          await replay(ops, promoteAt);
        } catch (error) {
          throw new Error(`${(error as Error).message}\nops: ${JSON.stringify(ops)}`);
        }
      }
    },
    120_000,
  );
});
