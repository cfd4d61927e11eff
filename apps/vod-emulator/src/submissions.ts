import type { RefreshObjectType } from './paths.js';

/** The log of accepted RefreshVodObjectCaches submissions, for tests to inspect. Bounded. */

export interface Submission {
  /** Emulated time of acceptance, ISO 8601 with milliseconds. */
  at: string;
  atMs: number;
  requestId: string;
  accessKeyId: string;
  objectType: RefreshObjectType;
  force: boolean;
  paths: string[];
  /** Task id of each path, in the order of `paths`. */
  taskIds: string[];
  /** The value answered as `RefreshTaskId`. */
  refreshTaskId: string;
  /** `lost` when a fault destroyed or withheld the answer after the submission was accepted. */
  answer: 'sent' | 'lost';
}

export class SubmissionLog {
  private entries: Submission[] = [];
  private droppedCount = 0;

  constructor(private readonly maxEntries = 100_000) {}

  add(entry: Submission): void {
    this.entries.push(entry);
    if (this.entries.length > this.maxEntries) {
      this.entries.shift();
      this.droppedCount++;
    }
  }

  list(): Submission[] {
    return this.entries.map((e) => ({ ...e, paths: [...e.paths], taskIds: [...e.taskIds] }));
  }

  get size(): number {
    return this.entries.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  clear(): void {
    this.entries = [];
    this.droppedCount = 0;
  }
}
