import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ancestorDirectories,
  choosePromotions,
  globPattern,
  projectedDemand,
  type PromotionRules,
  requiredQuietMs,
  underPressure,
  updateArrivalRate,
} from '../src/scarcity.js';

const RULES: PromotionRules = { minFiles: 2, minDepth: 1, maxDepth: 8, allow: [], deny: [] };
const episode = (series: number, ep: number, file = 'index.m3u8') =>
  `https://cdn.example.com/series/${series}/ep${ep}/${file}`;

describe('pressure', () => {
  it('is on exactly when demand exceeds supply', () => {
    expect(underPressure({ demand: 10, supply: 10 })).toBe(false);
    expect(underPressure({ demand: 11, supply: 10 })).toBe(true);
    expect(underPressure({ demand: 0, supply: 0 })).toBe(false);
  });
});

describe('requiredQuietMs: hot paths wait for their burst to end', () => {
  const settings = { baseQuietMs: 200, maxQuietMs: 120_000 };
  it('a path asked for once waits the base', () => {
    expect(requiredQuietMs({ hits: 1, queuedAt: 0, lastSeenAt: 0 }, settings)).toBe(200);
  });
  it('waits twice the mean gap between its requests', () => {
    expect(requiredQuietMs({ hits: 4, queuedAt: 0, lastSeenAt: 60_000 }, settings)).toBe(40_000);
  });
  it('is bounded both ways', () => {
    expect(requiredQuietMs({ hits: 50, queuedAt: 0, lastSeenAt: 10 }, settings)).toBe(200);
    expect(requiredQuietMs({ hits: 2, queuedAt: 0, lastSeenAt: 3_600_000 }, settings)).toBe(120_000);
  });
});

describe('ancestorDirectories', () => {
  it('lists a file’s directories deepest first, never the root unless asked', () => {
    expect(ancestorDirectories(episode(1, 2), RULES)).toEqual([
      'https://cdn.example.com/series/1/ep2/',
      'https://cdn.example.com/series/1/',
      'https://cdn.example.com/series/',
    ]);
    expect(ancestorDirectories('https://cdn.example.com/a.mp4', RULES)).toEqual([]);
    expect(ancestorDirectories('https://cdn.example.com/a.mp4', { minDepth: 0, maxDepth: 3 })).toEqual([
      'https://cdn.example.com/',
    ]);
    expect(
      ancestorDirectories('https://cdn.example.com/a/b/c.mp4?x=/y/', { minDepth: 2, maxDepth: 2 }),
    ).toEqual(['https://cdn.example.com/a/b/']);
  });
});

describe('choosePromotions', () => {
  const series = (s: number, eps: number, files = ['index.m3u8', 'poster.jpg']) =>
    Array.from({ length: eps }, (_, e) => files.map((file) => episode(s, e, file))).flat();

  it('promotes nothing while the files fit the URL supply or no directory unit is free', () => {
    expect(choosePromotions(series(1, 5), { urlSupply: 10, directoryRoom: 5 }, RULES)).toEqual([]);
    expect(choosePromotions(series(1, 5), { urlSupply: 0, directoryRoom: 0 }, RULES)).toEqual([]);
  });

  it('picks the deepest directory that covers all the excess', () => {
    const picks = choosePromotions(series(1, 3), { urlSupply: 0, directoryRoom: 10 }, RULES);
    expect(picks).toEqual([{ directory: 'https://cdn.example.com/series/1/', files: 6 }]);
    const some = choosePromotions(
      [...series(1, 3), ...series(2, 1)],
      { urlSupply: 6, directoryRoom: 10 },
      RULES,
    );
    expect(some).toEqual([{ directory: 'https://cdn.example.com/series/1/ep0/', files: 2 }]);
  });

  it('with few directory units, spends them where they cover the most, give or take a factor two for depth', () => {
    const files = [...series(1, 10), ...series(2, 3), ...series(3, 1)];
    const picks = choosePromotions(files, { urlSupply: 0, directoryRoom: 2 }, RULES);
    expect(picks).toEqual([
      { directory: 'https://cdn.example.com/series/1/', files: 20 },
      { directory: 'https://cdn.example.com/series/2/', files: 6 },
    ]);
    // Scattered changes: only a broad directory covers enough of them.
    const scattered = Array.from({ length: 8 }, (_, s) => episode(s, 0));
    expect(choosePromotions(scattered, { urlSupply: 0, directoryRoom: 3 }, RULES)).toEqual([
      { directory: 'https://cdn.example.com/series/', files: 8 },
    ]);
  });

  it('stops once the rest fits the URL supply', () => {
    const files = [...series(1, 10), ...series(2, 3)];
    const picks = choosePromotions(files, { urlSupply: 6, directoryRoom: 5 }, RULES);
    const covered = picks.reduce((sum, pick) => sum + pick.files, 0);
    expect(files.length - covered).toBeLessThanOrEqual(6);
    expect(picks.every((pick) => pick.directory !== 'https://cdn.example.com/series/')).toBe(true);
  });

  it('keeps to allow and deny patterns and the minimum of files', () => {
    const files = [...series(1, 4), ...series(2, 4)];
    const deny = [globPattern('https://cdn.example.com/series/2/*')];
    const picks = choosePromotions(
      files,
      { urlSupply: 0, directoryRoom: 20 },
      { ...RULES, deny, minFiles: 3 },
    );
    expect(picks.map((pick) => pick.directory)).toEqual(['https://cdn.example.com/series/1/']);
  });

  it('never picks nested directories, never more than the room, never a directory over fewer than minFiles', () => {
    const file = fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom('a', 'b', 'c'),
    );
    fc.assert(
      fc.property(
        fc.array(file, { maxLength: 60 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (tuples, urlSupply, directoryRoom, minFiles) => {
          const files = [...new Set(tuples.map(([s, e, f]) => episode(s, e, `${f}.ts`)))];
          const picks = choosePromotions(files, { urlSupply, directoryRoom }, { ...RULES, minFiles });
          expect(picks.length).toBeLessThanOrEqual(directoryRoom);
          for (const pick of picks) {
            expect(pick.files).toBeGreaterThanOrEqual(minFiles);
            expect(files.filter((f) => f.startsWith(pick.directory)).length).toBeGreaterThanOrEqual(
              pick.files,
            );
            for (const other of picks)
              if (other !== pick) expect(other.directory.startsWith(pick.directory)).toBe(false);
          }
          if (files.length <= urlSupply) expect(picks).toEqual([]);
        },
      ),
    );
  });
});

describe('the pressure forecast', () => {
  it('starts the rate at the first reading, then follows the arrivals', () => {
    const first = updateArrivalRate(undefined, 100, 0, 60_000);
    expect(first).toEqual({ perSecond: 0, count: 100, at: 0 });
    const second = updateArrivalRate(first, 160, 60_000, 60_000);
    // One half-life at 1/s: half of the new rate.
    expect(second.perSecond).toBeCloseTo(0.5, 5);
    const later = updateArrivalRate(second, 160, 600_000, 60_000);
    expect(later.perSecond).toBeLessThan(0.001);
  });

  it('a counter that went back (a new pool) restarts the count', () => {
    expect(updateArrivalRate({ perSecond: 2, count: 500, at: 0 }, 10, 1000, 60_000)).toEqual({
      perSecond: 2,
      count: 10,
      at: 1000,
    });
  });

  it('projects today’s demand over the horizon', () => {
    expect(projectedDemand(10, 0.5, 3_600_000)).toBe(1810);
    expect(projectedDemand(10, 5, 0)).toBe(10);
  });
});
