/**
 * The deliberate reaction to every outcome of a RefreshVodObjectCaches call
 * (shared/vod-api.md, "Error codes ... and the reaction refreshq owes each").
 */
export type Reaction =
  /** Nothing spent: retry after a backoff with jitter and slow the call rate. */
  | { kind: 'backoff' }
  /** Nothing spent: hold the batch to the next minute. */
  | { kind: 'hold-minute' }
  /** Daily quota used up: hold everything of that type to the next quota day. */
  | { kind: 'hold-day' }
  /** Transient on the upstream's side: retry after `delayMs`, at most `maxAttempts` calls, then reject. */
  | { kind: 'retry-then-reject'; maxAttempts: number; delayMs: number }
  /** Final for these paths: record them rejected with the code. */
  | { kind: 'reject'; alert: boolean }
  /** One or more paths are malformed: split the batch to find them. */
  | { kind: 'split' }
  /** Account-wide refusal: stop all submitting, keep paths queued, probe now and then. */
  | { kind: 'open-breaker' }
  /** The call may or may not have been accepted: look before submitting again. */
  | { kind: 'uncertain' };

const MINUTE = 60_000;

const BY_CODE: Record<string, Reaction> = {
  'QuotaPerMinuteExceeded.Refresh': { kind: 'hold-minute' },
  'QuotaExceeded.Refresh': { kind: 'hold-day' },
  ServiceBusy: { kind: 'retry-then-reject', maxAttempts: 6, delayMs: 5 * MINUTE },
  'InvalidDomain.Configure_failed': { kind: 'retry-then-reject', maxAttempts: 3, delayMs: MINUTE },
  IllegalOperation: { kind: 'reject', alert: false },
  'InvalidDomain.NotFound': { kind: 'reject', alert: false },
  'InvalidDomain.Offline': { kind: 'reject', alert: false },
  'InvalidExtensiveDomain.ValueNotSupported': { kind: 'reject', alert: false },
  'InvalidObjectPath.Malformed': { kind: 'split' },
  'InvalidObjectType.ValueNotSupported': { kind: 'reject', alert: true },
  MissingParameter: { kind: 'reject', alert: true },
  OperationDenied: { kind: 'open-breaker' },
  'OperationDenied.Suspended': { kind: 'open-breaker' },
};

/** Codes the upstream documents but we do not expect; treated as transient, then given up. */
const UNKNOWN_CODE: Reaction = { kind: 'retry-then-reject', maxAttempts: 5, delayMs: MINUTE };

/** `code` is the upstream error code, or undefined when no answer was read (timeout, reset, non-JSON). */
export function reactionTo(code: string | undefined): Reaction {
  if (code === undefined) return { kind: 'uncertain' };
  if (code === 'Throttling' || code.startsWith('Throttling.')) return { kind: 'backoff' };
  if (code.startsWith('OperationDenied.')) return { kind: 'open-breaker' };
  return BY_CODE[code] ?? UNKNOWN_CODE;
}
