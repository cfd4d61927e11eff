import type { ObjectType } from './refresh-types.js';

/**
 * The policy for a scarce day (issue #11), as plain functions: when the service is under
 * pressure, how long a hot path waits for its burst to end, and which directories to refresh
 * instead of the files under them. The Lua steps apply the per-path parts atomically; see
 * docs/scarcity.md for the whole policy and its numbers.
 */

/** `fifo`: first come, first served, as before #11. `spend-well`: the policy of this file. */
export const SCARCITY_POLICIES = ['spend-well', 'fifo'] as const;
export type ScarcityPolicy = (typeof SCARCITY_POLICIES)[number];

export interface TypeSupplyDemand {
  /** Units pending now (every lane). */
  demand: number;
  /** Units the day can still grant. */
  supply: number;
}

/** Under pressure when today's demand exceeds today's supply: not everything can go today. */
export function underPressure({ demand, supply }: TypeSupplyDemand): boolean {
  return demand > supply;
}

/** How fast new paths of a type arrive: an exponentially weighted rate over a counter. */
export interface ArrivalRate {
  /** New paths per second. */
  perSecond: number;
  count: number;
  at: number;
}

/**
 * Folds the arrivals counter read at `now` into the rate, weighting the past by
 * exp(-elapsed / halfLifeMs · ln 2): a burst raises the rate at once and fades within a few
 * half-lives. The first reading only starts the count.
 */
export function updateArrivalRate(
  previous: ArrivalRate | undefined,
  count: number,
  now: number,
  halfLifeMs: number,
): ArrivalRate {
  if (!previous || count < previous.count || now <= previous.at)
    return { perSecond: previous?.perSecond ?? 0, count, at: now };
  const elapsed = now - previous.at;
  const observed = ((count - previous.count) * 1000) / elapsed;
  const keep = Math.exp((-elapsed * Math.LN2) / Math.max(1, halfLifeMs));
  return { perSecond: keep * previous.perSecond + (1 - keep) * observed, count, at: now };
}

/**
 * Today's demand: what is pending now, plus what keeps arriving at the present rate over the
 * horizon (at most what is left of the quota day). Pressure is then seen while there is still
 * budget to steer, not only once it is gone.
 */
export function projectedDemand(pending: number, rate: number, horizonMs: number): number {
  return pending + Math.max(0, rate) * (Math.max(0, horizonMs) / 1000);
}

export type Pressure = Record<ObjectType, boolean>;

export interface HotPathSettings {
  /** The quiet time every path gets (COALESCE_QUIET_MS). */
  baseQuietMs: number;
  /** A hot path never needs more silence than this (HOT_PATH_MAX_QUIET_MS). */
  maxQuietMs: number;
}

/**
 * How long a path must have been quiet before it goes, under pressure: twice the mean gap
 * between the requests seen for it while pending, within [base, max]. A page saved every 20 s
 * goes 40 s after its last save, so one unit covers the whole burst; a path asked for once
 * waits only the base. Without pressure every path gets the base (latency first).
 */
export function requiredQuietMs(
  hit: { hits: number; queuedAt: number; lastSeenAt: number },
  settings: HotPathSettings,
): number {
  if (hit.hits <= 1) return settings.baseQuietMs;
  const meanGap = Math.max(0, hit.lastSeenAt - hit.queuedAt) / (hit.hits - 1);
  return Math.min(settings.maxQuietMs, Math.max(settings.baseQuietMs, Math.round(2 * meanGap)));
}

export interface PromotionRules {
  /** A directory must cover at least this many pending files to be worth a directory unit. */
  minFiles: number;
  /** Path segments below the host: 1 = `https://host/a/`; 0 would allow the domain root. */
  minDepth: number;
  maxDepth: number;
  /** When non-empty, only directories matching one of these may be promoted. */
  allow: readonly RegExp[];
  /** Directories matching any of these are never promoted, nor is any directory above them. */
  deny: readonly RegExp[];
}

export interface Promotion {
  directory: string;
  /** Pending files it covers (not covered by an earlier pick). */
  files: number;
}

/** The directories that hold a file (its ancestors), deepest first, within the depth rules. */
export function ancestorDirectories(
  path: string,
  rules: Pick<PromotionRules, 'minDepth' | 'maxDepth'>,
): string[] {
  const bare = path.split('?')[0] ?? path;
  const schemeEnd = bare.indexOf('://');
  if (schemeEnd < 0) return [];
  const rootEnd = bare.indexOf('/', schemeEnd + 3);
  if (rootEnd < 0) return [];
  const root = bare.slice(0, rootEnd + 1);
  const segments = bare.slice(rootEnd + 1).split('/');
  segments.pop(); // the file's own name
  const dirs: string[] = [];
  let prefix = root;
  for (let depth = 0; depth <= segments.length; depth += 1) {
    if (depth > 0) prefix += `${segments[depth - 1]}/`;
    if (depth >= rules.minDepth && depth <= rules.maxDepth) dirs.push(prefix);
  }
  return dirs.reverse();
}

const depthOf = (dir: string) => dir.split('/').length - 4;

/**
 * Chooses directories to refresh instead of the pending files under them, when those files
 * cost more URL units than the day can spare (`urlSupply`) and `directoryRoom` directory units
 * are free. Each pick is the deepest directory (the least unchanged content made to revalidate)
 * that covers enough: all the files still in excess, or at least half of what the broadest
 * candidate would cover — so a unit goes where it covers the most, give or take a factor of two
 * traded for depth. Picks never nest, each covers at least minFiles, and they stop once the files
 * left fit the URL supply.
 */
export function choosePromotions(
  pendingFiles: readonly string[],
  budget: { urlSupply: number; directoryRoom: number },
  rules: PromotionRules,
): Promotion[] {
  let excess = pendingFiles.length - Math.max(0, budget.urlSupply);
  let room = Math.max(0, Math.floor(budget.directoryRoom));
  if (excess <= 0 || room <= 0) return [];

  const allowed = (dir: string) =>
    rules.allow.length === 0 || rules.allow.some((pattern) => pattern.test(dir));
  const denied = (dir: string) => rules.deny.some((pattern) => pattern.test(dir));
  const filesUnder = new Map<string, string[]>();
  // A denied directory is never refreshed by a promotion, not even through a directory above it.
  const tainted = new Set<string>();
  for (const file of new Set(pendingFiles)) {
    let below = false;
    for (const dir of ancestorDirectories(file, { minDepth: 0, maxDepth: Number.POSITIVE_INFINITY })) {
      below ||= denied(dir);
      if (below) tainted.add(dir);
      const depth = depthOf(dir);
      if (below || !allowed(dir) || depth < rules.minDepth || depth > rules.maxDepth) continue;
      const list = filesUnder.get(dir);
      if (list) list.push(file);
      else filesUnder.set(dir, [file]);
    }
  }
  for (const dir of tainted) filesUnder.delete(dir);
  const covered = new Set<string>();
  const gain = (dir: string) => (filesUnder.get(dir) ?? []).filter((file) => !covered.has(file)).length;
  const picks: Promotion[] = [];
  while (excess > 0 && room > 0) {
    const candidates: Promotion[] = [];
    for (const dir of filesUnder.keys()) {
      if (picks.some((pick) => dir.startsWith(pick.directory) || pick.directory.startsWith(dir))) continue;
      const files = gain(dir);
      if (files >= rules.minFiles) candidates.push({ directory: dir, files });
    }
    if (candidates.length === 0) break;
    const best = Math.max(...candidates.map((candidate) => candidate.files));
    const enough = Math.max(rules.minFiles, Math.min(excess, Math.ceil(best / 2)));
    let pick: Promotion | undefined;
    for (const candidate of candidates) {
      if (candidate.files >= enough && (!pick || deeper(candidate, pick))) pick = candidate;
    }
    if (!pick) break;
    picks.push(pick);
    for (const file of filesUnder.get(pick.directory) ?? []) covered.add(file);
    // A directory unit replaces `files` URL units; the one unit it costs is a directory's.
    excess -= pick.files;
    room -= 1;
  }
  return picks;
}

/** Deeper first, then the one covering more, then by name (a stable choice). */
function deeper(a: Promotion, b: Promotion): boolean {
  const depth = depthOf(a.directory) - depthOf(b.directory);
  if (depth !== 0) return depth > 0;
  if (a.files !== b.files) return a.files > b.files;
  return a.directory < b.directory;
}

/** Compiles `*`-globs (the only wildcard) of PROMOTION_ALLOW / PROMOTION_DENY into anchored patterns. */
export function globPattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
