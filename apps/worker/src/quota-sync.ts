import type { QuotaGovernor } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { VodClient } from '@refreshq/vod-client';
import { Periodic } from './periodic.js';

/**
 * Reads DescribeVodRefreshQuota at start, every `intervalMs`, and soon after any quota error, and
 * folds it into the governor, so quota spent by other tools on the same account is respected.
 */
export class QuotaSync {
  private readonly loop: Periodic;
  private soon: NodeJS.Timeout | undefined;

  constructor(
    private readonly vod: VodClient,
    private readonly governor: QuotaGovernor,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.loop = new Periodic(intervalMs, () => this.syncOnce());
  }

  async start(): Promise<void> {
    await this.syncOnce();
    if (this.intervalMs > 0) this.loop.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.soon);
    await this.loop.stop();
  }

  /** After a quota error: one sync within a few seconds (coalesced). */
  requestSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.syncOnce();
    }, 2000);
    this.soon.unref();
  }

  async syncOnce(): Promise<boolean> {
    try {
      const quota = await this.vod.describeRefreshQuota();
      if (![quota.urlQuota, quota.urlRemain, quota.dirQuota, quota.dirRemain].every(Number.isFinite)) {
        this.logger.warn(
          'DescribeVodRefreshQuota answered without usable numbers; keeping the configured budgets',
        );
        return false;
      }
      const urlsUsed = await this.governor.sync('File', quota.urlQuota, quota.urlRemain);
      const dirsUsed = await this.governor.sync('Directory', quota.dirQuota, quota.dirRemain);
      this.logger.info(
        { urlQuota: quota.urlQuota, urlsUsed, dirQuota: quota.dirQuota, dirsUsed },
        'quota synced from DescribeVodRefreshQuota',
      );
      return true;
    } catch (error) {
      this.logger.warn({ err: error }, 'DescribeVodRefreshQuota failed; keeping the budgets as they are');
      return false;
    }
  }
}
