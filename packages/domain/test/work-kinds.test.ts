import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { completedEntries, followOnId, followOnRequest } from '../src/follow-ons.js';
import {
  applyJobReport,
  applyTaskRows,
  initialMediaProgress,
  mediaEnded,
  mediaState,
} from '../src/media-progress.js';
import { MEDIA_ITEM_CODES, mediaJobFate, reactionTo, settleCall } from '../src/upstream-reactions.js';
import {
  canonicalMediaOptions,
  CLAIM_TYPE_ORDER,
  hostOfPoolDomain,
  mediaIdOfItem,
  mediaItemKey,
  mediaOptionsOf,
  mediaPoolDomain,
  poolDomain,
  poolItemsOf,
  unitsPerItem,
  type UpstreamAction,
  WORK_TYPES,
  workKind,
  workTypeOf,
} from '../src/work-kinds.js';

const settings = { backoff: { baseMs: 500, maxMs: 60_000 }, breakerProbeMs: 30_000, random: () => 0 };

describe('work kinds: one pool type per kind of work', () => {
  it.each([
    [{ objectType: 'File' as const }, 'File'],
    [{ objectType: 'Directory' as const, force: true }, 'Directory!force'],
    [{ objectType: 'File' as const, force: true }, 'File!force'],
    [{ objectType: 'File' as const, action: 'preload' as const }, 'Preload'],
    [{ objectType: 'File' as const, media: { options: { taskType: 'Refresh' as const } } }, 'Media'],
    [{ objectType: 'File' as const, media: { options: { taskType: 'Preload' as const } } }, 'Media!preload'],
  ])('%o goes to %s', (spec, type) => {
    expect(workTypeOf(spec)).toBe(type);
  });

  it('spends the right budget and counts against the right action', () => {
    expect(WORK_TYPES.map((type) => [type, workKind(type).budget, workKind(type).calls])).toEqual([
      ['File', 'File', 'refresh'],
      ['Directory', 'Directory', 'refresh'],
      ['File!force', 'File', 'refresh'],
      ['Directory!force', 'Directory', 'refresh'],
      ['Preload', 'Preload', 'preload'],
      ['Media', 'File', 'media'],
      ['Media!preload', 'Preload', 'media'],
    ]);
    expect(WORK_TYPES.filter((type) => workKind(type).covers)).toEqual(['Directory']);
    expect([...CLAIM_TYPE_ORDER].sort()).toEqual([...WORK_TYPES].sort());
    expect(CLAIM_TYPE_ORDER.indexOf('Directory')).toBe(0);
  });

  it('gives every kind but the plain refreshes a pool domain of its own', () => {
    expect(poolDomain('File', 'a.com')).toBe('a.com');
    expect(poolDomain('Directory', 'a.com')).toBe('a.com');
    expect(poolDomain('Preload', 'a.com')).toBe('Preload@a.com');
    expect(poolDomain('File!force', 'a.com')).toBe('File!force@a.com');
    expect(hostOfPoolDomain('File!force@a.com')).toBe('a.com');
    expect(hostOfPoolDomain('a.com')).toBe('a.com');
  });

  it('keys a media item by id and canonical options: equal options coalesce, others do not', () => {
    const a = canonicalMediaOptions({ taskType: 'Refresh', formats: ['mp4', 'm3u8', 'mp4'], sliceCount: 9 });
    expect(a).toEqual({ taskType: 'Refresh', formats: ['m3u8', 'mp4'] });
    const b = { taskType: 'Refresh' as const, formats: ['m3u8', 'mp4'], resultType: 'Single' as const };
    expect(mediaItemKey('m1', a)).toBe(mediaItemKey('m1', b));
    expect(mediaItemKey('m1', a)).not.toBe(
      mediaItemKey('m1', { taskType: 'Preload', formats: ['mp4', 'm3u8'] }),
    );
    expect(mediaIdOfItem(mediaItemKey('m1', a))).toBe('m1');
    const sliced = { taskType: 'Refresh' as const, sliceFlag: true };
    expect(mediaOptionsOf(mediaPoolDomain(sliced))).toEqual({ ...sliced, sliceCount: 5 });
    expect(mediaPoolDomain(a)).not.toMatch(/[{}\s]/);
    expect(mediaOptionsOf('a.com')).toBeUndefined();
  });

  it('turns a request into its pool items', () => {
    const options = { taskType: 'Refresh' as const };
    expect(poolItemsOf({ objectType: 'File', paths: [], media: { ids: ['m1', 'm2'], options } }, [])).toEqual(
      {
        type: 'Media',
        items: [
          { path: mediaItemKey('m1', options), domain: mediaPoolDomain(options) },
          { path: mediaItemKey('m2', options), domain: mediaPoolDomain(options) },
        ],
      },
    );
    expect(
      poolItemsOf({ objectType: 'File', action: 'preload', paths: ['https://a.com/x'] }, ['a.com']),
    ).toEqual({
      type: 'Preload',
      items: [{ path: 'https://a.com/x', domain: 'Preload@a.com' }],
    });
  });

  it('grants a media id its expected play URLs, a path one unit', () => {
    expect(unitsPerItem('Media', 6)).toBe(6);
    expect(unitsPerItem('Media!preload', 0)).toBe(1);
    expect(unitsPerItem('Preload', 6)).toBe(1);
  });
});

describe('reactions of the new actions', () => {
  it.each<[UpstreamAction, string, string]>([
    ['PreloadVodObjectCaches', 'PreloadQueueFull', 'hold-day'],
    ['PreloadVodObjectCaches', 'QuotaExceeded.Refresh', 'hold-day'],
    ['PreloadVodObjectCaches', 'InvalidObjectPath.Size.Malformed', 'split'],
    ['PreloadVodObjectCaches', 'InvalidDomain.Offline', 'reject'],
    ['PreloadVodObjectCaches', 'ServiceBusy', 'retry-then-reject'],
    ['PreloadVodObjectCaches', 'Throttling', 'backoff'],
    ['PreloadVodObjectCaches', 'OperationDenied', 'open-breaker'],
    ['PreloadVodObjectCaches', 'Forbidden.RAM', 'account-error'],
    ['RefreshMediaPlayUrls', 'InvalidParameter', 'retry-then-reject'],
    ['RefreshMediaPlayUrls', 'PreloadQueueFull', 'hold-day'],
    ['RefreshMediaPlayUrls', 'QuotaExceeded.Refresh', 'hold-day'],
    ['RefreshMediaPlayUrls', 'Throttling.User', 'backoff'],
    ['RefreshMediaPlayUrls', 'OperationDenied.Suspended', 'open-breaker'],
    ['RefreshMediaPlayUrls', 'NoPermission', 'account-error'],
    ['RefreshMediaPlayUrls', 'SomethingNew', 'retry-then-reject'],
    ['RefreshVodObjectCaches', 'PreloadQueueFull', 'retry-then-reject'],
  ])('%s %s -> %s', (action, code, kind) => {
    expect(reactionTo(code, action).kind).toBe(kind);
  });

  it('an accepted media call rejects the ids it refused and spends the expected units of the rest', () => {
    const states = [{ attempts: 0 }, { attempts: 0 }, { attempts: 0 }];
    const decision = settleCall(
      { kind: 'accepted', refused: new Map([[1, MEDIA_ITEM_CODES.forbidden]]) },
      states,
      settings,
      { action: 'RefreshMediaPlayUrls', unitsPerItem: 6 },
    );
    expect(decision.split).toBe(false);
    expect(!decision.split && decision.fates).toEqual([
      { kind: 'submitted' },
      { kind: 'rejected', code: 'MediaIdForbidden' },
      { kind: 'submitted' },
    ]);
    expect(decision.settlement).toEqual({ spent: 12, answer: 'success' });
  });

  it('a media call without an answer keeps its units spent; a full preload queue holds the type to the next day', () => {
    const shape = { action: 'RefreshMediaPlayUrls' as const, unitsPerItem: 4 };
    const lost = settleCall(
      { kind: 'unanswered', code: 'Timeout', calledAt: 1, endedAt: 2 },
      [{ attempts: 0 }],
      settings,
      shape,
    );
    expect(lost.settlement).toEqual({ spent: 4, answer: 'uncertain' });
    const full = settleCall({ kind: 'refused', code: 'PreloadQueueFull' }, [{ attempts: 0 }], settings, {
      action: 'PreloadVodObjectCaches',
      unitsPerItem: 1,
    });
    expect(full.settlement).toMatchObject({
      spent: 0,
      resyncQuota: true,
      hold: { budget: 'type', until: { kind: 'next-quota-day' }, reason: 'PreloadQueueFull' },
    });
  });

  it('a media job failed for quota puts the media back with a hold; another failure ends it', () => {
    expect(mediaJobFate('PreloadQueueFull', settings)).toMatchObject({
      kind: 'requeue',
      hold: { until: { kind: 'next-quota-day' }, reason: 'PreloadQueueFull' },
    });
    expect(mediaJobFate('QuotaPerMinuteExceeded.Refresh', settings)).toMatchObject({
      kind: 'requeue',
      hold: { until: { kind: 'next-minute' } },
    });
    expect(mediaJobFate('Throttling', settings)).toMatchObject({ kind: 'requeue' });
    expect(mediaJobFate('InvalidDomain.Offline', settings)).toEqual({
      kind: 'failed',
      code: 'InvalidDomain.Offline',
    });
    expect(mediaJobFate(undefined, settings)).toEqual({ kind: 'failed', code: 'MediaRefreshJobFailed' });
  });
});

describe('media progress', () => {
  const report = {
    mediaId: 'm1',
    status: 'success',
    successPlayUrls: ['https://p.com/a.mp4', 'https://p.com/b.mp4'],
    taskIds: ['11', '12'],
  };

  it('is submitted while the job submits, refreshing while its tasks run, complete when all are', () => {
    let progress = initialMediaProgress();
    expect(mediaState(progress).state).toBe('submitted');
    progress = applyJobReport(progress, {
      ...report,
      status: 'Processing',
      successPlayUrls: [],
      taskIds: [],
    });
    expect(progress.status).toBe('processing');
    progress = applyJobReport(progress, report);
    expect(progress.urls.map((url) => url.taskId)).toEqual(['11', '12']);
    expect(mediaState(progress).state).toBe('refreshing');
    progress = applyTaskRows(progress, '11', [{ objectPath: 'https://p.com/a.mp4', status: 'Complete' }]);
    expect(progress.openTasks).toEqual(['12']);
    progress = applyTaskRows(progress, '12', [{ objectPath: 'https://p.com/b.mp4', status: 'Refreshing' }]);
    expect(mediaEnded(progress)).toBe(false);
    progress = applyTaskRows(progress, '12', [
      { objectPath: 'https://p.com/b.mp4', status: 'Failed', description: 'Origin Timeout' },
    ]);
    expect(mediaState(progress)).toEqual({
      state: 'failed',
      error: { code: 'TaskFailed', message: 'Origin Timeout' },
    });
  });

  it('matches tasks to URLs by ObjectPath when the counts differ; a job with no URL fails NoPlayUrls', () => {
    let progress = applyJobReport(initialMediaProgress(), { ...report, taskIds: ['21'] });
    expect(progress.urls.every((url) => url.taskId === undefined)).toBe(true);
    progress = applyTaskRows(progress, '21', [
      { objectPath: 'https://p.com/b.mp4', status: 'Complete' },
      { objectPath: 'https://p.com/a.mp4', status: 'Complete' },
    ]);
    expect(progress.urls.map((url) => [url.taskId, url.state])).toEqual([
      ['21', 'complete'],
      ['21', 'complete'],
    ]);
    expect(mediaState(progress).state).toBe('complete');
    const empty = applyJobReport(initialMediaProgress(), { ...report, successPlayUrls: [], taskIds: [] });
    expect(mediaState(empty)).toMatchObject({ state: 'failed', error: { code: 'NoPlayUrls' } });
    const failed = applyJobReport(initialMediaProgress(), {
      ...report,
      status: 'fail',
      errorCode: 'PreloadQueueFull',
    });
    expect(mediaState(failed)).toMatchObject({ state: 'failed', error: { code: 'PreloadQueueFull' } });
  });
});

describe('follow-on preloads of then: "preload"', () => {
  it('derives one id per (request, path), and picks the entries whose refresh completed', () => {
    expect(followOnId('r1', 'https://a.com/x')).toBe(followOnId('r1', 'https://a.com/x'));
    expect(followOnId('r1', 'https://a.com/x')).not.toBe(followOnId('r1', 'https://a.com/y'));
    const entries = [
      { requestId: 'r1', path: 'https://a.com/x', coveredBy: '' },
      { requestId: 'r2', path: 'https://a.com/d/y', coveredBy: 'https://a.com/d/' },
      { requestId: 'r3', path: 'https://a.com/z', coveredBy: '' },
    ];
    const byPath = new Map([
      ['https://a.com/x', { state: 'complete' }],
      ['https://a.com/d/', { state: 'complete' }],
      ['https://a.com/z', { state: 'failed' }],
    ]);
    expect(completedEntries(entries, byPath).map((entry) => entry.requestId)).toEqual(['r1', 'r2']);
    expect(followOnRequest({ id: 'r1', priority: 'high' }, 'https://a.com/x', 5)).toEqual({
      id: followOnId('r1', 'https://a.com/x'),
      objectType: 'File',
      action: 'preload',
      priority: 'high',
      paths: ['https://a.com/x'],
      receivedAt: 5,
      parent: 'r1',
    });
  });
});

describe("README's table of the other actions' answers", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n### Answers of the other actions\n');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 10));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const KIND_OF: Array<[RegExp, string]> = [
    [/^hold-day/, 'hold-day'],
    [/^split/, 'split'],
    [/^units refunded/, 'backoff'],
  ];

  it('lists the new actions, and every code a row gives a reaction reacts so', () => {
    expect(start).toBeGreaterThan(0);
    let checked = 0;
    for (const [, actionCell, answer, reaction] of rows) {
      const action = /`(\w+)`/.exec(actionCell ?? '')?.[1] as UpstreamAction | undefined;
      const kind = KIND_OF.find(([pattern]) => pattern.test(reaction ?? ''))?.[1];
      if (!action || !kind) continue;
      for (const [, code] of (answer ?? '').matchAll(/`([A-Za-z.]+)\*?`/g)) {
        expect([action, code, reactionTo(code as string, action).kind]).toEqual([action, code, kind]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});
