import { describe, expect, it } from 'vitest';
import { assignTaskIds, initialTaskIdState, type TaskIdRequest } from '../src/task-ids.js';
import { popClient, start, urls } from './helpers.js';

const file = (domain: string): TaskIdRequest => ({ domain, objectType: 'file', kind: 'url' });
const dir = (domain: string): TaskIdRequest => ({ domain, objectType: 'directory', kind: 'dir' });
const T = Date.parse('2024-03-01T10:00:00.000Z');

describe('task-id merging (pure)', () => {
  it('merges URL tasks of one domain in one second into one id, across calls', () => {
    const first = assignTaskIds(initialTaskIdState(100), [file('a.com'), file('a.com')], T);
    const second = assignTaskIds(first.state, [file('a.com')], T + 999);
    expect(first.distinct).toEqual(['100']);
    expect(second.distinct).toEqual(['100']);
  });

  it('gives other domains, other seconds and other object types their own ids', () => {
    const a = assignTaskIds(initialTaskIdState(1), [file('a.com'), file('b.com'), file('a.com')], T);
    expect(a.ids).toEqual(['1', '2', '1']);
    expect(a.distinct).toEqual(['1', '2']);
    const b = assignTaskIds(a.state, [file('a.com')], T + 1000);
    expect(b.ids).toEqual(['3']);
    const c = assignTaskIds(
      b.state,
      [{ domain: 'a.com', objectType: 'ignoreParams', kind: 'url' }],
      T + 1000,
    );
    expect(c.ids).toEqual(['4']);
  });

  it('opens a new id past 2,000 tasks', () => {
    const items = Array.from({ length: 4001 }, () => file('a.com'));
    const { ids, distinct } = assignTaskIds(initialTaskIdState(1), items, T);
    expect(distinct).toEqual(['1', '2', '3']);
    expect(ids.filter((id) => id === '1')).toHaveLength(2000);
    expect(ids.filter((id) => id === '2')).toHaveLength(2000);
    expect(ids.filter((id) => id === '3')).toHaveLength(1);
  });

  it('continues a partly filled id of the same second up to 2,000', () => {
    const first = assignTaskIds(
      initialTaskIdState(1),
      Array.from({ length: 1500 }, () => file('a.com')),
      T,
    );
    const second = assignTaskIds(
      first.state,
      Array.from({ length: 1000 }, () => file('a.com')),
      T,
    );
    expect(second.distinct).toEqual(['1', '2']);
    expect(second.ids.filter((id) => id === '1')).toHaveLength(500);
  });

  it('gives every directory its own id', () => {
    const { ids } = assignTaskIds(
      initialTaskIdState(1),
      [dir('a.com'), dir('a.com'), file('a.com'), dir('a.com')],
      T,
    );
    expect(ids).toEqual(['1', '2', '3', '4']);
  });
});

describe('task ids through the API', () => {
  it('merges two calls for one domain in the same second; a later second gets a new id', async () => {
    const { url, emulator } = await start({ frozenAt: '2024-03-01T10:00:00.100Z' });
    const client = popClient(url);
    const one = await client.request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: urls(2).join('\n') },
      {},
    );
    emulator.advanceClock(800);
    const two = await client.request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: urls(1, 'cdn.example.com', 'x')[0] },
      {},
    );
    expect(two.RefreshTaskId).toBe(one.RefreshTaskId);
    emulator.advanceClock(100); // 10:00:01.000
    const three = await client.request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: urls(1, 'cdn.example.com', 'y')[0] },
      {},
    );
    expect(three.RefreshTaskId).not.toBe(one.RefreshTaskId);
  });

  it('answers several comma-separated ids for several domains, and one per directory', async () => {
    const { url, emulator } = await start();
    const client = popClient(url);
    const files = await client.request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: [...urls(2, 'a.example.com'), ...urls(2, 'b.example.com')].join('\n') },
      {},
    );
    expect(files.RefreshTaskId.split(',')).toHaveLength(2);
    const dirs = await client.request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: 'https://a.example.com/x/\nhttps://a.example.com/y/', ObjectType: 'Directory' },
      {},
    );
    expect(dirs.RefreshTaskId).toMatch(/^\d+,\d+$/);
    const last = emulator.submissions().at(-1);
    expect(last?.taskIds.join(',')).toBe(dirs.RefreshTaskId);
  });

  it('splits 2,001 URLs of one domain in one second into two ids', async () => {
    const { url, emulator } = await start({
      quotas: { maxUrlsPerCall: 3000, urlsPerDay: 3000 },
      frozenAt: '2024-03-01T10:00:00.000Z',
    });
    const answer = await popClient(url).request<{ RefreshTaskId: string }>(
      'RefreshVodObjectCaches',
      { ObjectPath: urls(2001).join('\n') },
      { method: 'POST' },
    );
    const ids = answer.RefreshTaskId.split(',');
    expect(ids).toHaveLength(2);
    const taskIds = emulator.submissions()[0]?.taskIds ?? [];
    expect(taskIds.filter((id) => id === ids[0])).toHaveLength(2000);
    expect(taskIds.filter((id) => id === ids[1])).toHaveLength(1);
  });
});
