import type { Settlement } from '@refreshq/domain';
import type {
  CircuitBreaker,
  ClaimedBatch,
  Grant,
  PendingPool,
  PoolSettings,
  QuotaGovernor,
} from '@refreshq/store';
import { createLogger } from '@refreshq/telemetry';
import { describe, expect, it } from 'vitest';
import type { BatchResult, BatchSubmitter } from '../src/batch-submitter.js';
import { Dispatcher } from '../src/dispatcher.js';
import { createWorkerMetrics } from '../src/worker-metrics.js';

const POOL: PoolSettings = {
  maxFilesPerCall: 100,
  maxDirsPerCall: 10,
  windowMs: 50,
  quietMs: 0,
  leaseMs: 10_000,
};
const SETTINGS = { concurrency: 1, pool: POOL, idlePollMs: 200, reclaimEveryMs: 60_000 };

/** Records every step the dispatcher takes against fakes of the pool, governor, breaker and submitter. */
function rig(options: {
  ready?: Record<string, number>;
  grant?: (type: string, lane: string) => Grant | { ok: false; granted: 0; waitMs: number; short: string };
  claimable?: boolean;
  result?: BatchResult | Error;
  breakerMs?: number;
  paused?: boolean;
}) {
  const steps: string[] = [];
  const settled: Settlement[] = [];
  const pool = {
    readiness: async () => new Map(Object.entries(options.ready ?? {})),
    claim: async (type: string, lane: string, id: string, _settings: PoolSettings, max: number) => {
      steps.push(`claim ${type}:${lane} max ${max}`);
      if (options.claimable === false) return { batch: undefined, retryInMs: 0, heldRepeats: 0 };
      const batch: ClaimedBatch = {
        id,
        objectType: type as 'File',
        lane: lane as 'high',
        domain: 'd',
        claimedAt: 0,
        items: [],
      };
      return { batch, heldRepeats: 0 };
    },
    finish: async () => {
      steps.push('finish');
      return true;
    },
    reclaimExpired: async () => 0,
  } as unknown as PendingPool;
  const governor = {
    take: async (type: string, lane: string, want: number) => {
      steps.push(`take ${type}:${lane} want ${want}`);
      return options.grant?.(type, lane) ?? { ok: true, granted: 7, ticket: 't', day: 1, now: 0 };
    },
    settle: async (_type: string, _grant: Grant, settlement: Settlement) => {
      steps.push('settle');
      settled.push(settlement);
      return 0;
    },
  } as unknown as QuotaGovernor;
  const breaker = {
    remainingMs: async () => options.breakerMs ?? 0,
    open: async (code: string, ms: number) => void steps.push(`breaker ${code} ${ms}`),
  } as unknown as CircuitBreaker;
  const pause = { read: async () => (options.paused ? { since: 1 } : undefined) };
  const submitter = {
    run: async () => {
      steps.push('run');
      if (options.result instanceof Error) throw options.result;
      return options.result ?? { outcomes: new Map(), settlement: { spent: 7, answer: 'success' } };
    },
  } as unknown as BatchSubmitter;
  let resyncs = 0;
  const dispatcher = new Dispatcher(
    pool,
    governor,
    breaker,
    pause,
    submitter,
    SETTINGS,
    createWorkerMetrics(),
    createLogger({ name: 't', level: 'silent' }),
    () => {
      resyncs += 1;
    },
  );
  return { dispatcher, steps, settled, resyncs: () => resyncs };
}

describe('Dispatcher.tick: take -> claim -> run -> settle -> finish', () => {
  it('claims only what the governor granted, then settles before it finishes', async () => {
    const { dispatcher, steps, settled } = rig({ ready: { 'File:normal': 0 } });
    expect(await dispatcher.tick()).toBe(0);
    expect(steps).toEqual([
      'take File:normal want 100',
      'claim File:normal max 7',
      'run',
      'settle',
      'finish',
    ]);
    expect(settled).toEqual([{ spent: 7, answer: 'success' }]);
  });

  it('goes lane by lane, directories before files within a lane', async () => {
    const { dispatcher, steps } = rig({
      ready: { 'File:high': 0, 'Directory:normal': 0, 'File:normal': 0 },
      grant: (type, lane) =>
        type === 'File' && lane === 'normal'
          ? { ok: true, granted: 1, ticket: 't', day: 1, now: 0 }
          : { ok: false, granted: 0, waitMs: 1000, short: 'day' },
    });
    await dispatcher.tick();
    expect(steps.filter((step) => step.startsWith('take'))).toEqual([
      'take File:high want 100',
      'take Directory:normal want 10',
      'take File:normal want 100',
    ]);
  });

  it('gives an unused grant back when nothing could be claimed', async () => {
    const { dispatcher, steps, settled } = rig({ ready: { 'File:low': 0 }, claimable: false });
    await dispatcher.tick();
    expect(steps).toEqual(['take File:low want 100', 'claim File:low max 7', 'settle']);
    expect(settled).toEqual([{ spent: 0, answer: 'unused' }]);
  });

  it('waits as long as the governor says when every ready lane is refused', async () => {
    const { dispatcher, steps } = rig({
      ready: { 'File:normal': 0 },
      grant: () => ({ ok: false, granted: 0, waitMs: 120, short: 'minute' }),
    });
    expect(await dispatcher.tick()).toBe(120);
    expect(steps).toEqual(['take File:normal want 100']);
  });

  it('sleeps until the next lane is ready, at most the idle poll', async () => {
    expect(await rig({ ready: { 'File:normal': 40 } }).dispatcher.tick()).toBe(40);
    expect(await rig({ ready: {} }).dispatcher.tick()).toBe(200);
  });

  it('does nothing while the breaker is open', async () => {
    const { dispatcher, steps } = rig({ ready: { 'File:normal': 0 }, breakerMs: 900 });
    expect(await dispatcher.tick()).toBe(900);
    expect(steps).toEqual([]);
  });

  it('claims nothing while an operator has paused submitting', async () => {
    const { dispatcher, steps } = rig({ ready: { 'File:normal': 0 }, paused: true });
    expect(await dispatcher.tick()).toBe(SETTINGS.idlePollMs);
    expect(steps).toEqual([]);
  });

  it('opens the breaker and asks for a quota re-read when the settlement says so', async () => {
    const settlement: Settlement = {
      spent: 0,
      answer: 'refused',
      resyncQuota: true,
      breaker: { code: 'OperationDenied', probeMs: 5000 },
    };
    const { dispatcher, steps, resyncs } = rig({
      ready: { 'File:normal': 0 },
      result: { outcomes: new Map(), settlement },
    });
    await dispatcher.tick();
    expect(steps).toEqual([
      'take File:normal want 100',
      'claim File:normal max 7',
      'run',
      'breaker OperationDenied 5000',
      'settle',
      'finish',
    ]);
    expect(resyncs()).toBe(1);
  });

  it('a submitter that throws: the whole grant counts as spent (uncertain), and the batch is finished', async () => {
    const { dispatcher, steps, settled } = rig({ ready: { 'File:normal': 0 }, result: new Error('boom') });
    await dispatcher.tick();
    expect(steps.slice(-2)).toEqual(['settle', 'finish']);
    expect(settled).toEqual([{ spent: 7, answer: 'uncertain' }]);
  });
});
