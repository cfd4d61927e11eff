/** What the exit code of `refreshq` says (README, "The command line"). */
export const EXIT = {
  /** Done; with --wait, every path ended complete. */
  ok: 0,
  /** --wait: the request ended with paths failed, rejected or cancelled. */
  unsuccessful: 1,
  /** A bad command line (unknown command or option, missing argument). */
  usage: 2,
  /** The API refused the call (a 4xx answer: bad input, unknown id, no token, ...). */
  refused: 3,
  /** The service could not be reached, or answered 5xx (Redis down: 503). */
  unavailable: 4,
  /** --wait gave up after --timeout with paths still open. */
  timedOut: 5,
} as const;
