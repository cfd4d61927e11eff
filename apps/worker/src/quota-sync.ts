import { accountErrorFix } from '@refreshq/domain';
import type { QuotaGovernor } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { UpstreamError, type VodClient } from '@refreshq/vod-client';
import { Periodic } from './periodic.js';

/**
 * Reads DescribeVodRefreshQuota at start, every `intervalMs`, and soon after any quota error, and
 * folds it into the governor (URL, directory and preload budgets), so quota spent by other tools
 * on the same account is respected.
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

  /** The first sync is also the start's check that the worker may call the VOD API at all. */
  async start(): Promise<void> {
    await this.syncOnce(true);
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

  async syncOnce(atStart = false): Promise<boolean> {
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
      // The preload budget is its own (PreloadQuota/PreloadRemain); an answer without it keeps the configured one.
      const preloadsUsed =
        Number.isFinite(quota.preloadQuota) && Number.isFinite(quota.preloadRemain)
          ? await this.governor.sync('Preload', quota.preloadQuota, quota.preloadRemain)
          : undefined;
      this.logger.info(
        {
          urlQuota: quota.urlQuota,
          urlsUsed,
          dirQuota: quota.dirQuota,
          dirsUsed,
          preloadQuota: quota.preloadQuota,
          preloadsUsed,
        },
        atStart
          ? 'start check passed: the worker may call DescribeVodRefreshQuota; quota synced'
          : 'quota synced from DescribeVodRefreshQuota',
      );
      return true;
    } catch (error) {
      const fix = error instanceof UpstreamError ? accountErrorFix(error.code) : undefined;
      if (fix && error instanceof UpstreamError) {
        this.logger.error(
          { err: error, code: error.code, action: 'DescribeVodRefreshQuota', fix },
          `${atStart ? 'start check: ' : ''}the worker may not call DescribeVodRefreshQuota (${error.code}). To fix: ${fix}. Until then the quota is not synced (the configured budgets apply)`,
        );
        return false;
      }
      this.logger.warn({ err: error }, 'DescribeVodRefreshQuota failed; keeping the budgets as they are');
      return false;
    }
  }
}
