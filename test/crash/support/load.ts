import type { Accepted } from './outcomes.js';
import { sleep } from './processes.js';

/** A POST that did not get a 202, and what the client saw. */
export interface Attempt {
  n: number;
  paths: string[];
  at: number;
  /** `refused`: connection refused, so intake never saw it; `no answer`: sent, then the connection died or timed out. */
  kind: 'refused' | 'no answer' | 'answered';
  status?: number;
  code?: string;
  detail?: string;
}

/**
 * A client that POSTs continuously from `concurrency` loops, each request with its own distinct
 * paths, and classifies every attempt: 202 (accepted), answered with an error, refused (intake
 * down), or no answer (the connection died mid-request: the request may or may not exist).
 * With `idempotencyKeys`, each request carries its own Idempotency-Key and is retried with the
 * same key and body until it gets a 202, as a careful caller would.
 */
export class LoadGenerator {
  readonly accepted: Accepted[] = [];
  /** Attempts without a 202 (with idempotency keys: attempts that were then retried). */
  readonly failed: Attempt[] = [];
  /** With idempotency keys: requests still without a 202 when the load stopped. */
  readonly gaveUp: Attempt[] = [];
  /** With idempotency keys: every request id a key was answered with (exactly one is right). */
  readonly idsByKey = new Map<string, Set<string>>();
  private running = false;
  private loops: Promise<void>[] = [];
  private counter = 0;
  private attemptCount = 0;

  constructor(
    private readonly intakeUrl: () => string,
    private readonly options: {
      concurrency: number;
      pathsPerRequest: number;
      prefix: string;
      pauseMs: number;
      idempotencyKeys?: boolean;
    },
  ) {}

  /** Distinct requests started. */
  get sent(): number {
    return this.counter;
  }

  /** POSTs made, retries included. */
  get attempts(): number {
    return this.attemptCount;
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i += 1) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const n = ++this.counter;
      const paths = Array.from(
        { length: this.options.pathsPerRequest },
        (_v, i) => `https://cdn.example.com/${this.options.prefix}/${n}/${i}.mp4`,
      );
      const key = this.options.idempotencyKeys ? `${this.options.prefix}-${n}` : undefined;
      // After stop(), a keyed request keeps retrying for a while: a careful caller does not give up at once.
      let stoppedAt = Number.POSITIVE_INFINITY;
      let last: Attempt | undefined;
      for (;;) {
        this.attemptCount += 1;
        const attempt = await postOnce(this.intakeUrl(), n, paths, key);
        if ('id' in attempt) {
          this.accepted.push(attempt);
          if (key) this.idsByKey.set(key, new Set([...(this.idsByKey.get(key) ?? []), attempt.id]));
          break;
        }
        this.failed.push(attempt);
        last = attempt;
        if (!key) break;
        if (!this.running && stoppedAt === Number.POSITIVE_INFINITY) stoppedAt = Date.now();
        if (Date.now() > stoppedAt + 15_000) {
          this.gaveUp.push(attempt);
          break;
        }
        await sleep(attempt.kind === 'refused' ? 50 : 100);
      }
      if (last?.kind === 'refused' && !key) await sleep(50);
      else if (this.options.pauseMs > 0) await sleep(this.options.pauseMs);
    }
  }
}

export async function postOnce(
  intakeUrl: string,
  n: number,
  paths: string[],
  idempotencyKey?: string,
): Promise<Accepted | Attempt> {
  const at = Date.now();
  try {
    const response = await fetch(`${intakeUrl}/v1/refreshes`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify({ paths }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: { id?: string; error?: { code?: string } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: reported as is
    }
    if (response.status === 202 && typeof body.id === 'string') return { id: body.id, paths, at: Date.now() };
    return {
      n,
      paths,
      at,
      kind: 'answered',
      status: response.status,
      ...(body.error?.code ? { code: body.error.code } : {}),
      detail: text.slice(0, 120),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? (error as { name?: string }).name ?? 'error';
    return {
      n,
      paths,
      at,
      kind: code === 'ECONNREFUSED' ? 'refused' : 'no answer',
      detail: `${code}${cause?.message ? `: ${cause.message}` : ''}`,
    };
  }
}

/** Counts of the attempts that got no 202, by kind and status/code. */
export function summarizeFailures(failed: readonly Attempt[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const attempt of failed) {
    const key = attempt.kind === 'answered' ? `${attempt.status} ${attempt.code ?? ''}`.trim() : attempt.kind;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
