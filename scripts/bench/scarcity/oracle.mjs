// The bound a planner that knew the whole day in advance could reach with the same budgets: it
// refreshes once, after the last change, some folders (a directory unit each, never a domain
// root) and single files (a URL unit each) among the changed paths the folders leave.

/** The folders that hold a path, below its host: `https://h/a/b/c.txt` → `https://h/a/`, `https://h/a/b/`. */
export function foldersOf(path) {
  const bare = path.split('?', 1)[0];
  const rootEnd = bare.indexOf('/', bare.indexOf('://') + 3);
  if (rootEnd < 0) return [];
  const segments = bare
    .slice(rootEnd + 1)
    .split('/')
    .slice(0, -1);
  const folders = [];
  let prefix = bare.slice(0, rootEnd + 1);
  for (const segment of segments) folders.push((prefix += `${segment}/`));
  return folders;
}

/**
 * A plan's options by the number of folders it may use: options[k] lists plans of at most k
 * folders as { covered, swept, count, folders } where covered is capped at `enough`; only the
 * plans not beaten on both covered and swept are kept (more covered costs more swept), sorted by
 * covered, the one with fewer folders of equals.
 */
function frontier(candidates) {
  candidates.sort((a, b) => b.covered - a.covered || a.swept - b.swept || a.count - b.count);
  const kept = [];
  for (const plan of candidates) if (kept.length === 0 || plan.swept < kept.at(-1).swept) kept.push(plan);
  return kept.reverse();
}

function combine(left, right, enough) {
  return left.map((_, k) => {
    const candidates = k > 0 ? [...left[k - 1]] : [];
    for (let a = 0; a <= k; a += 1)
      for (const l of left[a])
        for (const r of right[k - a])
          candidates.push({
            covered: Math.min(enough, l.covered + r.covered),
            swept: l.swept + r.swept,
            count: l.count + r.count,
            folders:
              r.folders === null
                ? l.folders
                : l.folders === null
                  ? r.folders
                  : { left: l.folders, right: r.folders },
          });
    return frontier(candidates);
  });
}

function listFolders(tree, out = []) {
  if (tree === null) return out;
  if (typeof tree === 'string') out.push(tree);
  else {
    listFolders(tree.left, out);
    listFolders(tree.right, out);
  }
  return out;
}

/**
 * Exact for this model. Folders nest (a tree), so the plans are built bottom up, a knapsack over
 * the tree: a folder either is refreshed whole or leaves the choice to its sub-folders. The
 * best plan covers the most changed paths (folders, then the URL units on the rest); among
 * those, the one whose folders sweep along the fewest catalogue objects that never changed (the
 * revalidations a folder refresh costs the origin); then the one with fewer folders.
 */
export function oracleBound({ changed, catalogue = [], urls, dirs }) {
  const changedSet = new Set(changed);
  const total = changedSet.size;
  // Folders need only cover what the URL units cannot: beyond that, covering more adds nothing.
  const enough = Math.max(0, total - urls);
  const nodes = new Map();
  const roots = new Set();
  for (const path of changedSet) {
    let parent;
    for (const folder of foldersOf(path)) {
      let node = nodes.get(folder);
      if (!node) nodes.set(folder, (node = { changed: 0, swept: 0, children: new Set() }));
      node.changed += 1;
      if (parent) parent.children.add(folder);
      else roots.add(folder);
      parent = node;
    }
  }
  for (const path of catalogue)
    if (!changedSet.has(path))
      for (const folder of foldersOf(path)) {
        const node = nodes.get(folder);
        if (node) node.swept += 1;
      }

  const empty = Array.from({ length: dirs + 1 }, () => [{ covered: 0, swept: 0, count: 0, folders: null }]);
  const solve = (folder) => {
    const node = nodes.get(folder);
    const below = [...node.children].sort().reduce((acc, child) => combine(acc, solve(child), enough), empty);
    const whole = { covered: Math.min(enough, node.changed), swept: node.swept, count: 1, folders: folder };
    return below.map((plans, k) => (k === 0 ? plans : frontier([...plans, whole])));
  };
  const options = [...roots].sort().reduce((acc, root) => combine(acc, solve(root), enough), empty)[dirs];
  const best = options.at(-1);
  const folders = listFolders(best.folders).sort();
  const coveredByFolders = [...changedSet].filter((path) => folders.some((f) => path.startsWith(f))).length;
  const urlUnits = Math.min(urls, total - coveredByFolders);
  const share = (n) => (total === 0 ? 1 : Number((n / total).toFixed(3)));
  return {
    changedPaths: total,
    folders,
    dirUnits: folders.length,
    coveredByFolders,
    urlUnits,
    covered: coveredByFolders + urlUnits,
    coverage: share(coveredByFolders + urlUnits),
    sweptUnchanged: best.swept,
    /** The same planner with no directory unit: every URL unit a first refresh after the last change. */
    urlsOnlyCoverage: share(Math.min(urls, total)),
  };
}
