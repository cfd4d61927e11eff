import type { RefreshObjectType } from './paths.js';

/** The logs of accepted submissions (refreshes, preloads), for tests to inspect. Bounded. */

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

/** A PreloadVodObjectCaches call that was accepted. */
export interface PreloadSubmission {
  at: string;
  atMs: number;
  requestId: string;
  accessKeyId: string;
  paths: string[];
  taskIds: string[];
  /** The value answered as `PreloadTaskId`. */
  preloadTaskId: string;
  /** The optional parameters as sent (`Area`, `L2Preload`, `WithHeader`). */
  area?: string;
  l2Preload?: boolean;
  withHeader?: string;
  answer: 'sent' | 'lost';
}

export class SubmissionLog<T extends { paths: string[]; taskIds: string[] } = Submission> {
  private entries: T[] = [];
  private droppedCount = 0;

  constructor(private readonly maxEntries = 100_000) {}

  add(entry: T): void {
    this.entries.push(entry);
    if (this.entries.length > this.maxEntries) {
      this.entries.shift();
      this.droppedCount++;
    }
  }

  list(): T[] {
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
