/** Counters of answered calls, by action and outcome, and of accepted work. */

export interface CallCounts {
  /** action → outcome (`OK`, an error code, or `fault:<kind>`) → calls. */
  calls: Record<string, Record<string, number>>;
  /** Accepted RefreshVodObjectCaches calls (answer sent or lost). */
  submissions: number;
  urlsAccepted: number;
  dirsAccepted: number;
  /** URLs accepted by PreloadVodObjectCaches. */
  preloadsAccepted: number;
  /** RefreshMediaPlayUrls jobs created, and the play URLs they submitted. */
  mediaJobs: number;
  playUrlsSubmitted: number;
  /** Accepted submissions whose answer a fault destroyed or withheld. */
  lostAnswers: number;
}

export function emptyCounts(): CallCounts {
  return {
    calls: {},
    submissions: 0,
    urlsAccepted: 0,
    dirsAccepted: 0,
    preloadsAccepted: 0,
    mediaJobs: 0,
    playUrlsSubmitted: 0,
    lostAnswers: 0,
  };
}

export function countCall(counts: CallCounts, action: string, outcome: string): void {
  counts.calls[action] ??= {};
  const byOutcome = counts.calls[action];
  byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
}
