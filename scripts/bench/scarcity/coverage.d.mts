// Types of coverage.mjs, for the tests that import it.
export interface AcceptedSubmission {
  atMs: number;
  objectType: string;
  paths: string[];
}
export interface RunMeasure {
  changedPaths: number;
  covered: number;
  coverage: number;
  urlUnits: number;
  dirUnits: number;
  urlRepeats: number;
  urlNeedless: number;
  dirRepeats: number;
  dirNeedless: number;
  urlRepeatShare: number;
  promotedUnits: number;
  promotedFolders: string[];
  sweptUnchanged: number;
  stalenessMs: { p50: number | null; p95: number | null; max: number | null };
  lastSubmissionAtMs: number | null;
}
export declare function measureRun(input: {
  changes: Map<string, number[]>;
  submissions: AcceptedSubmission[];
  requested: Set<string>;
  catalogue?: string[];
}): RunMeasure;
export declare function budgetSpentAt(
  submissions: AcceptedSubmission[],
  kind: 'url' | 'directory',
  budget: number,
): number | null;
export declare function refusalsOf(counts: { calls?: Record<string, Record<string, number>> }): {
  total: number;
  byCode: Record<string, number>;
};
