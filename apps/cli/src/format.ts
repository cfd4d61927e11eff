import type { Accepted, RequestStatus } from './views.js';
import { progressLine } from './wait.js';

/** Human-readable answers; `--json` prints the API's JSON instead. */

const orDash = (value: unknown): string =>
  value === undefined || value === null || value === '' ? '—' : String(value);

export function accepted(answer: Accepted): string {
  const replayed = answer.replayed ? ' (replayed: the first answer to this Idempotency-Key)' : '';
  const retry = answer.retryOf ? ` (retry of ${answer.retryOf})` : '';
  const duplicates = answer.duplicates > 0 ? `, ${answer.duplicates} duplicate(s) dropped` : '';
  return `queued ${answer.accepted} path(s) as request ${answer.id}${retry}${duplicates}${replayed}`;
}

export function status(view: RequestStatus): string {
  const lines = [progressLine(view), `  ${view.objectType}, ${view.priority}, received ${view.receivedAt}`];
  if (view.estimatedSubmitAt !== undefined)
    lines.push(`  queued paths expected to go by ${orDash(view.estimatedSubmitAt)}`);
  if (view.retryOf) lines.push(`  retry of ${view.retryOf}`);
  if (view.retriedBy?.length) lines.push(`  retried by ${view.retriedBy.join(', ')}`);
  for (const path of view.paths) {
    const details = [
      path.taskId ? `task ${path.taskId}` : '',
      path.coveredBy ? `covered by ${path.coveredBy}` : '',
      path.error ? `${path.error.code}${path.error.message ? `: ${path.error.message}` : ''}` : '',
    ].filter(Boolean);
    lines.push(`  ${path.state.padEnd(10)} ${path.path}${details.length ? `  (${details.join('; ')})` : ''}`);
  }
  return lines.join('\n');
}

interface Lookup {
  path: string;
  objectType: string;
  state: string;
  requestId?: string;
  coveredBy?: string;
  lastSubmission: { at: string; requestId: string; taskId?: string; upstreamRequestId?: string } | null;
  lastCompletion: {
    state: string;
    at: string;
    requestId: string;
    taskId?: string;
    error?: { code: string; message: string };
  } | null;
  requests: { id: string; receivedAt: string; state: string }[];
}

export function lookup(view: Lookup): string {
  const sent = view.lastSubmission;
  const ended = view.lastCompletion;
  return [
    `${view.path} (${view.objectType}): ${view.state}${view.requestId ? ` on request ${view.requestId}` : ''}`,
    ...(view.coveredBy ? [`  covered by ${view.coveredBy}`] : []),
    `  last submission: ${
      sent
        ? `${sent.at}, task ${orDash(sent.taskId)}, upstream RequestId ${orDash(sent.upstreamRequestId)}, request ${sent.requestId}`
        : 'none'
    }`,
    `  last completion: ${
      ended
        ? `${ended.state} ${ended.at}, task ${orDash(ended.taskId)}${ended.error ? `, ${ended.error.code}: ${ended.error.message}` : ''}`
        : 'none'
    }`,
    '  requests:',
    ...view.requests.map((request) => `    ${request.receivedAt}  ${request.id}  ${request.state}`),
  ].join('\n');
}

interface List {
  refreshes: {
    id: string;
    state: string;
    objectType: string;
    priority: string;
    receivedAt: string;
    counts: Record<string, number>;
  }[];
  nextCursor: string | null;
}

export function list(view: List): string {
  const lines = view.refreshes.map((entry) => {
    const counts = Object.entries(entry.counts)
      .filter(([, count]) => count > 0)
      .map(([state, count]) => `${count} ${state}`)
      .join(', ');
    return `${entry.receivedAt}  ${entry.id}  ${entry.state.padEnd(16)} ${entry.objectType}/${entry.priority}  ${counts}`;
  });
  if (lines.length === 0) lines.push('no requests');
  if (view.nextCursor) lines.push(`more: --cursor ${view.nextCursor}`);
  return lines.join('\n');
}

interface Budget {
  used: number;
  budget: number;
  left: number;
}

interface Quota {
  at: string | null;
  resetsAt: string | null;
  quota: Record<
    string,
    { day: Budget; minute: Budget; hold: { until: string; reason: string } | null; pressure?: boolean }
  >;
  callsHold: { until: string; reason: string } | null;
  backlog: Record<string, Record<string, { paths: number; estimatedSubmitAt: string | null }>>;
  breaker: { open: boolean; code?: string; probeAt?: string };
  pause: Pause;
}

interface Pause {
  paused: boolean;
  since?: string;
  reason?: string;
}

export function pause(view: Pause): string {
  if (!view.paused) return 'submitting: on';
  return `submitting: PAUSED${view.since ? ` since ${view.since}` : ''}${view.reason ? ` (${view.reason})` : ''}; intake keeps accepting`;
}

export function quota(view: Quota): string {
  const lines: string[] = [];
  for (const [type, q] of Object.entries(view.quota)) {
    const pressure = q.pressure === undefined ? '' : q.pressure ? ', under pressure' : '';
    lines.push(
      `${type.padEnd(9)} today ${q.day.used}/${q.day.budget} used, ${q.day.left} left; last 60 s ${q.minute.used}/${q.minute.budget}${pressure}`,
    );
    if (q.hold) lines.push(`          held (${q.hold.reason}) until ${q.hold.until}`);
  }
  if (Object.keys(view.quota).length === 0) lines.push('quota: no worker has published figures lately');
  if (view.resetsAt) lines.push(`resets at ${view.resetsAt}`);
  if (view.callsHold) lines.push(`every call held (${view.callsHold.reason}) until ${view.callsHold.until}`);
  for (const [type, lanes] of Object.entries(view.backlog)) {
    const parts = Object.entries(lanes).map(
      ([lane, entry]) =>
        `${lane} ${entry.paths}${entry.estimatedSubmitAt ? ` (by ${entry.estimatedSubmitAt})` : ''}`,
    );
    lines.push(`backlog ${type}: ${parts.join(', ')}`);
  }
  lines.push(
    view.breaker.open
      ? `breaker: OPEN (${orDash(view.breaker.code)}), next probe ${orDash(view.breaker.probeAt)}`
      : 'breaker: closed',
  );
  lines.push(pause(view.pause));
  if (view.at) lines.push(`as of ${view.at}`);
  return lines.join('\n');
}

interface Cancel {
  id: string;
  state: string;
  cancelled: string[];
  alreadyGone: { path: string; state: string }[];
}

export function cancel(view: Cancel): string {
  return [
    `request ${view.id}: ${view.cancelled.length} path(s) cancelled, ${view.alreadyGone.length} already gone; now ${view.state}`,
    ...view.cancelled.map((path) => `  cancelled  ${path}`),
    ...view.alreadyGone.map((gone) => `  ${gone.state.padEnd(10)} ${gone.path}`),
  ].join('\n');
}
