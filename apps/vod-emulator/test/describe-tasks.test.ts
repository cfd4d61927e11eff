import { describe, expect, it } from 'vitest';
import { FAILURE_DESCRIPTIONS, type TaskView } from '../src/index.js';
import { taskProgress } from '../src/tasks.js';
import { control, expectApiError, popClient, popError, start, urls } from './helpers.js';

const DESCRIBE = 'DescribeVodRefreshTasks';
const REFRESH = 'RefreshVodObjectCaches';

interface Page {
  RequestId: string;
  PageNumber: number;
  PageSize: number;
  TotalCount: number;
  Tasks: { Task: TaskView[] };
}

async function setup(options = {}) {
  const running = await start({
    frozenAt: '2024-03-01T10:00:00.000Z',
    tasks: { pendingMs: 1000, completeAfterMs: 10_000 },
    ...options,
  });
  const client = popClient(running.url);
  const describeTasks = (params: Record<string, unknown> = {}) => client.request<Page>(DESCRIBE, params, {});
  const refresh = (params: Record<string, unknown>) =>
    client.request<{ RefreshTaskId: string }>(REFRESH, params, {});
  return { ...running, client, describeTasks, refresh };
}

describe('DescribeVodRefreshTasks', () => {
  it('answers the documented shape', async () => {
    const { describeTasks, refresh } = await setup();
    const { RefreshTaskId } = await refresh({ ObjectPath: urls(1)[0] });
    const page = await describeTasks();
    expect(Object.keys(page).sort()).toEqual(['PageNumber', 'PageSize', 'RequestId', 'Tasks', 'TotalCount']);
    expect(page).toMatchObject({ PageNumber: 1, PageSize: 20, TotalCount: 1 });
    const task = page.Tasks.Task[0];
    expect(task).toEqual({
      TaskId: RefreshTaskId,
      ObjectPath: urls(1)[0],
      ObjectType: 'file',
      Status: 'Pending',
      Process: '0%',
      CreationTime: '2024-03-01T10:00:00Z',
      Description: '',
    });
  });

  it('moves tasks Pending → Refreshing → Complete as emulated time passes', async () => {
    const { describeTasks, refresh, emulator } = await setup();
    await refresh({ ObjectPath: urls(1)[0] });
    const status = async () => (await describeTasks()).Tasks.Task[0];
    expect(await status()).toMatchObject({ Status: 'Pending', Process: '0%' });
    emulator.advanceClock(5000);
    expect(await status()).toMatchObject({ Status: 'Refreshing', Process: '50%' });
    emulator.advanceClock(4999);
    expect(await status()).toMatchObject({ Status: 'Refreshing', Process: '99%' });
    emulator.advanceClock(1);
    expect(await status()).toMatchObject({ Status: 'Complete', Process: '100%', Description: '' });
  });

  it('fails a seeded share of tasks with a documented description, the same way every run', async () => {
    const paths = urls(200);
    const failedPaths = async () => {
      const { refresh, describeTasks, emulator } = await setup({
        tasks: { failureRate: 0.3, seed: 42, completeAfterMs: 1000 },
      });
      await refresh({ ObjectPath: paths.join('\n') });
      emulator.advanceClock(1000);
      const failed: TaskView[] = [];
      for (let page = 1; page <= 4; page++) {
        failed.push(
          ...(await describeTasks({ ObjectType: 'file', Status: 'Failed', PageSize: 50, PageNumber: page }))
            .Tasks.Task,
        );
      }
      return failed;
    };
    const first = await failedPaths();
    const second = await failedPaths();
    expect(first.map((t) => [t.ObjectPath, t.Description])).toEqual(
      second.map((t) => [t.ObjectPath, t.Description]),
    );
    expect(first.length).toBeGreaterThan(30);
    expect(first.length).toBeLessThan(90);
    for (const t of first) {
      expect(FAILURE_DESCRIPTIONS).toContain(t.Description);
      expect(t.Status).toBe('Failed');
    }
    expect(new Set(first.map((t) => t.Description)).size).toBe(3);
  });

  it('shows a failed task as Failed with Process 0%, a complete one with 100% (pure)', () => {
    expect(taskProgress(0, 'Origin Timeout', 10, { pendingMs: 1, completeAfterMs: 5 })).toEqual({
      status: 'Failed',
      process: '0%',
    });
    expect(taskProgress(0, undefined, 10, { pendingMs: 1, completeAfterMs: 5 })).toEqual({
      status: 'Complete',
      process: '100%',
    });
  });

  it('fails every task at failureRate 1, and the failure shows only once the task is done', async () => {
    const { describeTasks, refresh, emulator } = await setup({
      tasks: { failureRate: 1, completeAfterMs: 2000 },
    });
    await refresh({ ObjectPath: urls(5).join('\n') });
    expect(
      (await describeTasks()).Tasks.Task.every((t) => t.Status === 'Pending' && t.Description === ''),
    ).toBe(true);
    emulator.advanceClock(2000);
    const tasks = (await describeTasks()).Tasks.Task;
    expect(
      tasks.every((t) => t.Status === 'Failed' && FAILURE_DESCRIPTIONS.includes(t.Description as never)),
    ).toBe(true);
  });

  it('never lists the seeded share unlistedRate of tasks, by any query; the control API shows them', async () => {
    const { describeTasks, refresh, url, emulator } = await setup();
    await control(url, 'PATCH', '/task-timing', { unlistedRate: 1 });
    const accepted = await refresh({ ObjectPath: urls(3).join('\n') });
    expect(accepted.RefreshTaskId).toBeTruthy();
    expect((await describeTasks()).TotalCount).toBe(0);
    expect((await describeTasks({ TaskId: String(accepted.RefreshTaskId) })).Tasks.Task).toEqual([]);
    expect(emulator.tasks().map((task) => task.Listed)).toEqual([false, false, false]);
    await control(url, 'PATCH', '/task-timing', { unlistedRate: 0 });
    await refresh({ ObjectPath: urls(1, 'b.example.com')[0] });
    expect((await describeTasks()).TotalCount).toBe(1);
  });

  it('changes task timing at run time (control API)', async () => {
    const { describeTasks, refresh, url } = await setup();
    await control(url, 'PATCH', '/task-timing', { pendingMs: 0, completeAfterMs: 0 });
    await refresh({ ObjectPath: urls(1)[0] });
    expect((await describeTasks()).Tasks.Task[0]?.Status).toBe('Complete');
  });

  it('filters by TaskId, ObjectPath (exact), ObjectType + DomainName, Status', async () => {
    const { describeTasks, refresh, emulator } = await setup();
    const a = await refresh({ ObjectPath: urls(2, 'a.example.com').join('\n') });
    emulator.advanceClock(1000);
    const b = await refresh({ ObjectPath: urls(1, 'b.example.com')[0] });
    await refresh({ ObjectPath: 'https://a.example.com/dir/', ObjectType: 'Directory' });

    expect((await describeTasks({ TaskId: a.RefreshTaskId })).TotalCount).toBe(2);
    expect((await describeTasks({ TaskId: b.RefreshTaskId })).Tasks.Task.map((t) => t.ObjectPath)).toEqual(
      urls(1, 'b.example.com'),
    );
    expect((await describeTasks({ ObjectPath: urls(1, 'a.example.com')[0] })).TotalCount).toBe(1);
    expect((await describeTasks({ ObjectPath: 'https://a.example.com/f0' })).TotalCount).toBe(0);
    expect((await describeTasks({ ObjectType: 'file', DomainName: 'a.example.com' })).TotalCount).toBe(2);
    expect((await describeTasks({ ObjectType: 'directory', DomainName: 'a.example.com' })).TotalCount).toBe(
      1,
    );
    expect((await describeTasks({ ObjectType: 'file', Status: 'Refreshing' })).TotalCount).toBe(2);
    expect((await describeTasks({ ObjectType: 'file', Status: 'Pending' })).TotalCount).toBe(1);
    expect((await describeTasks({ ObjectType: 'preload' })).TotalCount).toBe(0);
  });

  it('lists newest first', async () => {
    const { describeTasks, refresh, emulator } = await setup();
    await refresh({ ObjectPath: 'https://cdn.example.com/old.png' });
    emulator.advanceClock(2000);
    await refresh({ ObjectPath: 'https://cdn.example.com/new.png' });
    expect((await describeTasks()).Tasks.Task.map((t) => t.ObjectPath)).toEqual([
      'https://cdn.example.com/new.png',
      'https://cdn.example.com/old.png',
    ]);
  });

  it('requires ObjectType with DomainName or Status (MissingParameter 400)', async () => {
    const { client } = await setup();
    expectApiError(
      await popError(client.request(DESCRIBE, { DomainName: 'cdn.example.com' }, {})),
      'MissingParameter',
      400,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { Status: 'Complete' }, {})),
      'MissingParameter',
      400,
    );
  });

  it('refuses a malformed TaskId (InvalidTaskId.Malformed 400)', async () => {
    const { client } = await setup();
    for (const TaskId of ['abc', '123,456', '-1', 'undefined']) {
      expectApiError(
        await popError(client.request(DESCRIBE, { TaskId }, {})),
        'InvalidTaskId.Malformed',
        400,
      );
    }
  });

  it('refuses unknown ObjectType and Status values', async () => {
    const { client } = await setup();
    expectApiError(
      await popError(client.request(DESCRIBE, { ObjectType: 'File' }, {})),
      'InvalidObjectType.ValueNotSupported',
      400,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { ObjectType: 'file', Status: 'Done' }, {})),
      'InvalidStatus.ValueNotSupported',
      400,
    );
  });

  it('pages: PageSize default 20, at most 50; PageNumber from 1', async () => {
    const { describeTasks, refresh, client } = await setup();
    await refresh({ ObjectPath: urls(120).join('\n') });
    const first = await describeTasks();
    expect(first).toMatchObject({ PageNumber: 1, PageSize: 20, TotalCount: 120 });
    expect(first.Tasks.Task).toHaveLength(20);
    const third = await describeTasks({ PageSize: 50, PageNumber: 3 });
    expect(third.Tasks.Task).toHaveLength(20);
    expect((await describeTasks({ PageSize: 50, PageNumber: 4 })).Tasks.Task).toHaveLength(0);
    const all = new Set<string>();
    for (let n = 1; n <= 3; n++)
      for (const t of (await describeTasks({ PageSize: 50, PageNumber: n })).Tasks.Task)
        all.add(t.ObjectPath);
    expect(all.size).toBe(120);
    expectApiError(
      await popError(client.request(DESCRIBE, { PageSize: 51 }, {})),
      'InvalidPageSize.ValueNotSupported',
      400,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { PageSize: 0 }, {})),
      'InvalidPageSize.ValueNotSupported',
      400,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { PageNumber: 0 }, {})),
      'InvalidPageNumber.ValueNotSupported',
      400,
    );
  });

  it('filters by StartTime/EndTime (ISO 8601 UTC, inclusive, second resolution)', async () => {
    const { describeTasks, refresh, emulator, client } = await setup();
    await refresh({ ObjectPath: 'https://cdn.example.com/1.png' }); // 10:00:00
    emulator.advanceClock(60_000);
    await refresh({ ObjectPath: 'https://cdn.example.com/2.png' }); // 10:01:00
    emulator.advanceClock(60_000);
    await refresh({ ObjectPath: 'https://cdn.example.com/3.png' }); // 10:02:00
    const paths = async (p: Record<string, string>) =>
      (await describeTasks(p)).Tasks.Task.map((t) => t.ObjectPath).sort();
    expect(await paths({ StartTime: '2024-03-01T10:01:00Z' })).toEqual([
      'https://cdn.example.com/2.png',
      'https://cdn.example.com/3.png',
    ]);
    expect(await paths({ EndTime: '2024-03-01T10:01:00Z' })).toEqual([
      'https://cdn.example.com/1.png',
      'https://cdn.example.com/2.png',
    ]);
    expect(await paths({ StartTime: '2024-03-01T10:00:30Z', EndTime: '2024-03-01T10:01:30Z' })).toEqual([
      'https://cdn.example.com/2.png',
    ]);
    expectApiError(
      await popError(client.request(DESCRIBE, { StartTime: '2024-03-01 10:00:00' }, {})),
      'InvalidStartTime.Malformed',
      400,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { EndTime: 'soon' }, {})),
      'InvalidEndTime.Malformed',
      400,
    );
    expectApiError(
      await popError(
        client.request(DESCRIBE, { StartTime: '2024-03-01T10:02:00Z', EndTime: '2024-03-01T10:01:00Z' }, {}),
      ),
      'InvalidEndTime.Mismatch',
      400,
    );
  });

  it('shows only the last 3 days and refuses an older StartTime', async () => {
    const { describeTasks, refresh, emulator, client } = await setup();
    await refresh({ ObjectPath: 'https://cdn.example.com/1.png' });
    emulator.advanceClock(3 * 86_400_000);
    expect((await describeTasks()).TotalCount).toBe(1);
    expect((await describeTasks({ TaskId: emulator.submissions()[0]?.refreshTaskId ?? '' })).TotalCount).toBe(
      1,
    );
    emulator.advanceClock(1000);
    expect((await describeTasks()).TotalCount).toBe(0);
    expect((await describeTasks({ TaskId: emulator.submissions()[0]?.refreshTaskId ?? '' })).TotalCount).toBe(
      0,
    );
    expectApiError(
      await popError(client.request(DESCRIBE, { StartTime: '2024-03-01T10:00:00Z' }, {})),
      'InvalidStartTime.ValueNotSupported',
      400,
    );
  });
});
