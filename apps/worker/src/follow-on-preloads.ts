import { completedEntries, domainOf, followOnRequest, workKind } from '@refreshq/domain';
import type { AdmitSettings, RequestStore, TaskPathState, TaskStore, TrackedTask } from '@refreshq/store';
import type { Logger } from '@refreshq/telemetry';
import type { WorkerMetrics } from './worker-metrics.js';

/**
 * `"then": "preload"`: when the tracker sees a refresh task complete, each file of a request that
 * asked for it is queued for a prefetch (a follow-on request of type Preload, spending preload
 * quota). It runs before the task's outcome is recorded, so a worker that dies in between leaves
 * the task due and the next look queues again: the follow-on's id is derived from the request and
 * the path, and admitting it a second time does nothing.
 */
export class FollowOnPreloads {
  constructor(
    private readonly tasks: TaskStore,
    private readonly requests: RequestStore,
    private readonly now: () => number,
    private readonly admit: AdmitSettings,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  async queue(task: TrackedTask, byPath: ReadonlyMap<string, { state: TaskPathState }>): Promise<void> {
    if (workKind(task.objectType).action !== 'RefreshVodObjectCaches') return;
    const done = completedEntries(await this.tasks.entries(task.taskId), byPath);
    if (done.length === 0) return;
    const metas = await this.requests.metas([...new Set(done.map((entry) => entry.requestId))]);
    let queued = 0;
    for (const entry of done) {
      const meta = metas.get(entry.requestId);
      // Intake takes `then` only on a refresh of files; a file covered by a directory is a file too.
      if (meta?.then !== 'preload' || meta.objectType !== 'File' || meta.media) continue;
      const result = await this.requests.admit(
        followOnRequest(meta, entry.path, this.now()),
        [domainOf(entry.path)],
        { ...this.admit, promoteAt: 0 },
      );
      if (result.admitted) queued += 1;
    }
    if (queued > 0) {
      this.metrics.followOnPreloads.inc(queued);
      this.logger.debug({ taskId: task.taskId, queued }, 'refresh complete: follow-on preloads queued');
    }
  }
}
