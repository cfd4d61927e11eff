import { createHmac } from 'node:crypto';
import { backoffDelay } from '@refreshq/domain';
import { storedRequestView, type CallbackStore, type RequestStore } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { Periodic } from './periodic.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface CallbackSettings {
  /** HMAC-SHA256 key; callbacks go unsigned (with a warning at start) when absent. */
  secret?: string;
  timeoutMs: number;
  maxAttempts: number;
  everyMs: number;
  leaseMs: number;
  backoff: { baseMs: number; maxMs: number };
}

/** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as the X-Refreshq-Signature header carries it. */
export function signCallback(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs a request's final status to its callbackUrl once every path has ended, signed, retried
 * with backoff, in its own loop: a slow or failing receiver never holds up submitting.
 */
export class CallbackSender {
  private readonly loop: Periodic;

  constructor(
    private readonly callbacks: CallbackStore,
    private readonly requests: RequestStore,
    private readonly settings: CallbackSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {
    this.loop = new Periodic(settings.everyMs, () => this.tick());
  }

  start(): void {
    if (!this.settings.secret)
      this.logger.warn('CALLBACK_SIGNING_SECRET is not set: completion callbacks are sent unsigned');
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  async tick(): Promise<void> {
    try {
      const due = await this.callbacks.claimDue(10, this.settings.leaseMs);
      await Promise.all(due.map((requestId) => this.send(requestId)));
    } catch (error) {
      this.logger.warn({ err: error }, 'callback step failed; callbacks stay due');
    }
  }

  private async send(requestId: string): Promise<void> {
    const stored = await this.requests.read(requestId);
    const url = stored?.meta.callbackUrl;
    if (!stored || !url) {
      await this.callbacks.forget(requestId);
      return;
    }
    const record = await this.callbacks.record(requestId);
    const attempts = record.attempts + 1;
    const body = JSON.stringify(storedRequestView(stored));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'refreshq-callback/1',
      'x-refreshq-request-id': requestId,
      'x-refreshq-timestamp': timestamp,
      'x-refreshq-attempt': String(attempts),
    };
    if (this.settings.secret)
      headers['x-refreshq-signature'] = signCallback(this.settings.secret, timestamp, body);
    let status = 0;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      this.logger.info({ requestId, attempt: attempts, err: error }, 'callback not delivered');
    }
    const at = Date.now();
    if (status >= 200 && status < 300) {
      await this.callbacks.finish(requestId, { state: 'delivered', attempts, lastStatus: status, at });
      this.metrics.callbacks.inc({ result: 'delivered' });
      return;
    }
    if (attempts >= this.settings.maxAttempts) {
      await this.callbacks.finish(requestId, { state: 'failed', attempts, lastStatus: status, at });
      this.metrics.callbacks.inc({ result: 'failed' });
      this.logger.warn({ requestId, attempts, lastStatus: status }, 'callback given up');
      return;
    }
    const delay = Math.max(this.settings.backoff.baseMs, backoffDelay(attempts, this.settings.backoff));
    await this.callbacks.retryLater(requestId, { state: 'pending', attempts, lastStatus: status, at }, delay);
    this.metrics.callbacks.inc({ result: 'retried' });
  }
}
