import { redisServerOnPath } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashStack, NAMESPACE } from './support/crash-stack.js';
import {
  batchInReply,
  isClaimedBatchReply,
  startLossyProxy,
  type LossyProxy,
} from './support/lossy-proxy.js';
import { postOnce } from './support/load.js';
import { audit, emulatorSubmissions, waitForOutcomes, type Accepted } from './support/outcomes.js';
import { assertBuilt } from './support/processes.js';
import { report } from './support/report.js';

/**
 * KNOWN FAILURE D4 (see RELIABILITY.md, "Defects found"). Runs only with CRASH_KNOWN_FAILURES=1
 * and FAILS until the defect is fixed; then it passes and belongs in the default run.
 *
 * What: when the reply to a claim-batch.lua call is lost (Redis dies, restarts or fails over after
 * running the script, before the reply reaches the worker), ioredis re-sends the same EVALSHA on
 * reconnect (autoResendUnfulfilledCommands, on by default; the worker's connections also retry
 * forever). The second run gets the SAME batch id and claims the NEXT paths: it overwrites
 * `{ns}:batch:<id>`, so the paths of the first claim are no longer pending, linked, in any batch or
 * leased. Nobody submits them and nobody reclaims them: their requests stay `queued` forever.
 *
 * How this test shows it, deterministically: a real worker process talks to Redis through a TCP
 * proxy that swallows the first reply carrying a claimed batch and cuts the connection (what a
 * Redis crash right after the script looks like to the client). With 30 paths pending and
 * MAX_URLS_PER_CALL=10, the re-sent claim takes paths 11-20 under the first batch's id, and paths
 * 1-10 are lost. Expected (correct) behaviour: all 30 paths end submitted.
 */

const MAX_URLS_PER_CALL = 10;

describe.skipIf(!redisServerOnPath())('former defect D4: a lost claim reply must not lose a batch', () => {
  let stack: CrashStack | undefined;
  let proxy: LossyProxy | undefined;

  beforeAll(async () => {
    assertBuilt();
    stack = new CrashStack({
      workers: 0,
      workerEnv: {
        MAX_URLS_PER_CALL: String(MAX_URLS_PER_CALL),
        COALESCE_WINDOW_MS: '500',
        BATCH_LEASE_MS: '3000',
        DISPATCH_CONCURRENCY: '1',
        VOD_CALL_TIMEOUT_MS: '2000',
      },
    });
    await stack.start();
    proxy = await startLossyProxy({ host: '127.0.0.1', port: stack.redisPort }, isClaimedBatchReply, 1);
  }, 90_000);

  afterAll(async () => {
    await proxy?.close();
    await stack?.stop();
  }, 30_000);

  it('every accepted path still ends with an outcome after the reply to a claim is lost', async () => {
    const s = stack as CrashStack;
    const p = proxy as LossyProxy;
    const accepted: Accepted[] = [];
    for (let n = 0; n < 3; n += 1) {
      const answer = await postOnce(
        s.intakeUrl,
        n,
        Array.from({ length: MAX_URLS_PER_CALL }, (_v, i) => `https://cdn.example.com/d4/${n}/${i}.mp4`),
      );
      if (!('id' in answer)) throw new Error(`intake refused: ${JSON.stringify(answer)}`);
      accepted.push(answer);
    }
    // The worker reaches Redis only through the proxy.
    await s.startWorker(true, { REDIS_URL: `redis://127.0.0.1:${p.port}` });

    const waited = await waitForOutcomes(
      () => s.intakeUrl,
      accepted,
      20_000,
      async () => (await s.idle()).idle,
    );
    const submissions = await emulatorSubmissions(s.emulatorUrl);
    const result = audit(accepted, waited.views, waited.statuses, submissions);
    const lost = [];
    for (const missing of result.missing) if ((await s.whereIs(missing.path)).gone) lost.push(missing.path);
    const idle = await s.idle();
    const batches = await s.adminRedis().keys(`{${NAMESPACE}}:batch:*`);
    const swallowed = p.dropped[0] === undefined ? undefined : batchInReply(p.dropped[0]);
    report('former defect D4: lost reply to claim-batch.lua', {
      'claim replies swallowed by the proxy': p.drops,
      'paths accepted': result.paths,
      submitted: result.submitted,
      'without outcome': result.missing.length,
      'of which in no pending set, link, meta or batch (gone from the pool)': lost.length,
      'pool now': idle,
      'batch keys left': batches.length,
      'first lost paths': lost.slice(0, 3),
      'batch in the swallowed reply': swallowed
        ? `${swallowed.id}: ${swallowed.paths.length} paths`
        : '(not parsed)',
      "lost paths = that batch's paths": swallowed
        ? JSON.stringify([...lost].sort()) === JSON.stringify([...swallowed.paths].sort())
        : '?',
    });
    expect(p.drops, 'the proxy did swallow a claim reply (test precondition)').toBe(1);
    expect(result.missing, 'accepted paths without an outcome after a lost claim reply').toEqual([]);
  }, 60_000);
});

/**
 * KNOWN FINDING D5 (see RELIABILITY.md). Runs only with CRASH_KNOWN_FAILURES=1 and FAILS until
 * the worker records one task id per path in this case.
 *
 * What: the upstream merges URL tasks of one domain submitted in the same second into one id,
 * across calls, until 2,000 tasks share it (shared/vod-api.md). A call that crosses that boundary
 * gets `RefreshTaskId: "X,Y"` for paths that are not split at k·2000 within the call, so the
 * worker's rule (README: "the k-th id covers paths k·2000 to k·2000+1999") cannot apply and it
 * records the whole string "X,Y" as the task id of every path of the call.
 *
 * How: the emulator's clock is frozen (all calls in one second); three calls of 700 URLs of one
 * domain: the third call's first 600 paths get X and its last 100 get Y.
 */
describe.skipIf(!redisServerOnPath())(
  'former finding D5: a call across the 2,000-tasks-per-id boundary',
  () => {
    let stack: CrashStack | undefined;

    beforeAll(async () => {
      assertBuilt();
      stack = new CrashStack({
        workers: 0,
        // The ids of a call across the boundary resolve per path when the tracker first looks.
        workerEnv: {
          MAX_URLS_PER_CALL: '700',
          COALESCE_WINDOW_MS: '300',
          DISPATCH_CONCURRENCY: '1',
          VOD_CALL_TIMEOUT_MS: '5000',
          TASK_FIRST_POLL_MS: '300',
        },
      });
      await stack.start();
      const frozen = await fetch(`${stack.emulatorUrl}/_emulator/clock/freeze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (!frozen.ok) throw new Error(`could not freeze the emulator clock: ${frozen.status}`);
    }, 90_000);

    afterAll(async () => {
      await stack?.stop();
    }, 30_000);

    it('every submitted path records the one task id the upstream gave it', async () => {
      const s = stack as CrashStack;
      const accepted: Accepted[] = [];
      for (let n = 0; n < 3; n += 1) {
        const answer = await postOnce(
          s.intakeUrl,
          n,
          Array.from({ length: 700 }, (_v, i) => `https://cdn.example.com/d5/${n}/${i}.mp4`),
        );
        if (!('id' in answer)) throw new Error(`intake refused: ${JSON.stringify(answer)}`);
        accepted.push(answer);
      }
      await s.startWorker(true);
      let waited = await waitForOutcomes(
        () => s.intakeUrl,
        accepted,
        30_000,
        async () => (await s.idle()).idle,
      );
      const submissions = await emulatorSubmissions(s.emulatorUrl);
      let result = audit(accepted, waited.views, waited.statuses, submissions);
      for (let tries = 0; tries < 20 && result.ambiguousTaskIds.length > 0; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        waited = await waitForOutcomes(
          () => s.intakeUrl,
          accepted,
          30_000,
          async () => (await s.idle()).idle,
        );
        result = audit(accepted, waited.views, waited.statuses, submissions);
      }
      report('former finding D5: task ids of a call across the 2,000-tasks-per-id boundary', {
        'upstream calls (RefreshTaskId)': submissions.map(
          (submission) =>
            `${submission.paths.length} paths -> ${submission.taskIds.length > 0 ? [...new Set(submission.taskIds)].join(',') : '?'}`,
        ),
        'paths accepted': result.paths,
        submitted: result.submitted,
        'paths whose taskId lists several ids': result.ambiguousTaskIds.length,
        example: result.ambiguousTaskIds[0] ?? '-',
      });
      expect(result.missing).toEqual([]);
      expect(result.unknownTaskIds).toEqual([]);
      expect(
        result.ambiguousTaskIds.length,
        'paths recorded with several task ids instead of their own',
      ).toBe(0);
    }, 60_000);
  },
);
