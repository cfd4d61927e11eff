import { accountErrorRule } from './account-errors.js';
import { type BackoffPolicy, backoffDelay } from './backoff.js';
import type { UpstreamAction } from './work-kinds.js';

/**
 * The deliberate reaction to every outcome of a call that submits work: RefreshVodObjectCaches,
 * PreloadVodObjectCaches and RefreshMediaPlayUrls (shared/vod-api.md, "Error codes ... and the
 * reaction refreshq owes each"), and to the per-media failures GetMediaRefreshJobs reports. This
 * file is the one place that decides what a code does: to the items of the call (settleCall's
 * fates), to the quota governor (units spent, the answer, an explicit hold), and to the breaker.
 * The submitter, the media-job follower and the Lua scripts only carry out what it returns.
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
  /**
   * Our credentials, permissions or clock are wrong (account-errors.ts), never the paths'. The
   * VOD client has already fetched the credentials anew and retried the call once; a call that
   * still gets one opens the breaker as for OperationDenied: paths stay queued, probes now and then.
   */
  | { kind: 'account-error' }
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

/**
 * PreloadVodObjectCaches answers the refresh codes above (domains, account, throttling, malformed
 * paths) plus its own. A full preload queue is held like a spent day: the day's preload budget is
 * what fills it, and retrying within the day only spends calls.
 */
const PRELOAD_CODES: Record<string, Reaction> = {
  PreloadQueueFull: { kind: 'hold-day' },
  /** More than 1,000 URLs in one call (MAX_PRELOADS_PER_CALL set too high): halves go through. */
  'InvalidObjectPath.Size.Malformed': { kind: 'split' },
};

/**
 * RefreshMediaPlayUrls documents no codes of its own beyond the common ones (an option out of
 * range would be InvalidParameter, an unknown code like every gateway's: intake checks every
 * option against the upstream's values first); refused media come back in
 * ForbiddenMediaIds and NonExistMediaIds of an accepted call (MEDIA_ITEM_CODES). Its play URLs are
 * submitted as URL refreshes or preloads, so their quota codes hold the type's budget.
 */
const MEDIA_CODES: Record<string, Reaction> = {
  PreloadQueueFull: { kind: 'hold-day' },
};

/** The codes a media id refused within an accepted RefreshMediaPlayUrls call ends `rejected` with. */
export const MEDIA_ITEM_CODES = {
  /** In ForbiddenMediaIds: the account (or this RAM identity) may not operate on it. */
  forbidden: 'MediaIdForbidden',
  /** In NonExistMediaIds: no such video or audio. */
  nonExistent: 'MediaIdNotFound',
} as const;

const ACTION_CODES: Record<UpstreamAction, Record<string, Reaction>> = {
  RefreshVodObjectCaches: {},
  PreloadVodObjectCaches: PRELOAD_CODES,
  RefreshMediaPlayUrls: MEDIA_CODES,
};

/** Codes the upstream documents but we do not expect; treated as transient, then given up. */
const UNKNOWN_CODE: Reaction = { kind: 'retry-then-reject', maxAttempts: 5, delayMs: MINUTE };

/**
 * `code` is the upstream error code, or undefined when no answer was read (timeout, reset,
 * non-JSON); `action` the call it answered (the codes of RefreshVodObjectCaches by default).
 */
export function reactionTo(
  code: string | undefined,
  action: UpstreamAction = 'RefreshVodObjectCaches',
): Reaction {
  if (code === undefined) return { kind: 'uncertain' };
  if (code === 'Throttling' || code.startsWith('Throttling.')) return { kind: 'backoff' };
  if (code.startsWith('OperationDenied.')) return { kind: 'open-breaker' };
  if (accountErrorRule(code)) return { kind: 'account-error' };
  return ACTION_CODES[action][code] ?? BY_CODE[code] ?? UNKNOWN_CODE;
}

/** How one call ended, as the client saw it. */
export type CallResult =
  /** `refused`: items the accepted call refused one by one (index → code), e.g. media ids. */
  | { kind: 'accepted'; refused?: ReadonlyMap<number, string> }
  /** The upstream answered with an error code. */
  | { kind: 'refused'; code: string }
  /** Nothing left this process (connection refused, DNS): nothing can have been accepted. */
  | { kind: 'not-sent'; code: string }
  /**
   * Sent at `calledAt`, but no answer was read (timeout, reset, non-JSON 5xx): it may have been
   * accepted. `endedAt`: when the client gave up on it.
   */
  | { kind: 'unanswered'; code: string; calledAt: number; endedAt: number };

/** What a path of a batch carries between attempts that reactions read and change. */
export interface AttemptState {
  /** Calls refused with a retry-then-reject code so far. */
  attempts: number;
  /** Consecutive backoffs, which size the next delay. */
  backoffs?: number;
  /** When a call carrying this path may have been accepted without us hearing back. */
  uncertainSince?: number;
  /** When the last such call ended (or its batch was taken back): no task of ours is younger. */
  uncertainUntil?: number;
}

export type RequeueReason =
  | 'backoff'
  | 'hold-minute'
  | 'hold-day'
  | 'throttled'
  | 'retry'
  | 'breaker'
  | 'account-error'
  | 'uncertain';

/** What becomes of one path of a call. */
export type PathFate =
  | { kind: 'submitted' }
  | { kind: 'rejected'; code: string }
  | {
      kind: 'requeue';
      delayMs: number;
      reason: RequeueReason;
      patch: Partial<AttemptState> & { lastCode?: string };
    };

/**
 * A hold the governor must put in force, already decided: which budget, until when, and how to
 * tune the budget. The governor's script computes the instant on its own clock.
 */
export interface QuotaHold {
  /** 'type': the call's object type; 'calls': every call of any type. */
  budget: 'type' | 'calls';
  until: { kind: 'next-minute' } | { kind: 'next-quota-day' } | { kind: 'after'; ms: number };
  /** Lower the learned per-minute budget below what the window held; halve the call rate. */
  tune?: 'lower-minute' | 'halve-call-rate';
  /** Shown in status answers and metrics (the upstream code). */
  reason: string;
}

/** How a granted call ended, for the refund and for tuning. */
export type CallAnswer = 'success' | 'refused' | 'unused' | 'uncertain';

/** What a batch's calls did with its quota grant: everything the governor's settle step needs. */
export interface Settlement {
  /** Units whose call was accepted, or may have been (no answer): they stay spent. */
  spent: number;
  answer: CallAnswer;
  hold?: QuotaHold;
  /** Open the account-wide breaker for probeMs, with this code. */
  breaker?: { code: string; probeMs: number };
  /** The budgets should be re-read from the upstream soon (a quota code was answered). */
  resyncQuota?: boolean;
}

export interface ReactionSettings {
  backoff: BackoffPolicy;
  breakerProbeMs: number;
  random?: () => number;
}

/** What a call is: the action its codes are read for, and how many quota units one item costs. */
export interface CallShape {
  action: UpstreamAction;
  /** 1 for a path; for a media id, the play URLs it is expected to expand to (settled later). */
  unitsPerItem: number;
}

export const REFRESH_CALL: CallShape = { action: 'RefreshVodObjectCaches', unitsPerItem: 1 };

/** The decision for one call of `states.length` paths: a fate per path, or a split. */
export type CallSettlement =
  | { split: true; settlement: Settlement; reaction: Reaction }
  | { split: false; fates: PathFate[]; settlement: Settlement; reaction: Reaction };

/** Throttling holds every call at most this long: the pressure is per second, the lower rate does the rest. */
export const THROTTLE_HOLD_MAX_MS = 10_000;

/** Decides everything that follows from one call's result. Pure: time and randomness come in. */
export function settleCall(
  result: CallResult,
  states: readonly AttemptState[],
  settings: ReactionSettings,
  call: CallShape = REFRESH_CALL,
): CallSettlement {
  const random = settings.random ?? Math.random;
  const count = states.length;
  const units = call.unitsPerItem;
  const nothing: Settlement = { spent: 0, answer: 'refused' };
  const all = (fate: (state: AttemptState) => PathFate) => states.map(fate);
  if (result.kind === 'accepted') {
    const refused = result.refused ?? new Map<number, string>();
    const fates = states.map((_state, index): PathFate => {
      const code = refused.get(index);
      return code === undefined ? { kind: 'submitted' } : { kind: 'rejected', code };
    });
    const accepted = fates.filter((fate) => fate.kind === 'submitted').length;
    return {
      split: false,
      reaction: { kind: 'uncertain' },
      fates,
      settlement: { spent: accepted * units, answer: 'success' },
    };
  }
  // Nothing sent backs off, unless it was for want of credentials: that is an account error.
  const reaction: Reaction =
    result.kind === 'refused'
      ? reactionTo(result.code, call.action)
      : result.kind === 'not-sent'
        ? reactionTo(result.code, call.action).kind === 'account-error'
          ? { kind: 'account-error' }
          : { kind: 'backoff' }
        : { kind: 'uncertain' };
  const code = result.code;
  const backoffFor = (state: AttemptState) => {
    const backoffs = (state.backoffs ?? 0) + 1;
    return { backoffs, delayMs: backoffDelay(backoffs, settings.backoff, random) };
  };

  switch (reaction.kind) {
    case 'backoff': {
      // One delay for the whole batch, sized by its first path, so the batch stays together.
      const { backoffs, delayMs } = backoffFor(states[0] ?? { attempts: 0 });
      if (result.kind === 'refused') {
        const holdMs = Math.min(THROTTLE_HOLD_MAX_MS, Math.max(delayMs, settings.backoff.baseMs));
        return {
          split: false,
          reaction,
          fates: all(() => ({
            kind: 'requeue',
            delayMs: 0,
            reason: 'throttled',
            patch: { backoffs, lastCode: code },
          })),
          settlement: {
            ...nothing,
            hold: {
              budget: 'calls',
              until: { kind: 'after', ms: holdMs },
              tune: 'halve-call-rate',
              reason: code,
            },
          },
        };
      }
      return {
        split: false,
        reaction,
        fates: all(() => ({
          kind: 'requeue',
          delayMs,
          reason: 'backoff',
          patch: { backoffs, lastCode: code },
        })),
        settlement: nothing,
      };
    }
    // Quota refusals spend nothing. The governor holds the type on its own clock, so the paths
    // stay eligible and go as soon as it allows.
    case 'hold-minute':
      return {
        split: false,
        reaction,
        fates: all(() => ({ kind: 'requeue', delayMs: 0, reason: 'hold-minute', patch: { lastCode: code } })),
        settlement: {
          ...nothing,
          resyncQuota: true,
          hold: { budget: 'type', until: { kind: 'next-minute' }, tune: 'lower-minute', reason: code },
        },
      };
    case 'hold-day':
      return {
        split: false,
        reaction,
        fates: all(() => ({ kind: 'requeue', delayMs: 0, reason: 'hold-day', patch: { lastCode: code } })),
        settlement: {
          ...nothing,
          resyncQuota: true,
          hold: { budget: 'type', until: { kind: 'next-quota-day' }, reason: code },
        },
      };
    case 'retry-then-reject':
      return {
        split: false,
        reaction,
        fates: all((state) =>
          state.attempts + 1 >= reaction.maxAttempts
            ? { kind: 'rejected', code }
            : {
                kind: 'requeue',
                delayMs: reaction.delayMs + Math.round(random() * (reaction.delayMs / 10)),
                reason: 'retry',
                patch: { attempts: state.attempts + 1, lastCode: code },
              },
        ),
        settlement: nothing,
      };
    case 'reject':
      return { split: false, reaction, fates: all(() => ({ kind: 'rejected', code })), settlement: nothing };
    case 'split':
      if (count <= 1)
        return {
          split: false,
          reaction,
          fates: all(() => ({ kind: 'rejected', code })),
          settlement: nothing,
        };
      return { split: true, reaction, settlement: nothing };
    // Attempts are not counted: however long the account is refused, no path is rejected for it.
    case 'open-breaker':
    case 'account-error':
      return {
        split: false,
        reaction,
        fates: all(() => ({
          kind: 'requeue',
          delayMs: settings.breakerProbeMs,
          reason: reaction.kind === 'open-breaker' ? 'breaker' : 'account-error',
          patch: { lastCode: code },
        })),
        settlement: { ...nothing, breaker: { code, probeMs: settings.breakerProbeMs } },
      };
    case 'uncertain': {
      const call = result.kind === 'unanswered' ? result : undefined;
      return {
        split: false,
        reaction,
        fates: all((state) => {
          const { backoffs, delayMs } = backoffFor(state);
          const window = call
            ? {
                uncertainSince: state.uncertainSince ?? call.calledAt,
                uncertainUntil: Math.max(state.uncertainUntil ?? call.endedAt, call.endedAt),
              }
            : {};
          return {
            kind: 'requeue',
            delayMs,
            reason: 'uncertain',
            patch: { backoffs, lastCode: code, ...window },
          };
        }),
        settlement: { spent: count * units, answer: 'uncertain' },
      };
    }
  }
}

/** What becomes of a media whose job GetMediaRefreshJobs reports failed (its play URLs not submitted). */
export type MediaJobFate =
  /** Running out of quota delays work, never fails it: the media goes back to the pool. */
  { kind: 'requeue'; delayMs: number; hold?: QuotaHold } | { kind: 'failed'; code: string };

/**
 * The reaction to a media job's ErrorCode (e.g. `PreloadQueueFull`): a quota or throttling code
 * puts the media back, with the hold the same code gets from a call; anything else ends it failed
 * with the code. The job spent nothing for it, so its reserved units are given back either way.
 */
export function mediaJobFate(errorCode: string | undefined, settings: ReactionSettings): MediaJobFate {
  const code = errorCode === undefined || errorCode === '' ? 'MediaRefreshJobFailed' : errorCode;
  const reaction = reactionTo(code, 'RefreshMediaPlayUrls');
  switch (reaction.kind) {
    case 'hold-day':
      return {
        kind: 'requeue',
        delayMs: 0,
        hold: { budget: 'type', until: { kind: 'next-quota-day' }, reason: code },
      };
    case 'hold-minute':
      return {
        kind: 'requeue',
        delayMs: 0,
        hold: { budget: 'type', until: { kind: 'next-minute' }, tune: 'lower-minute', reason: code },
      };
    case 'backoff':
      return { kind: 'requeue', delayMs: backoffDelay(1, settings.backoff, settings.random) };
    default:
      return { kind: 'failed', code };
  }
}

/**
 * One settlement for a batch whose paths went in several calls (a split): units add up, a hold
 * or breaker of any call stands, and the answer is 'success' only when a call was accepted and
 * none asked for a hold.
 */
export function combineSettlements(parts: readonly Settlement[]): Settlement {
  const spent = parts.reduce((sum, part) => sum + part.spent, 0);
  const hold = parts.findLast((part) => part.hold)?.hold;
  const breaker = parts.findLast((part) => part.breaker)?.breaker;
  const answer: CallAnswer = hold
    ? 'refused'
    : parts.some((part) => part.answer === 'success')
      ? 'success'
      : spent > 0
        ? 'uncertain'
        : parts.length === 0
          ? 'unused'
          : 'refused';
  return {
    spent,
    answer,
    ...(hold ? { hold } : {}),
    ...(breaker ? { breaker } : {}),
    ...(parts.some((part) => part.resyncQuota) ? { resyncQuota: true } : {}),
  };
}

/**
 * A look-up waits at most this long before it is tried again: it spends no quota, and its calls
 * stay within the describe budget (TASK_POLL_CALLS_PER_SECOND) however often it is retried.
 */
export const LOOKUP_RETRY_MAX_MS = 10_000;

/**
 * The look-up of a batch's uncertain paths (DescribeVodRefreshTasks) could not list everything:
 * the paths not found stay uncertain and are looked up again after one delay for all of them,
 * sized by the first and capped at LOOKUP_RETRY_MAX_MS, so the batch stays together (one
 * look-up next time, not one chain of retries per path).
 */
export function lookupFailed(states: readonly AttemptState[], settings: ReactionSettings): PathFate[] {
  const backoffs = (states[0]?.backoffs ?? 0) + 1;
  const policy = { ...settings.backoff, maxMs: Math.min(settings.backoff.maxMs, LOOKUP_RETRY_MAX_MS) };
  const delayMs = backoffDelay(backoffs, policy, settings.random ?? Math.random);
  return states.map(() => ({ kind: 'requeue', delayMs, reason: 'uncertain', patch: { backoffs } }));
}

/**
 * The look-up answered and listed no task of ours for the path: it is submitted as a first try.
 * The upstream answered, so the faults in a row are over and the backoff count starts again.
 */
export const LOOKED_UP_NOT_FOUND: Partial<AttemptState> = {
  uncertainSince: undefined,
  uncertainUntil: undefined,
  backoffs: 0,
};
