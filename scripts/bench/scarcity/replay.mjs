// Replays a trace in real time through intake, then waits until the stack has nothing more to do.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(intakeUrl, event) {
  const body = { paths: event.paths, objectType: event.objectType };
  if (event.priority) body.priority = event.priority;
  try {
    const response = await fetch(`${intakeUrl}/v1/refreshes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return `error: ${error.message}`;
  }
}

/**
 * POSTs each event at its offset from the start, without waiting for the answer before the next
 * one is due. `sentAt[i]` is when event i left (its content changed just before: the clock
 * coverage is judged by).
 */
export async function replay(events, intakeUrl) {
  const startedAt = Date.now() + 200;
  const sentAt = new Array(events.length);
  const answers = [];
  let lateMs = 0;
  for (const [index, event] of events.entries()) {
    const due = startedAt + event.atMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sentAt[index] = Date.now();
    lateMs = Math.max(lateMs, sentAt[index] - due);
    answers.push(post(intakeUrl, event));
  }
  const statuses = await Promise.all(answers);
  const refused = statuses.filter((status) => status !== 202);
  return {
    startedAt,
    endedAt: Date.now(),
    sentAt,
    hooks: events.length,
    notAccepted: refused.length,
    notAcceptedSample: [...new Set(refused)].slice(0, 3),
    maxLateMs: lateMs,
  };
}

function backlogOf(metricsText) {
  return metricsText
    .split('\n')
    .filter((line) => line.startsWith('refreshq_backlog_paths{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * After the last hook: polls the upstream and the worker until one of
 * - drained: the worker's backlog is empty and nothing was submitted for `settleMs`
 *   (longer than the worker's gauge refresh, so an empty backlog is a fresh reading);
 * - budgets spent: the upstream has no URL and no directory unit left today;
 * - quiet: nothing submitted for `quietMs` (the budget a policy keeps back, or a hold);
 * - cap: `maxWaitMs` after the last hook.
 */
export async function settle(stack, endedAt, { quietMs, settleMs = 6000, maxWaitMs = 180_000 }) {
  for (;;) {
    stack.checkAlive();
    const [{ submissions }, quota, metrics] = await Promise.all([
      stack.control('GET', '/submissions'),
      stack.control('GET', '/quota'),
      fetch(stack.metricsUrl).then((response) => response.text()),
    ]);
    const now = Date.now();
    const lastActivity = Math.max(endedAt, submissions.at(-1)?.atMs ?? 0);
    const idleMs = now - lastActivity;
    let reason;
    if (backlogOf(metrics) === 0 && idleMs >= settleMs) reason = 'drained';
    else if (quota.remaining.urlsToday === 0 && quota.remaining.dirsToday === 0) reason = 'budgets spent';
    else if (idleMs >= quietMs) reason = `quiet ${Math.round(quietMs / 1000)} s`;
    else if (now - endedAt >= maxWaitMs) reason = 'cap';
    if (reason) return { reason, waitedMs: now - endedAt, backlog: backlogOf(metrics) };
    await sleep(500);
  }
}
