// Summarises a V8 .cpuprofile (node --cpu-prof): where the samples fell, by function (self
// time), by package or file, and the inclusive time of chosen frames. Used by the intake
// bench (BENCH_PROFILE=1); also runnable alone: node scripts/bench/cpu-profile.mjs <file> [top].
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** node_modules/.pnpm/<pkg>@<v>/... → <pkg>@<v>; the repo's own files by their path from apps/ or packages/. */
function origin(url) {
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\/node_modules\//.exec(url);
  if (pnpm) return pnpm[1];
  const own = /\/((?:apps|packages)\/.*)$/.exec(url);
  if (own) return own[1];
  return url.replace(/^node:/, '') || '(native)';
}

export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node) =>
    `${node.callFrame.functionName || '(anonymous)'} ${origin(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const selfTime = new Map();
  const byOrigin = new Map();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    const node = nodes.get(id);
    const name = label(node);
    selfTime.set(name, (selfTime.get(name) ?? 0) + delta);
    const where = node.callFrame.url ? origin(node.callFrame.url).split('/').slice(0, 2).join('/') : name;
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + delta);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = label(nodes.get(cur));
      if (seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + delta);
    }
  });
  const rank = (map, count) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, time]) => ({ percent: Number(((100 * time) / total).toFixed(1)), name }));
  return {
    sampledSeconds: Number((total / 1e6).toFixed(1)),
    idlePercent: Number(((100 * (selfTime.get('(idle) (native):0') ?? 0)) / total).toFixed(1)),
    selfTime: rank(selfTime, top),
    byOrigin: rank(byOrigin, top),
    inclusiveOwnCode: rank(
      new Map(
        [...inclusive].filter(([name]) => / (apps|packages)\//.test(name) || / bullmq@| ioredis@/.test(name)),
      ),
      top,
    ),
  };
}

export function printProfile(summary, title) {
  const lines = [`${title}: ${summary.sampledSeconds} s sampled, ${summary.idlePercent}% idle`];
  for (const [heading, rows] of [
    ['self time by function', summary.selfTime],
    ['self time by package / file', summary.byOrigin],
    ['inclusive time, refreshq code, BullMQ and ioredis', summary.inclusiveOwnCode],
  ]) {
    lines.push(`  -- ${heading}`);
    for (const row of rows) lines.push(`  ${String(row.percent).padStart(5)}%  ${row.name}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: node scripts/bench/cpu-profile.mjs <file.cpuprofile> [top]');
  console.log(printProfile(summarizeProfile(file, Number(top ?? 25)), file));
}
