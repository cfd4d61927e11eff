import {
  redisCliOnPath,
  redisServerOnPath,
  type RunningCluster,
  startRedisCluster,
  testNamespace,
} from '@refreshq/test-redis';
import { startEmulator, type RunningEmulator } from '@refreshq/vod-emulator';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  getJson,
  postJson,
  startTestIntake,
  startTestWorker,
  TEST_KEY,
  type TestIntake,
} from '../support/stack.js';

/**
 * refreshq on a real Redis Cluster (3 masters, 3 replicas on loopback): intake and workers get
 * only REDIS_CLUSTER_NODES, so every client (BullMQ's queue and workers, the Lua scripts, the
 * status reads) is an ioredis Cluster client. A key outside the namespace's hash tag would fail
 * here with CROSSSLOT or MOVED.
 */
describe.skipIf(!redisServerOnPath() || !redisCliOnPath())('on a Redis Cluster', () => {
  let cluster: RunningCluster;
  let upstream: RunningEmulator;
  const clusterEnv = () => ({ REDIS_CLUSTER_NODES: cluster.seeds });

  beforeAll(async () => {
    [cluster, upstream] = await Promise.all([
      startRedisCluster({ masters: 3, replicasPerMaster: 1 }),
      startEmulator({ credentials: [TEST_KEY], silent: true }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await upstream?.close();
    await cluster?.stop();
  });

  async function settled(intake: TestIntake, id: string) {
    return eventually(
      async () => {
        const body = (await getJson(`${intake.url}/v1/refreshes/${id}`)).body;
        return body.counts?.queued === 0 ? body : undefined;
      },
      15_000,
      `request ${id} to leave the queue`,
    );
  }

  it('end to end: accepted, admitted, submitted with the upstream task id on every path; a replay is answered with the first id', async () => {
    const intake = await startTestIntake({ ...clusterEnv(), REDIS_WAIT_REPLICAS: '1' });
    const worker = await startTestWorker(intake.namespace, upstream.url, {
      ...clusterEnv(),
      REDIS_WAIT_REPLICAS: '1',
    });
    try {
      const paths = ['https://cdn.example.com/c/1.mp4', 'https://cdn.example.com/c/2.mp4'];
      const headers = { 'idempotency-key': 'cluster-e2e-1' };
      const accepted = await postJson(`${intake.url}/v1/refreshes`, { paths }, headers);
      expect(accepted.status).toBe(202);
      const replay = await postJson(`${intake.url}/v1/refreshes`, { paths }, headers);
      expect(replay.body).toMatchObject({ id: accepted.body.id, replayed: true });
      const directory = await postJson(`${intake.url}/v1/refreshes`, {
        paths: ['https://cdn.example.com/c/dir/'],
        objectType: 'Directory',
      });

      const body = await settled(intake, accepted.body.id);
      expect(body.state).toBe('submitted');
      const taskIdOf = new Map(
        upstream.emulator.submissions().flatMap((s) => s.paths.map((p, i) => [p, s.taskIds[i]] as const)),
      );
      for (const path of body.paths) expect(path.taskId).toBe(taskIdOf.get(path.path));
      expect((await settled(intake, directory.body.id)).paths[0]).toMatchObject({ state: 'submitted' });
    } finally {
      await worker.stop();
      await intake.close();
    }
  }, 30_000);

  it('quota: two workers on the cluster never go over the day budget; what does not fit stays queued', async () => {
    const budget = 60;
    // Its own upstream with the same day budget: the governor also learns what remains from it.
    const upstream = await startEmulator({
      credentials: [TEST_KEY],
      quotas: { urlsPerDay: budget },
      silent: true,
    });
    const intake = await startTestIntake(clusterEnv());
    const workerEnv = {
      ...clusterEnv(),
      QUOTA_URLS_PER_DAY: String(budget),
      // The governor's budget alone: every file a URL unit, none refreshed as its folder.
      DIRECTORY_PROMOTION: 'off',
      QUOTA_URLS_PER_MINUTE: String(budget),
      MAX_URLS_PER_CALL: '7',
      QUOTA_SYNC_INTERVAL_MS: '0',
    };
    const workers = [
      await startTestWorker(intake.namespace, upstream.url, workerEnv),
      await startTestWorker(intake.namespace, upstream.url, workerEnv),
    ];
    try {
      const ids: string[] = [];
      for (let r = 0; r < 10; r += 1) {
        const paths = Array.from({ length: 10 }, (_v, i) => `https://q.example.com/${r}/${i}.png`);
        const answer = await postJson(`${intake.url}/v1/refreshes`, { paths });
        expect(answer.status).toBe(202);
        ids.push(answer.body.id);
      }
      const submittedPaths = () =>
        upstream.emulator.submissions().reduce((sum, s) => sum + s.paths.length, 0);
      // The day's budget is spent, then nothing more goes: a few dispatch rounds later it is still the budget.
      await eventually(
        async () => (submittedPaths() >= budget ? true : undefined),
        15_000,
        'the budget spent',
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(submittedPaths()).toBe(budget);
      const refused = upstream.emulator.counts().calls.RefreshVodObjectCaches ?? {};
      expect(Object.keys(refused).filter((code) => code !== 'OK')).toEqual([]);

      const views = await Promise.all(
        ids.map(async (id) => (await getJson(`${intake.url}/v1/refreshes/${id}`)).body),
      );
      const states = views.flatMap((view) => view.paths.map((path: { state: string }) => path.state));
      expect(states.filter((state) => state === 'submitted')).toHaveLength(budget);
      expect(states.filter((state) => state === 'queued')).toHaveLength(100 - budget);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
      await intake.close();
      await upstream.close();
    }
  }, 40_000);

  it("keeps every key, refreshq's and BullMQ's, in the namespace's one slot", async () => {
    const namespace = testNamespace('slot');
    const intake = await startTestIntake(clusterEnv(), namespace);
    const worker = await startTestWorker(namespace, upstream.url, clusterEnv());
    const admin = new Cluster(
      cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    );
    try {
      const answer = await postJson(`${intake.url}/v1/refreshes`, { paths: ['https://s.example.com/a.png'] });
      await settled(intake, answer.body.id);
      const slot = await cluster.slotOf(`{${namespace}}`);
      const byNode = await Promise.all(
        admin.nodes('master').map(async (node) => {
          const keys: string[] = [];
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', `*${namespace}*`, 'COUNT', 1000);
            cursor = next;
            keys.push(...found);
          } while (cursor !== '0');
          return keys;
        }),
      );
      const keys = byNode.flat();
      expect(byNode.filter((found) => found.length > 0)).toHaveLength(1);
      expect(keys.some((key) => key.startsWith(`{${namespace}}:intake:`))).toBe(true);
      expect(keys.some((key) => key.startsWith(`{${namespace}}:req:`))).toBe(true);
      for (const key of keys) {
        expect(key.startsWith(`{${namespace}}:`)).toBe(true);
        expect(await cluster.slotOf(key)).toBe(slot);
      }
    } finally {
      admin.disconnect();
      await worker.stop();
      await intake.close();
    }
  }, 30_000);
});
