import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  covers,
  PendingPoolModel,
  type ModelBatch,
  type ModelOutcome,
} from '../src/testing/pending-pool-model.js';
import { OBJECT_TYPES, PRIORITIES } from '../src/refresh-types.js';
import { LATER_MS, poolOps, type OutcomeKind, type PoolOp } from './pool-ops.js';

const LIMITS = { maxFilesPerCall: 3, maxDirsPerCall: 2, windowMs: 0, quietMs: 0 };

function outcomeOf(kind: OutcomeKind, path: string, calledAt: number): ModelOutcome | undefined {
  switch (kind) {
    case 'submitted':
      return { status: { state: 'submitted', taskId: `T:${path}`, submittedAt: calledAt } };
    case 'rejected':
      return { status: { state: 'rejected', error: { code: 'InvalidDomain.Offline', message: 'offline' } } };
    case 'requeue-now':
      return { requeue: { delayMs: 0 } };
    case 'requeue-later':
      return { requeue: { delayMs: LATER_MS } };
    case 'uncertain':
      return undefined;
  }
}

interface Run {
  model: PendingPoolModel;
  admitted: Map<string, string[]>;
  claimed: ModelBatch[];
}

function run(
  ops: readonly PoolOp[],
  promoteAt: number,
  quietMs: number,
  check: (run: Run, claimedNow?: ModelBatch) => void,
): Run {
  const model = new PendingPoolModel({ ...LIMITS, quietMs }, promoteAt);
  const state: Run = { model, admitted: new Map(), claimed: [] };
  ops.forEach((op, index) => {
    const now = index;
    if (op.op === 'admit') {
      const id = `r${index}`;
      model.admit(
        {
          id,
          receivedAt: now,
          objectType: op.objectType,
          priority: op.priority,
          paths: op.paths,
          domains: op.paths.map(() => 'a.com'),
        },
        now,
      );
      state.admitted.set(id, op.paths);
      check(state);
    } else if (op.op === 'claim') {
      const coveringBefore = [...model.pendingDirectories('a.com'), ...model.inflightDirectories('a.com')];
      const batch = model.claim(op.objectType, op.lane, `b${index}`, now);
      if (batch) {
        state.claimed.push(batch);
        // Covered paths are never submitted on their own.
        for (const item of batch.items) {
          for (const dir of coveringBefore)
            expect(covers(dir, item.path, batch.objectType), `${item.path} under ${dir}`).toBe(false);
        }
      }
      check(state, batch);
    } else {
      const open = model.inflightBatches();
      if (open.length === 0) return;
      const batch = open[op.pick % open.length] as ModelBatch;
      const outcomes = new Map<string, ModelOutcome>();
      batch.items.forEach((item, i) => {
        const outcome = outcomeOf(
          op.outcomes[i % op.outcomes.length] as OutcomeKind,
          item.path,
          op.calledBefore ? batch.claimedAt : now,
        );
        if (outcome) outcomes.set(item.path, outcome);
      });
      model.finish(batch.id, outcomes, now);
      check(state);
    }
  });
  return state;
}

function invariants({ model, admitted }: Run, claimedNow?: ModelBatch): void {
  // Every (request, path) stands in exactly one place: pending, covered, in flight, or ended.
  const places = model.whereabouts();
  for (const [rid, paths] of admitted)
    for (const path of paths) expect(places.has(`${rid}\t${path}`), `${rid} ${path} lost`).toBe(true);
  // No path in two batches in flight at once; no batch over its limit.
  for (const type of OBJECT_TYPES) {
    const inFlight = model
      .inflightBatches()
      .filter((b) => b.objectType === type)
      .flatMap((b) => b.items.map((i) => i.path));
    expect(new Set(inFlight).size).toBe(inFlight.length);
  }
  if (claimedNow) {
    const limit = claimedNow.objectType === 'File' ? LIMITS.maxFilesPerCall : LIMITS.maxDirsPerCall;
    expect(claimedNow.items.length).toBeLessThanOrEqual(limit);
    expect(claimedNow.items.length).toBeGreaterThan(0);
  }
}

function drain(model: PendingPoolModel, start: number): void {
  let now = start;
  for (let round = 0; round < 200; round += 1) {
    let claimed = false;
    for (const lane of PRIORITIES) {
      for (const type of [...OBJECT_TYPES].reverse()) {
        const batch = model.claim(type, lane, `drain${round}${lane}${type}`, now + LATER_MS * 2);
        if (batch) {
          claimed = true;
          model.finish(
            batch.id,
            new Map(
              batch.items.map((i) => [i.path, { status: { state: 'submitted', taskId: `T:${i.path}` } }]),
            ),
            now,
          );
        }
      }
    }
    for (const batch of model.inflightBatches()) {
      model.finish(
        batch.id,
        new Map(batch.items.map((i) => [i.path, { status: { state: 'submitted', taskId: `T:${i.path}` } }])),
        now,
      );
      claimed = true;
    }
    now += 1;
    if (!claimed) return;
  }
}

describe('pending pool model (the specification of the Lua steps)', () => {
  it.each([
    [0, 0],
    [2, 0],
    [0, 3],
  ])(
    'keeps every invariant under random admits, claims and finishes (promotion at %i, quiet %i)',
    (promoteAt, quietMs) => {
      fc.assert(
        fc.property(poolOps, (ops) => {
          const state = run(ops, promoteAt, quietMs, invariants);
          // Drained, every path of every request has ended with an outcome.
          drain(state.model, ops.length);
          const places = state.model.whereabouts();
          for (const [rid, paths] of state.admitted) {
            for (const path of paths) expect(places.get(`${rid}\t${path}`), `${rid} ${path}`).toBe('ended');
          }
        }),
        { numRuns: 400, seed: 20261124 },
      );
    },
  );

  it('submits a path pending for many requests once', () => {
    const model = new PendingPoolModel(LIMITS);
    for (let i = 0; i < 50; i += 1)
      model.admit(
        {
          id: `r${i}`,
          receivedAt: i,
          objectType: 'File',
          priority: 'normal',
          paths: ['https://a.com/x'],
          domains: ['a.com'],
        },
        i,
      );
    const batch = model.claim('File', 'normal', 'b', 100);
    expect(batch?.items).toHaveLength(1);
    expect(batch?.items[0]?.requestIds).toHaveLength(50);
    expect(model.claim('File', 'normal', 'b2', 100)).toBeUndefined();
  });
});
