import { sleep } from './processes.js';

/** A request intake answered 202, with the paths it was sent (already canonical: lower-case, plain). */
export interface Accepted {
  id: string;
  paths: string[];
  /** Local time of the 202. */
  at: number;
}

export interface PathView {
  path: string;
  state: string;
  taskId?: string;
  error?: { code: string; message: string };
  submittedAt?: string;
  updatedAt?: string;
}

export interface RequestView {
  id: string;
  state: string;
  receivedAt?: string;
  paths: PathView[];
}

/** The request that took longest from its 202 to its last path's outcome (status API times: receivedAt, submittedAt). */
export function slowest(
  views: Map<string, RequestView | undefined>,
): { id: string; receivedAt: number; ms: number } | undefined {
  let worst: { id: string; receivedAt: number; ms: number } | undefined;
  for (const view of views.values()) {
    if (!view?.receivedAt) continue;
    const received = Date.parse(view.receivedAt);
    // When the path got its outcome: submittedAt (later updates, e.g. task tracking, do not count), else updatedAt.
    const ended = Math.max(
      ...view.paths.map((path) => Date.parse(path.submittedAt ?? path.updatedAt ?? view.receivedAt ?? '')),
    );
    if (Number.isFinite(ended) && (!worst || ended - received > worst.ms))
      worst = { id: view.id, receivedAt: received, ms: ended - received };
  }
  return worst;
}

const FINAL = new Set(['submitted', 'rejected', 'refreshing', 'complete', 'failed', 'unconfirmed']);

async function getView(intakeUrl: string, id: string): Promise<{ status: number; view?: RequestView }> {
  try {
    const response = await fetch(`${intakeUrl}/v1/refreshes/${id}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as RequestView;
    return response.status === 200 ? { status: 200, view: body } : { status: response.status };
  } catch {
    return { status: 0 };
  }
}

function finished(request: Accepted, view: RequestView | undefined): boolean {
  if (!view) return false;
  if (view.paths.length !== request.paths.length) return false;
  return view.paths.every((path) => FINAL.has(path.state));
}

/**
 * Polls GET /v1/refreshes/:id of every accepted request until each path has an outcome or
 * `timeoutMs` passes. With `isIdle`, it also stops early once nothing can move any more: the
 * open requests did not change for 3 polls in a row and the pool is idle (no intake job waiting
 * or active, nothing pending or leased). Returns the last view of each request.
 */
export async function waitForOutcomes(
  intakeUrl: () => string,
  accepted: readonly Accepted[],
  timeoutMs: number,
  isIdle?: () => Promise<boolean>,
  concurrency = 8,
): Promise<{
  done: boolean;
  views: Map<string, RequestView | undefined>;
  statuses: Map<string, number>;
  doneAt: number;
  stalled: boolean;
}> {
  const views = new Map<string, RequestView | undefined>();
  const statuses = new Map<string, number>();
  let open = [...accepted];
  let unchanged = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const still: Accepted[] = [];
    for (let i = 0; i < open.length; i += concurrency) {
      const slice = open.slice(i, i + concurrency);
      const answers = await Promise.all(slice.map((request) => getView(intakeUrl(), request.id)));
      slice.forEach((request, index) => {
        const answer = answers[index] as { status: number; view?: RequestView };
        statuses.set(request.id, answer.status);
        if (answer.view) views.set(request.id, answer.view);
        if (!finished(request, answer.view)) still.push(request);
      });
    }
    unchanged = still.length === open.length ? unchanged + 1 : 0;
    open = still;
    if (open.length === 0) return { done: true, views, statuses, doneAt: Date.now(), stalled: false };
    if (Date.now() > deadline) return { done: false, views, statuses, doneAt: Date.now(), stalled: false };
    if (isIdle && unchanged >= 3 && (await isIdle().catch(() => false)))
      return { done: false, views, statuses, doneAt: Date.now(), stalled: true };
    await sleep(open.length > 50 ? 1000 : 300);
  }
}

export interface Submission {
  paths: string[];
  taskIds: string[];
  answer: 'sent' | 'lost';
  atMs: number;
}

export async function emulatorSubmissions(emulatorUrl: string): Promise<Submission[]> {
  const response = await fetch(`${emulatorUrl}/_emulator/submissions`);
  return ((await response.json()) as { submissions: Submission[] }).submissions;
}

export async function emulatorCounts(emulatorUrl: string): Promise<{
  calls: Record<string, Record<string, number>>;
  submissions: number;
  urlsAccepted: number;
  lostAnswers: number;
}> {
  const response = await fetch(`${emulatorUrl}/_emulator/counts`);
  return (await response.json()) as never;
}

export interface Audit {
  requests: number;
  paths: number;
  submitted: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  /** Accepted paths without an outcome (lost or stuck), with what the status API said. */
  missing: { id: string; path: string; state: string }[];
  /** Submitted paths whose task id the upstream never gave for that path. */
  unknownTaskIds: { id: string; path: string; taskId: string | undefined }[];
  /**
   * Submitted paths whose `taskId` lists several ids (comma-separated) that include the right
   * one: the worker kept the whole RefreshTaskId because the call straddled the upstream's
   * 2,000-tasks-per-id boundary (finding D5). Truthful, but not one task id.
   */
  ambiguousTaskIds: { id: string; path: string; taskId: string }[];
  /** Paths the upstream accepted more than once: sum over paths of (times submitted - 1). */
  duplicates: number;
  duplicatePaths: string[];
  upstreamCalls: number;
}

/** Checks every accepted path against the status API and the emulator's record of submissions. */
export function audit(
  accepted: readonly Accepted[],
  views: Map<string, RequestView | undefined>,
  statuses: Map<string, number>,
  submissions: readonly Submission[],
): Audit {
  const tasksOf = new Map<string, Set<string>>();
  const timesSubmitted = new Map<string, number>();
  for (const submission of submissions) {
    submission.paths.forEach((path, index) => {
      timesSubmitted.set(path, (timesSubmitted.get(path) ?? 0) + 1);
      const ids = tasksOf.get(path) ?? new Set<string>();
      ids.add(submission.taskIds[index] as string);
      tasksOf.set(path, ids);
    });
  }
  const result: Audit = {
    requests: accepted.length,
    paths: 0,
    submitted: 0,
    rejected: 0,
    rejectedByCode: {},
    missing: [],
    unknownTaskIds: [],
    ambiguousTaskIds: [],
    duplicates: 0,
    duplicatePaths: [],
    upstreamCalls: submissions.length,
  };
  for (const request of accepted) {
    result.paths += request.paths.length;
    const view = views.get(request.id);
    const byPath = new Map((view?.paths ?? []).map((path) => [path.path, path]));
    for (const path of request.paths) {
      const seen = byPath.get(path);
      if (!seen || !FINAL.has(seen.state)) {
        result.missing.push({
          id: request.id,
          path,
          state: seen?.state ?? `no status (HTTP ${statuses.get(request.id) ?? '?'})`,
        });
      } else if (seen.state === 'rejected') {
        result.rejected += 1;
        const code = seen.error?.code ?? '(no code)';
        result.rejectedByCode[code] = (result.rejectedByCode[code] ?? 0) + 1;
      } else {
        result.submitted += 1;
        const real = tasksOf.get(path) ?? new Set<string>();
        if (seen.taskId && real.has(seen.taskId)) continue;
        const listed = (seen.taskId ?? '').split(',').map((id) => id.trim());
        if (seen.taskId && listed.length > 1 && listed.some((id) => real.has(id)))
          result.ambiguousTaskIds.push({ id: request.id, path, taskId: seen.taskId });
        else result.unknownTaskIds.push({ id: request.id, path, taskId: seen.taskId });
      }
    }
  }
  for (const [path, times] of timesSubmitted) {
    if (times > 1) {
      result.duplicates += times - 1;
      result.duplicatePaths.push(path);
    }
  }
  return result;
}

/** How many of `paths` the upstream accepted at least once. */
export function countSubmitted(paths: readonly string[], submissions: readonly Submission[]): number {
  const seen = new Set(submissions.flatMap((submission) => submission.paths));
  return paths.filter((path) => seen.has(path)).length;
}
