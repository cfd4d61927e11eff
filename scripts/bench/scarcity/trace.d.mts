// Types of trace.mjs, for the tests that import it.
export interface TraceEvent {
  atMs: number;
  objectType: 'File' | 'Directory';
  paths: string[];
  priority?: 'high' | 'normal' | 'low';
  kind: string;
  /** Which edit the hook belongs to (every hook of one save shares it). */
  edit: number;
  /** The first hook of an edit: the content changed just before it was sent. */
  change: boolean;
}
export interface Trace {
  settings: { seed: number; scale: number; durationMs: number };
  budget: { urls: number; dirs: number };
  catalogue: string[];
  events: TraceEvent[];
}
export declare function generateTrace(options?: {
  seed?: number;
  scale?: number;
  durationMs?: number;
}): Trace;
export declare function changeTimes(
  trace: Pick<Trace, 'events' | 'catalogue'>,
  timeOf?: (event: TraceEvent, index: number) => number,
): Map<string, number[]>;
export declare function requestedDirectories(trace: Pick<Trace, 'events'>): Set<string>;
export declare function describeTrace(trace: Trace): {
  hooks: number;
  edits: number;
  byKind: Record<string, { edits: number; hooks: number }>;
  catalogueObjects: number;
  distinctChangedPaths: number;
  changedPerUrlUnit: number;
  lastHookAtMs: number;
};
