import type { Client } from './client.js';
import { ENDED_REQUEST_STATES, type RequestStatus } from './views.js';

export interface WaitOptions {
  intervalMs: number;
  /** Give up after this long (0: never). */
  timeoutMs: number;
  /** Where progress goes: a live line when it is a terminal, a line per change otherwise. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
}

export class TimedOut extends Error {
  constructor(readonly last: RequestStatus) {
    super(`gave up waiting: request ${last.id} is still ${last.state}`);
  }
}

const ORDER = ['queued', 'submitted', 'refreshing', 'complete', 'failed', 'rejected', 'cancelled'];

/** One line of progress: the request's state and its non-zero counts, e.g. `in_progress · 2 queued · 3 complete`. */
export function progressLine(status: RequestStatus): string {
  const counts = Object.entries(status.counts)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => ORDER.indexOf(a) - ORDER.indexOf(b))
    .map(([state, count]) => `${count} ${state}`);
  const paused = status.paused ? ' · submitting paused' : '';
  return `${status.id} ${status.state} · ${counts.join(' · ')}${paused}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a request until every path has ended; shows progress on the way. */
export async function waitForEnd(client: Client, id: string, options: WaitOptions): Promise<RequestStatus> {
  const started = Date.now();
  const live = options.out.isTTY === true;
  let lastLine = '';
  const show = (status: RequestStatus, final: boolean) => {
    const line = progressLine(status);
    if (live) {
      const seconds = Math.round((Date.now() - started) / 1000);
      // \r and erase-line: one line, rewritten in place.
      options.out.write(`\r\x1b[2K${line} · ${seconds}s${final ? '\n' : ''}`);
    } else if (line !== lastLine) {
      options.out.write(`${line}\n`);
    }
    lastLine = line;
  };
  for (;;) {
    const status = await client.call<RequestStatus>('GET', `/v1/refreshes/${encodeURIComponent(id)}`);
    const ended = ENDED_REQUEST_STATES.has(status.state);
    const late = options.timeoutMs > 0 && Date.now() - started >= options.timeoutMs;
    show(status, ended || late);
    if (ended) return status;
    if (late) throw new TimedOut(status);
    await sleep(options.intervalMs);
  }
}

/** True when every path of an ended request completed. */
export const allComplete = (status: RequestStatus): boolean =>
  status.paths.length > 0 && status.paths.every((path) => path.state === 'complete');
