import { createHmac } from 'node:crypto';
import { backoffDelay, type OutboundPolicy } from '@refreshq/domain';
import { storedRequestView, type CallbackStore, type RequestStore } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { LeaseHeartbeat } from './lease-heartbeat.js';
import { Periodic } from './periodic.js';
import { OutboundRefused, postOutbound, type Resolve } from './outbound-post.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface CallbackSettings {
  /** HMAC-SHA256 key; callbacks go unsigned (with a warning at start) when absent. */
  secret?: string;
  timeoutMs: number;
  maxAttempts: number;
  everyMs: number;
  /** Lease of the callbacks claimed, renewed by a heartbeat while this worker sends them. */
  leaseMs: number;
  backoff: { baseMs: number; maxMs: number };
  /** Where callbacks may go (CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_PRIVATE), judged again at send time. */
  policy: OutboundPolicy;
  /** Name resolution under the connect-time guard; the system's by default, a stub in tests. */
  resolve?: Resolve;
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
    if (this.settings.policy.allowPrivate)
      this.logger.warn('CALLBACK_ALLOW_PRIVATE=true: completion callbacks may reach inside addresses');
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  async tick(): Promise<void> {
    try {
      const due = await this.callbacks.claimDue(10, this.settings.leaseMs);
      // Callbacks in hand stay leased while they are sent; each leaves the set before its
      // result is written, so a renewal never overrides a retry time.
      const held = new Set(due);
      const heartbeat = new LeaseHeartbeat(
        this.settings.leaseMs,
        async () => {
          await this.callbacks.renew([...held], this.settings.leaseMs);
          return true;
        },
        (error) => this.logger.warn({ err: error }, 'renewing callback leases failed'),
      ).start();
      try {
        await Promise.all(due.map((requestId) => this.send(requestId, () => held.delete(requestId))));
      } finally {
        await heartbeat.stop();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'callback step failed; callbacks stay due');
    }
  }

  /** `release` runs right before the result is written (the lease is no longer renewed). */
  private async send(requestId: string, release: () => void): Promise<void> {
    const stored = await this.requests.read(requestId);
    const url = stored?.meta.callbackUrl;
    if (!stored || !url) {
      release();
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
      status = await postOutbound(
        { url, headers, body, timeoutMs: this.settings.timeoutMs },
        this.settings.policy,
        this.settings.resolve,
      );
    } catch (error) {
      if (error instanceof OutboundRefused) {
        // Policy, not a passing fault: no retry. The message names the host, never the path or query.
        release();
        await this.callbacks.finish(requestId, { state: 'failed', attempts, lastStatus: 0, at: Date.now() });
        this.metrics.callbacks.inc({ result: 'refused' });
        this.logger.warn(
          { requestId, refusal: error.message },
          'callback refused: the target is not allowed',
        );
        return;
      }
      this.logger.info({ requestId, attempt: attempts, err: error }, 'callback not delivered');
    }
    const at = Date.now();
    release();
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
