import { randomUUID } from 'node:crypto';
import {
  choosePromotions,
  domainOf,
  globPattern,
  type PromotionRules,
  quotaDayIndex,
  underPressure,
} from '@refreshq/domain';
import type { PendingPool, PoolSettings, QuotaGovernor } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import { Periodic } from './periodic.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface PromoterSettings {
  everyMs: number;
  rules: PromotionRules;
  directoriesPerDay: number;
  utcOffsetMinutes: number;
  pool: PoolSettings;
}

/** PROMOTION_* settings as rules (globs compiled once). */
export function promotionRules(env: {
  PROMOTION_MIN_FILES: number;
  PROMOTION_MIN_DEPTH: number;
  PROMOTION_MAX_DEPTH: number;
  PROMOTION_ALLOW: readonly string[];
  PROMOTION_DENY: readonly string[];
}): PromotionRules {
  return {
    minFiles: env.PROMOTION_MIN_FILES,
    minDepth: env.PROMOTION_MIN_DEPTH,
    maxDepth: env.PROMOTION_MAX_DEPTH,
    allow: env.PROMOTION_ALLOW.map(globPattern),
    deny: env.PROMOTION_DENY.map(globPattern),
  };
}

/**
 * Budget-aware directory promotion (docs/scarcity.md): while the pending files cost more URL
 * units than today can grant and a directory unit is free, refresh the directories that cover
 * them instead. The choice is the domain's (choosePromotions, over what is pending now); each
 * promotion is one atomic step that re-checks the directory budget, so any number of workers
 * can run this side by side without spending a unit twice.
 */
export class DirectoryPromoter {
  private readonly loop: Periodic;
  private readonly holder = randomUUID();

  constructor(
    private readonly pool: PendingPool,
    private readonly governor: QuotaGovernor,
    private readonly settings: PromoterSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {
    this.loop = new Periodic(settings.everyMs, () => this.round());
  }

  /** Runs `once` when this round is this promoter's (another worker's promoter may have it). */
  private async round(): Promise<void> {
    try {
      // A little shorter than the period, so the turn is free again at the holder's next tick.
      const ms = Math.max(1, Math.floor(this.settings.everyMs * 0.9));
      if (!(await this.pool.takePromotionTurn(this.holder, ms))) return;
    } catch (error) {
      this.logger.warn({ err: error }, 'directory promotion could not take its turn; trying next round');
      return;
    }
    await this.once();
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One round: returns the directories promoted. */
  async once(): Promise<string[]> {
    try {
      const [state, backlog] = await Promise.all([this.governor.state(), this.pool.backlog()]);
      const files = state.byType.File;
      const dirs = state.byType.Directory;
      const pendingFiles = backlog.File.high + backlog.File.normal + backlog.File.low;
      const pendingDirs = backlog.Directory.high + backlog.Directory.normal + backlog.Directory.low;
      const urlSupply = Math.max(0, files.dayBudget - files.dayUsed);
      const directoryRoom = dirs.dayBudget - dirs.dayUsed - pendingDirs;
      if (!underPressure({ demand: pendingFiles, supply: urlSupply }) || directoryRoom <= 0) return [];

      const day = quotaDayIndex(state.now, this.settings.utcOffsetMinutes);
      const pending = (await this.pool.pendingFiles()).map((file) => file.path);
      // A unit goes to first refreshes before repeats too: files refreshed today count only
      // when nothing else is pending.
      const refreshed = await this.pool.refreshedOn('File', day, pending);
      const firsts = pending.filter((_path, index) => !refreshed[index]);
      const picks = choosePromotions(
        firsts.length > 0 ? firsts : pending,
        { urlSupply, directoryRoom },
        this.settings.rules,
      );
      const promoted: string[] = [];
      for (const pick of picks) {
        const reason = `promoted: ${pick.files} pending files under it while today's URL budget could spare ${urlSupply} for ${pendingFiles}`;
        const result = await this.pool.promote(
          pick.directory,
          domainOf(pick.directory),
          {
            day,
            directoriesPerDay: this.settings.directoriesPerDay,
            minFiles: this.settings.rules.minFiles,
            reason,
          },
          this.settings.pool,
        );
        this.metrics.directoriesPromoted.inc({
          result: result.promoted ? 'promoted' : result.why.replaceAll('-', '_'),
        });
        if (!result.promoted) continue;
        this.metrics.filesPromoted.inc(result.files);
        promoted.push(pick.directory);
        this.logger.info({ directory: pick.directory, files: result.files, urlSupply }, 'directory promoted');
      }
      return promoted;
    } catch (error) {
      this.logger.warn({ err: error }, 'directory promotion step failed; files stay pending as files');
      return [];
    }
  }
}
