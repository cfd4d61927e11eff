// The pure parts of the scarcity bench (scripts/bench/scarcity/): the trace it replays, how a
// run is judged from the upstream's submissions, and the oracle's bound. No process, no Redis.
import { checkPath, parseUtcOffset } from '@refreshq/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetSpentAt, measureRun, refusalsOf } from '../scripts/bench/scarcity/coverage.mjs';
import { foldersOf, oracleBound } from '../scripts/bench/scarcity/oracle.mjs';
import { formatOffset, middayOffsetMinutes, quotaDayIndex } from '../scripts/bench/scarcity/quota-day.mjs';
import {
  changeTimes,
  describeTrace,
  generateTrace,
  requestedDirectories,
  type Trace,
  type TraceEvent,
} from '../scripts/bench/scarcity/trace.mjs';

describe('the trace', () => {
  it('is the same for the same seed and scale, and another for another seed', () => {
    expect(generateTrace({ seed: 7 })).toEqual(generateTrace({ seed: 7 }));
    expect(generateTrace({ seed: 8 }).events).not.toEqual(generateTrace({ seed: 7 }).events);
  });

  it.each([
    [1, 1],
    [2, 1],
    [3, 0.5],
    [4, 2],
  ])(
    'seed %i, scale %d: more distinct changed paths than 1.5x the URL budget, every shape present',
    (seed, scale) => {
      const trace = generateTrace({ seed, scale });
      const shape = describeTrace(trace);
      expect(shape.distinctChangedPaths).toBeGreaterThanOrEqual(1.5 * trace.budget.urls);
      expect(Object.keys(shape.byKind).sort()).toEqual([
        'bulk re-save',
        'episode',
        'folder',
        'hot page',
        'page',
      ]);
      expect(shape.byKind['hot page']!.edits).toBeGreaterThan(shape.byKind['hot page']!.hooks / 5);
      expect(trace.budget.dirs).toBeGreaterThanOrEqual(2);
    },
  );

  it('has timed hooks in order within the day, on paths intake keeps as they are', () => {
    const trace = generateTrace({ seed: 1, durationMs: 30_000 });
    const times = trace.events.map((e) => e.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(0);
    expect(times.at(-1)).toBeLessThanOrEqual(30_000);
    for (const event of trace.events)
      for (const path of event.paths) {
        const check = checkPath(path, { objectType: event.objectType });
        expect(check).toEqual({ ok: true, path, domain: 'cdn.example.com' });
      }
  });

  it('fires every save 2 to 4 times within a second, a folder invalidation once', () => {
    const edits = new Map<number, TraceEvent[]>();
    for (const event of generateTrace({ seed: 5 }).events)
      edits.set(event.edit, [...(edits.get(event.edit) ?? []), event]);
    for (const [first, ...repeats] of edits.values()) {
      expect(first!.change).toBe(true);
      expect(first!.objectType === 'Directory' ? [0] : [1, 2, 3]).toContain(repeats.length);
      for (const repeat of repeats) {
        expect(repeat).toMatchObject({ change: false, paths: first!.paths, objectType: first!.objectType });
        expect(repeat.atMs - first!.atMs).toBeGreaterThan(0);
        expect(repeat.atMs - first!.atMs).toBeLessThanOrEqual(1000);
      }
    }
  });

  it('turns a folder invalidation into a change of every catalogue file under it, at the hook time given', () => {
    const trace: Pick<Trace, 'catalogue' | 'events'> = {
      catalogue: ['https://h.example/a/1.js', 'https://h.example/a/b/2.js', 'https://h.example/c/3.js'],
      events: [
        {
          atMs: 0,
          objectType: 'File',
          paths: ['https://h.example/c/3.js'],
          kind: 'page',
          edit: 0,
          change: true,
        },
        {
          atMs: 5,
          objectType: 'File',
          paths: ['https://h.example/c/3.js'],
          kind: 'page',
          edit: 0,
          change: false,
        },
        {
          atMs: 10,
          objectType: 'Directory',
          paths: ['https://h.example/a/'],
          kind: 'folder',
          edit: 1,
          change: true,
        },
      ],
    };
    expect(changeTimes(trace)).toEqual(
      new Map([
        ['https://h.example/c/3.js', [0]],
        ['https://h.example/a/1.js', [10]],
        ['https://h.example/a/b/2.js', [10]],
      ]),
    );
    expect(changeTimes(trace, (_e, index) => 1000 + index).get('https://h.example/a/1.js')).toEqual([1002]);
    expect(requestedDirectories(trace)).toEqual(new Set(['https://h.example/a/']));
  });
});

describe('judging a run from the submissions', () => {
  const H = 'https://h.example';
  const changes = new Map([
    [`${H}/p/a.html`, [100]],
    [`${H}/p/b.html`, [100, 300]],
    [`${H}/s/1/x.ts`, [200]],
    [`${H}/s/1/y.ts`, [200]],
    [`${H}/p/late.html`, [900]],
  ]);
  const file = (atMs: number, ...paths: string[]) => ({
    atMs,
    objectType: 'File',
    paths: paths.map((p) => H + p),
  });
  const dir = (atMs: number, ...paths: string[]) => ({
    atMs,
    objectType: 'Directory',
    paths: paths.map((p) => H + p),
  });
  const submissions = [
    file(150, '/p/a.html', '/p/b.html'), // a fresh; b changes again at 300
    dir(200, '/s/1/'), // at the very moment x and y changed: counts
    file(350, '/p/b.html'), // a repeat, needed (b changed at 300)
    file(400, '/p/a.html', '/s/1/x.ts'), // two repeats, nothing changed since
    dir(500, '/s/1/'), // a repeat of a folder under which nothing changed since 200
    dir(600, '/s/'), // not asked for: promoted; encloses /s/1/ but is not a repeat of it
    file(800, '/p/late.html'), // before its change: does not count
  ];
  const measured = measureRun({
    changes,
    submissions,
    requested: new Set([`${H}/s/1/`]),
    catalogue: [...changes.keys(), `${H}/s/1/unchanged.ts`, `${H}/s/2/unchanged.ts`, `${H}/p/other.html`],
  });

  it('covers a path by a File of its own or a Directory above it, at or after its last change', () => {
    expect(measured).toMatchObject({ changedPaths: 5, covered: 4, coverage: 0.8 });
    expect(measured.stalenessMs).toEqual({ p50: 0, p95: 50, max: 50 });
  });

  it('counts units on paths already refreshed, and those where nothing changed since', () => {
    expect(measured).toMatchObject({
      urlUnits: 6,
      dirUnits: 3,
      urlRepeats: 3,
      urlNeedless: 2,
      urlRepeatShare: 0.5,
      dirRepeats: 1,
      dirNeedless: 1,
    });
  });

  it('counts folders the trace never asked for as promoted, and the unchanged objects folders swept', () => {
    expect(measured).toMatchObject({ promotedUnits: 1, promotedFolders: [`${H}/s/`], sweptUnchanged: 2 });
    expect(measured.lastSubmissionAtMs).toBe(800);
  });

  it('tells when the units of a kind reached the budget', () => {
    expect(budgetSpentAt(submissions, 'url', 5)).toBe(400);
    expect(budgetSpentAt(submissions, 'url', 6)).toBe(800);
    expect(budgetSpentAt(submissions, 'url', 7)).toBeNull();
    expect(budgetSpentAt(submissions, 'directory', 2)).toBe(500);
  });

  it('counts every RefreshVodObjectCaches answer but OK as a refusal', () => {
    expect(
      refusalsOf({
        calls: {
          RefreshVodObjectCaches: { OK: 5, 'QuotaExceeded.Refresh': 2, Throttling: 1 },
          DescribeVodRefreshTasks: { Throttling: 4 },
        },
      }),
    ).toEqual({ total: 3, byCode: { 'QuotaExceeded.Refresh': 2, Throttling: 1 } });
    expect(refusalsOf({ calls: {} })).toEqual({ total: 0, byCode: {} });
  });
});

describe('the oracle', () => {
  const H = 'https://h.example';

  it('names the folders of a path below its host, never the root', () => {
    expect(foldersOf(`${H}/a/b/c.txt?v=1/2`)).toEqual([`${H}/a/`, `${H}/a/b/`]);
    expect(foldersOf(`${H}/top.html`)).toEqual([]);
  });

  it('spends directory units where they cover most, URL units on the rest', () => {
    const changed = [
      ...['1', '2', '3'].map((n) => `${H}/s1/${n}.ts`),
      ...['1', '2'].map((n) => `${H}/s2/${n}.ts`),
      `${H}/page.html`,
    ];
    expect(oracleBound({ changed, urls: 1, dirs: 1 })).toMatchObject({
      folders: [`${H}/s1/`],
      covered: 4,
      coverage: 0.667,
      urlUnits: 1,
      urlsOnlyCoverage: 0.167,
    });
    expect(oracleBound({ changed, urls: 1, dirs: 2 })).toMatchObject({
      folders: [`${H}/s1/`, `${H}/s2/`],
      covered: 6,
      urlUnits: 1,
    });
    // The page sits at the domain root: no folder may take it.
    expect(oracleBound({ changed, urls: 0, dirs: 5 })).toMatchObject({ covered: 5, urlUnits: 0 });
  });

  it('of plans covering as much, takes the one sweeping the fewest unchanged objects', () => {
    const changed = [`${H}/a/1.ts`, `${H}/a/2.ts`, `${H}/a/b/3.ts`];
    const catalogue = [...changed, `${H}/a/b/4.ts`, `${H}/a/5.ts`];
    // One URL unit leaves two paths to a folder: only /a/ holds two, and it sweeps 4.ts and 5.ts.
    expect(oracleBound({ changed, catalogue, urls: 1, dirs: 1 })).toMatchObject({
      folders: [`${H}/a/`],
      covered: 3,
      sweptUnchanged: 2,
    });
    // Three URL units cover all: a folder would only sweep.
    expect(oracleBound({ changed, catalogue, urls: 3, dirs: 1 })).toMatchObject({
      folders: [],
      covered: 3,
      sweptUnchanged: 0,
    });
  });

  it('equals a search of every plan on small random days', () => {
    const day = fc.record({
      files: fc.uniqueArray(
        fc.tuple(
          fc.constantFrom('a', 'b'),
          fc.constantFrom('', 'x/', 'y/', 'x/z/'),
          fc.integer({ min: 1, max: 4 }),
        ),
        { minLength: 1, maxLength: 12, selector: (t) => t.join() },
      ),
      changedMask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      urls: fc.integer({ min: 0, max: 4 }),
      dirs: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(day, ({ files, changedMask, urls, dirs }) => {
        const catalogue = files.map(([top, mid, n]) => `${H}/${top}/${mid}${n}.ts`);
        const changed = catalogue.filter((_p, i) => changedMask[i]);
        const candidates = [...new Set(changed.flatMap(foldersOf))];
        let best = { covered: -1, swept: Number.POSITIVE_INFINITY };
        for (let mask = 0; mask < 1 << candidates.length; mask += 1) {
          const chosen = candidates.filter((_c, i) => mask & (1 << i));
          if (chosen.length > dirs) continue;
          const under = (p: string) => chosen.some((f) => p.startsWith(f));
          const byFolders = changed.filter(under).length;
          const covered = byFolders + Math.min(urls, changed.length - byFolders);
          const swept = catalogue.filter((p) => !changed.includes(p) && under(p)).length;
          if (covered > best.covered || (covered === best.covered && swept < best.swept))
            best = { covered, swept };
        }
        const oracle = oracleBound({ changed, catalogue, urls, dirs });
        expect({ covered: oracle.covered, swept: oracle.sweptUnchanged }).toEqual(best);
        expect(oracle.dirUnits).toBeLessThanOrEqual(dirs);
        expect(oracle.urlUnits).toBeLessThanOrEqual(urls);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

describe('the quota day', () => {
  it('picks an offset that puts now within half an hour of noon, which QUOTA_UTC_OFFSET accepts', () => {
    for (let minute = 0; minute < 24 * 60; minute += 7) {
      const now = Date.UTC(2026, 11, 1) + minute * 60_000;
      const offset = middayOffsetMinutes(now);
      expect(parseUtcOffset(formatOffset(offset))).toBe(offset);
      const local = (((minute + offset) % 1440) + 1440) % 1440;
      expect(Math.abs(local - 720)).toBeLessThanOrEqual(30);
      expect(quotaDayIndex(now + 11 * 3600_000, offset)).toBe(quotaDayIndex(now - 11 * 3600_000, offset));
    }
  });
});
