import type { CrashStack } from './crash-stack.js';
import { audit, emulatorCounts, emulatorSubmissions, waitForOutcomes, type Accepted } from './outcomes.js';
import { sleep } from './processes.js';

/**
 * After the load: waits for every accepted request's outcome, lets requests queued without an
 * answer drain too (up to 30 s of an idle pool), then reads the upstream and audits.
 */
export async function drainAndAudit(s: CrashStack, accepted: readonly Accepted[], timeoutMs: number) {
  const waited = await waitForOutcomes(
    () => s.intakeUrl,
    accepted,
    timeoutMs,
    async () => (await s.idle()).idle,
  );
  let idle = await s.idle();
  const idleDeadline = Date.now() + 30_000;
  while (!idle.idle && Date.now() < idleDeadline) {
    await sleep(300);
    idle = await s.idle();
  }
  const submissions = await emulatorSubmissions(s.emulatorUrl);
  const upstream = await emulatorCounts(s.emulatorUrl);
  return {
    waited,
    idle,
    submissions,
    upstream,
    result: audit(accepted, waited.views, waited.statuses, submissions),
  };
}
