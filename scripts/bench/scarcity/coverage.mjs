// What a replay achieved, from the upstream's log of accepted submissions alone: which changed
// paths were refreshed at or after their last change, and where the units went.

const isDirectory = (objectType) => objectType === 'Directory' || objectType === 'Regex';

/** Every submitted line as one unit, in the order the upstream accepted them. */
function unitsOf(submissions) {
  return [...submissions]
    .sort((a, b) => a.atMs - b.atMs)
    .flatMap((s) => s.paths.map((path) => ({ atMs: s.atMs, directory: isDirectory(s.objectType), path })));
}

/** A File unit refreshes its exact path, a Directory unit every path under it. */
const refreshes = (unit, path) => (unit.directory ? path.startsWith(unit.path) : unit.path === path);

const round = (n, digits = 3) => Number(n.toFixed(digits));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * `changes`: path → change times (ascending, same clock as the submissions' atMs);
 * `submissions`: the upstream's accepted submissions ({ atMs, objectType, paths });
 * `requested`: the folders the trace itself asked for as directories;
 * `catalogue`: every object that exists (to count what folders swept along without a change).
 *
 * A unit is a repeat when an earlier unit already refreshed its path (for a directory: the same
 * or an enclosing folder); a repeat is needless when nothing it refreshes changed since then.
 */
export function measureRun({ changes, submissions, requested, catalogue = [] }) {
  const units = unitsOf(submissions);
  const changedPaths = [...changes.keys()];
  const changedSince = (path, afterMs, untilMs) =>
    (changes.get(path) ?? []).some((at) => at > afterMs && at <= untilMs);

  let covered = 0;
  const staleness = [];
  for (const path of changedPaths) {
    const last = changes.get(path).at(-1);
    const first = units.find((unit) => unit.atMs >= last && refreshes(unit, path));
    if (first) {
      covered += 1;
      staleness.push(first.atMs - last);
    }
  }
  staleness.sort((a, b) => a - b);

  const tally = { urlUnits: 0, dirUnits: 0, urlRepeats: 0, urlNeedless: 0, dirRepeats: 0, dirNeedless: 0 };
  const promoted = new Set();
  let promotedUnits = 0;
  units.forEach((unit, index) => {
    const earlier = units.slice(0, index);
    if (unit.directory) {
      tally.dirUnits += 1;
      if (!requested.has(unit.path)) {
        promotedUnits += 1;
        promoted.add(unit.path);
      }
      const before = earlier.filter((e) => e.directory && unit.path.startsWith(e.path)).at(-1);
      if (before) {
        tally.dirRepeats += 1;
        const under = changedPaths.filter((path) => path.startsWith(unit.path));
        if (!under.some((path) => changedSince(path, before.atMs, unit.atMs))) tally.dirNeedless += 1;
      }
    } else {
      tally.urlUnits += 1;
      const before = earlier.filter((e) => refreshes(e, unit.path)).at(-1);
      if (before) {
        tally.urlRepeats += 1;
        if (!changedSince(unit.path, before.atMs, unit.atMs)) tally.urlNeedless += 1;
      }
    }
  });

  const folders = units.filter((u) => u.directory).map((u) => u.path);
  const sweptUnchanged = catalogue.filter(
    (path) => !changes.has(path) && folders.some((folder) => path.startsWith(folder)),
  ).length;
  const total = changedPaths.length;
  return {
    changedPaths: total,
    covered,
    coverage: total === 0 ? 1 : round(covered / total),
    ...tally,
    urlRepeatShare: tally.urlUnits === 0 ? 0 : round(tally.urlRepeats / tally.urlUnits),
    promotedUnits,
    promotedFolders: [...promoted].sort(),
    sweptUnchanged,
    stalenessMs: {
      p50: percentile(staleness, 50),
      p95: percentile(staleness, 95),
      max: staleness.at(-1) ?? null,
    },
    lastSubmissionAtMs: units.at(-1)?.atMs ?? null,
  };
}

/** When the units of one kind (`url` or `directory`) reached `budget`, or null if they never did. */
export function budgetSpentAt(submissions, kind, budget) {
  const ofKind = unitsOf(submissions).filter((unit) => unit.directory === (kind === 'directory'));
  return ofKind.length >= budget && budget > 0 ? ofKind[budget - 1].atMs : null;
}

/** RefreshVodObjectCaches answers other than OK, by code, from the upstream's call counts. */
export function refusalsOf(counts) {
  const byCode = Object.fromEntries(
    Object.entries(counts.calls?.RefreshVodObjectCaches ?? {}).filter(([code]) => code !== 'OK'),
  );
  return { total: Object.values(byCode).reduce((sum, n) => sum + n, 0), byCode };
}
