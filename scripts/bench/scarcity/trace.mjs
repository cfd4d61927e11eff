// A CMS-like day for the scarcity bench, made from a seed: every run of one seed and scale is the
// same trace. The events are the webhooks a CMS fires (what the bench POSTs to intake); the first
// hook of each edit marks the moment the content changed, the others are the repeats save hooks
// fire within a second of it.

const ORIGIN = 'https://cdn.example.com';
const EPISODE_FILES = ['index.m3u8', 'poster.jpg', 'subtitles/en.vtt', 'subtitles/zh.vtt'];

/** mulberry32: a small, fast generator of floats in [0, 1), the same sequence for the same seed. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The day: a catalogue of series (`series/<s>/ep<e>/` folders of a few files each) and pages, the
 * day's budgets, and the hooks, sorted by time. Shapes: pages edited once; hot pages edited every
 * 3 to 6 s for a while; episodes re-published (playlist, sometimes the poster); bulk re-saves of a
 * whole series (every file, episode after episode); now and then a folder invalidated as a
 * Directory. Every save fires 2 to 4 hooks within a second. `scale` multiplies the budgets and
 * every count, not the duration; at every scale the distinct changed paths outnumber the URL
 * budget about twice.
 */
export function generateTrace({ seed = 1, scale = 1, durationMs = 60_000 } = {}) {
  if (!(scale > 0)) throw new Error(`scale must be a positive number, not ${scale}`);
  if (!(durationMs >= 10_000)) throw new Error(`durationMs must be at least 10000, not ${durationMs}`);
  const random = seededRandom(seed);
  const int = (low, high) => low + Math.floor(random() * (high - low + 1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const count = (base, least = 1) => Math.max(least, Math.round(base * scale));
  const within = (fraction) => Math.floor(random() * durationMs * fraction);
  const shuffle = (list) => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  };

  const series = Array.from({ length: count(12, 3) }, (_, s) => {
    const folder = `${ORIGIN}/series/${s + 1}/`;
    const episodes = Array.from({ length: int(10, 30) }, (_, e) => `${folder}ep${e + 1}/`);
    return { folder, episodes };
  });
  const pages = Array.from({ length: count(1000, 20) }, (_, n) => `${ORIGIN}/pages/${n + 1}.html`);
  const catalogue = [
    ...series.flatMap(({ episodes }) => episodes.flatMap((episode) => EPISODE_FILES.map((f) => episode + f))),
    ...pages,
  ];

  const edits = [];
  const edit = (kind, atMs, paths, objectType = 'File') => edits.push({ kind, atMs, paths, objectType });

  const shuffled = shuffle(pages);
  const hot = shuffled.slice(0, count(4));
  for (const page of shuffled.slice(hot.length, hot.length + count(220))) edit('page', within(0.95), [page]);
  for (const page of hot) {
    const start = within(0.4);
    const end = Math.min(durationMs - 2000, start + int(25_000, 45_000));
    for (let at = start; at <= end; at += int(3000, 6000)) edit('hot page', at, [page]);
  }
  for (let i = 0; i < count(70); i += 1) {
    const episode = pick(pick(series).episodes);
    edit(
      'episode',
      within(0.95),
      random() < 0.5 ? [`${episode}index.m3u8`, `${episode}poster.jpg`] : [`${episode}index.m3u8`],
    );
  }
  const resaved = shuffle(series).slice(0, count(2));
  for (const { episodes } of resaved) {
    const start = Math.floor(durationMs * (0.1 + 0.5 * random()));
    episodes.forEach((episode, e) => {
      edit(
        'bulk re-save',
        start + e * 150,
        EPISODE_FILES.map((f) => episode + f),
      );
    });
  }
  for (let i = 0; i < count(3); i += 1) {
    const { folder, episodes } = pick(series);
    edit('folder', within(0.9), [i === 0 ? folder : pick(episodes)], 'Directory');
  }

  const events = [];
  edits.forEach(({ kind, atMs, paths, objectType }, edit) => {
    const hooks = objectType === 'Directory' ? 1 : int(2, 4);
    for (let h = 0; h < hooks; h += 1)
      events.push({
        atMs: h === 0 ? atMs : atMs + int(50, 1000),
        objectType,
        paths,
        kind,
        edit,
        change: h === 0,
      });
  });
  events.sort((a, b) => a.atMs - b.atMs);
  return {
    settings: { seed, scale, durationMs },
    budget: { urls: count(300, 10), dirs: count(15, 2) },
    catalogue,
    events,
  };
}

/**
 * When each path changed: path → times (ms, ascending). A Directory event changes every
 * catalogue file under its folder. `timeOf(event, index)` gives an event's time; by default its
 * offset in the trace, in a replay the moment its hook was sent.
 */
export function changeTimes(trace, timeOf = (event) => event.atMs) {
  const times = new Map();
  const note = (path, atMs) => {
    const list = times.get(path);
    if (list) list.push(atMs);
    else times.set(path, [atMs]);
  };
  trace.events.forEach((event, index) => {
    if (!event.change) return;
    const atMs = timeOf(event, index);
    for (const path of event.paths) {
      if (event.objectType === 'Directory') {
        for (const file of trace.catalogue) if (file.startsWith(path)) note(file, atMs);
      } else note(path, atMs);
    }
  });
  for (const list of times.values()) list.sort((a, b) => a - b);
  return times;
}

/** The folders the trace itself asks to refresh as directories. */
export function requestedDirectories(trace) {
  return new Set(trace.events.filter((e) => e.objectType === 'Directory').flatMap((e) => e.paths));
}

/** The trace's shape in numbers, for the result and BENCHMARKS.md. */
export function describeTrace(trace) {
  const byKind = {};
  for (const event of trace.events) {
    byKind[event.kind] ??= { edits: 0, hooks: 0 };
    byKind[event.kind].hooks += 1;
    if (event.change) byKind[event.kind].edits += 1;
  }
  const changed = changeTimes(trace).size;
  return {
    hooks: trace.events.length,
    edits: trace.events.filter((e) => e.change).length,
    byKind,
    catalogueObjects: trace.catalogue.length,
    distinctChangedPaths: changed,
    changedPerUrlUnit: Number((changed / trace.budget.urls).toFixed(2)),
    lastHookAtMs: trace.events.at(-1)?.atMs ?? 0,
  };
}
