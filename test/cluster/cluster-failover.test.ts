import { redisCliOnPath, redisServerOnPath } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadGenerator, summarizeFailures } from '../crash/support/load.js';
import { audit, emulatorCounts, emulatorSubmissions, waitForOutcomes } from '../crash/support/outcomes.js';
import { assertBuilt, sleep } from '../crash/support/processes.js';
import { report } from '../crash/support/report.js';
import { ClusterCrashStack } from './support/cluster-crash-stack.js';

/**
 * Failover on a real Redis Cluster (3 masters, a replica each), every refreshq process a real
 * process from the build. A client POSTs continuously, each request with an Idempotency-Key,
 * retried with the same key until a 202. Meanwhile the master holding the namespace's slot
 * (CLUSTER KEYSLOT, CLUSTER NODES) is killed with SIGKILL; its replica takes over; the killed
 * node is started again and rejoins as a replica. The day's budget (upstream and worker alike)
 * is smaller than what is posted, so the governor is working at its bound across the failover.
 * Verdicts: the upstream is never asked past the budget and refuses nothing; every 202's paths
 * are then all submitted once the budget is raised (none lost), each key under one request id.
 */

const BUDGET = 500;
// Slow calls of 10 URLs, one at a time per worker: about 100 URLs/s, so the budget is still
// being spent when the master dies, and reached after the failover.
const MAX_URLS_PER_CALL = 10;
const PATHS_PER_REQUEST = 5;

describe.skipIf(!redisServerOnPath() || !redisCliOnPath())(
  'crash: the master of the namespace slot dies',
  () => {
    let stack: ClusterCrashStack | undefined;

    beforeAll(async () => {
      assertBuilt();
      stack = new ClusterCrashStack({
        workers: 2,
        emulatorEnv: {
          EMULATOR_URLS_PER_DAY: String(BUDGET),
          EMULATOR_FAULT_LATENCY_MS: '150',
          EMULATOR_FAULT_LATENCY_JITTER_MS: '100',
          EMULATOR_FAULT_ACTIONS: 'RefreshVodObjectCaches',
        },
        workerEnv: {
          QUOTA_URLS_PER_DAY: String(BUDGET),
          // The governor's budget alone: every file a URL unit, none refreshed as its folder.
          DIRECTORY_PROMOTION: 'off',
          MAX_URLS_PER_CALL: String(MAX_URLS_PER_CALL),
          COALESCE_WINDOW_MS: '100',
          BATCH_LEASE_MS: '3000',
          DISPATCH_CONCURRENCY: '1',
          VOD_CALL_TIMEOUT_MS: '2000',
        },
      });
      await stack.start();
    }, 90_000);

    afterAll(async () => {
      await stack?.stop();
    }, 30_000);

    it('failover under load: within the budget throughout, no refusal, every accepted path submitted', async () => {
      const s = stack as ClusterCrashStack;
      const started = Date.now();
      const load = new LoadGenerator(() => s.intakeUrl, {
        concurrency: 4,
        pathsPerRequest: PATHS_PER_REQUEST,
        prefix: 'failover',
        pauseMs: 25,
        idempotencyKeys: true,
      });
      load.start();
      await sleep(1500);

      const slot = await s.slot();
      const { master, replicas } = await s.cluster.ownerOf(slot);
      const acceptedBeforeKill = load.accepted.length;
      const submitted = async () =>
        (await emulatorSubmissions(s.emulatorUrl)).reduce((sum, x) => sum + x.paths.length, 0);
      const spentAtKill = await submitted();
      await s.cluster.kill(master);
      const killedAt = Date.now();
      const successor = await s.cluster.waitForNewOwner(slot, master.port);
      const failoverMs = Date.now() - killedAt;
      await s.cluster.restart(master);
      await s.cluster.waitUntilHealthy();
      const acceptedAtRejoin = load.accepted.length;
      await sleep(1500);
      await load.stop();
      const accepted = load.accepted;
      const paths = accepted.length * PATHS_PER_REQUEST;
      expect(paths, 'the load must be larger than the budget').toBeGreaterThan(BUDGET);

      // At the bound: the workers spend the day's budget and stop there.
      let spent = 0;
      for (let stable = 0; stable < 6; ) {
        await sleep(500);
        const now = await submitted();
        stable = now === spent && now > 0 ? stable + 1 : 0;
        spent = now;
      }
      const atBound = await emulatorCounts(s.emulatorUrl);

      // Then a larger budget, upstream and in the workers (restarted with it): the rest drains.
      await fetch(`${s.emulatorUrl}/_emulator/quota`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ limits: { urlsPerDay: 1_000_000 } }),
      });
      for (const worker of [...s.workers]) {
        await s.killWorker(worker);
        await s.startWorker(true, { QUOTA_URLS_PER_DAY: '1000000', DIRECTORY_PROMOTION: 'off' });
      }
      const waited = await waitForOutcomes(
        () => s.intakeUrl,
        accepted,
        60_000,
        async () => (await s.idle()).idle,
      );
      const submissions = await emulatorSubmissions(s.emulatorUrl);
      const result = audit(accepted, waited.views, waited.statuses, submissions);
      const keysWithTwoIds = [...load.idsByKey.values()].filter((ids) => ids.size > 1).length;

      report('cluster failover: the master of the namespace slot killed under load', {
        slot,
        'killed master, replica(s), successor': `${master.port}, ${replicas.map((r) => r.port).join('/')}, ${successor.port}`,
        'failover ms (kill to a new owner, cluster ok)': failoverMs,
        'requests accepted before kill / at rejoin / in all': `${acceptedBeforeKill} / ${acceptedAtRejoin} / ${accepted.length}`,
        'attempts without 202 (retried with the same key)': summarizeFailures(load.failed),
        'gave up': load.gaveUp.length,
        paths,
        budget: BUDGET,
        'URLs submitted at the kill / at the bound': `${spentAtKill} / ${spent}`,
        'RefreshVodObjectCaches answers at the bound': atBound.calls.RefreshVodObjectCaches ?? {},
        submitted: result.submitted,
        'lost or stuck': result.missing.length,
        'unknown task ids': result.unknownTaskIds.length,
        duplicates: result.duplicates,
        'keys answered with two ids': keysWithTwoIds,
        'total ms': Date.now() - started,
      });

      expect(spentAtKill, 'the budget must still be being spent when the master dies').toBeLessThan(BUDGET);
      expect(spent, 'URLs submitted while the budget bound').toBe(BUDGET);
      const answers = atBound.calls.RefreshVodObjectCaches ?? {};
      expect(
        Object.keys(answers).filter((code) => code !== 'OK'),
        'upstream refusals',
      ).toEqual([]);
      expect(load.gaveUp, 'keyed requests that never got a 202').toEqual([]);
      expect(keysWithTwoIds, 'one Idempotency-Key answered with two request ids').toBe(0);
      expect(result.missing, 'accepted paths without an outcome').toEqual([]);
      expect(result.unknownTaskIds, 'task ids the upstream never gave for that path').toEqual([]);
      expect(result.submitted).toBe(paths);
      for (const worker of s.workers)
        expect(worker.alive, `${worker.name} died on its own:\n${worker.logTail()}`).toBe(true);
    }, 150_000);
  },
);
