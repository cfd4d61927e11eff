import { describe, expect, it } from 'vitest';
import { lookupFailed } from '../src/upstream-reactions.js';
import { type ListedTask, lookupWindow, matchUncertainTasks } from '../src/uncertain-match.js';

const NOW = Date.parse('2026-12-01T10:00:00.400Z');
const SKEW = 5000;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const task = (taskId: string, objectPath: string, createdMs: number, objectType = 'file'): ListedTask => ({
  taskId,
  objectPath,
  objectType,
  creationTime: at(createdMs),
});

describe('lookupWindow', () => {
  it('spans the earliest uncertain call to now, widened by the skew, in whole seconds', () => {
    const window = lookupWindow(
      [
        { path: 'a', since: NOW - 30_000 },
        { path: 'b', since: NOW - 10_000 },
      ],
      NOW,
      SKEW,
    );
    expect(at(window.startMs)).toBe('2026-12-01T09:59:25Z');
    expect(at(window.endMs)).toBe('2026-12-01T10:00:06Z');
  });
});

describe('lookupWindow, when the uncertain calls are known to have ended', () => {
  it('ends at the latest end plus the skew, not now: the domain’s later traffic is not listed', () => {
    const window = lookupWindow(
      [
        { path: 'a', since: NOW - 60_000, until: NOW - 50_000 },
        { path: 'b', since: NOW - 40_000, until: NOW - 38_000 },
      ],
      NOW,
      SKEW,
    );
    expect(at(window.startMs)).toBe('2026-12-01T09:58:55Z');
    expect(at(window.endMs)).toBe('2026-12-01T09:59:28Z');
  });

  it('a task created after its own call ended (plus the skew) is not ours', () => {
    const since = NOW - 60_000;
    const found = matchUncertainTasks(
      [{ path: 'https://d/a', since, until: since + 3000 }],
      [task('later-refresh', 'https://d/a', since + 3000 + SKEW + 2000)],
      'file',
      NOW,
      SKEW,
    );
    expect(found.size).toBe(0);
  });
});

describe('matchUncertainTasks', () => {
  const since = NOW - 60_000;

  it('takes, per path, the earliest task on that exact path and type inside its own window', () => {
    const found = matchUncertainTasks(
      [
        { path: 'https://d/a', since },
        { path: 'https://d/b', since: NOW - 2000 },
      ],
      [
        task('later', 'https://d/a', since + 9000),
        task('ours', 'https://d/a', since + 1000),
        task('other-tool-before-b', 'https://d/b', NOW - 2000 - SKEW - 1000),
      ],
      'file',
      NOW,
      SKEW,
    );
    expect([...found]).toEqual([['https://d/a', 'ours']]);
  });

  it('ignores another object type, another path, and anything after now plus the skew', () => {
    const found = matchUncertainTasks(
      [{ path: 'https://d/a/', since }],
      [
        task('file-task', 'https://d/a/', since + 1000, 'file'),
        task('prefix', 'https://d/a/x', since + 1000, 'directory'),
        task('future', 'https://d/a/', NOW + SKEW + 1000, 'directory'),
      ],
      'directory',
      NOW,
      SKEW,
    );
    expect(found.size).toBe(0);
  });

  it('counts a task created up to the skew before the call (the upstream clock behind ours)', () => {
    const found = matchUncertainTasks(
      [{ path: 'https://d/a', since }],
      [task('ours', 'https://d/a', since - SKEW + 500)],
      'file',
      NOW,
      SKEW,
    );
    expect(found.get('https://d/a')).toBe('ours');
  });
});

describe('lookupFailed', () => {
  it('one delay for every path of the batch, sized by the first; nothing else changes', () => {
    const fates = lookupFailed([{ attempts: 0, backoffs: 3 }, { attempts: 2 }], {
      backoff: { baseMs: 500, maxMs: 60_000 },
      breakerProbeMs: 1000,
      random: () => 1,
    });
    expect(fates).toEqual([
      { kind: 'requeue', delayMs: 4000, reason: 'uncertain', patch: { backoffs: 4 } },
      { kind: 'requeue', delayMs: 4000, reason: 'uncertain', patch: { backoffs: 4 } },
    ]);
  });
});
