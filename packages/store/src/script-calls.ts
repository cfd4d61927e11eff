import type { BudgetFamily, CallScope, Priority, Settlement, WorkType } from '@refreshq/domain';
import type { Redis } from './redis-connection.js';
import type { IdempotencyRecord } from './idempotency-store.js';
import type { Keyspace } from './keyspace.js';
import { runScript, type ScriptName } from './lua-scripts.js';
import type { BatchItem, Claim, ClaimedBatch, PathOutcome } from './pending-pool.js';
import type { Grant, QuotaBudgets, Refusal } from './quota-governor.js';
import type { RequestMeta } from './request-record.js';
import type { AdmitResult, AdmitSettings, CancelOutcome } from './request-store.js';
import type { MediaItemStatus, TaskPathView } from './task-store.js';

/**
 * One script's call: the KEYS it is given, by name and in the order its header lists them; its
 * ARGV; and its reply decoded into a typed value. Stores call scripts only through these.
 */
export interface ScriptSpec<A, R> {
  name: ScriptName;
  keys: Record<string, (keys: Keyspace, args: A) => string>;
  argv(args: A): (string | number)[];
  decode(reply: unknown, args: A): R;
}

export interface ScriptCall<A, R> {
  (redis: Redis, keys: Keyspace, args: A): Promise<R>;
  /** The reply as Redis sent it (tests of a script's own contract). */
  raw(redis: Redis, keys: Keyspace, args: A): Promise<unknown>;
  spec: ScriptSpec<A, R>;
}

function script<A, R>(spec: ScriptSpec<A, R>): ScriptCall<A, R> {
  const keyBuilders = Object.values(spec.keys);
  const raw = (redis: Redis, keys: Keyspace, args: A) =>
    runScript(
      redis,
      spec.name,
      keyBuilders.map((key) => key(keys, args)),
      spec.argv(args),
    );
  const call = (redis: Redis, keys: Keyspace, args: A) =>
    raw(redis, keys, args).then((reply) => spec.decode(reply, args));
  return Object.assign(call, { raw, spec });
}

/** A multi-bulk reply of at least `length` elements, or a clear error naming the script. */
function tuple(reply: unknown, length: number, name: ScriptName): unknown[] {
  if (!Array.isArray(reply) || reply.length < length)
    throw new Error(`script ${name} replied ${JSON.stringify(reply)}, expected ${length} values`);
  return reply;
}

const strings = (reply: unknown): string[] => (Array.isArray(reply) ? reply.map(String) : []);

/** Lua's cjson writes an empty array as `{}`. */
function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

type ClockMode = QuotaBudgets['clockMode'];

/**
 * The calls-per-second keys of an action: RefreshVodObjectCaches keeps the keys it always had,
 * every other action (PreloadVodObjectCaches, RefreshMediaPlayUrls) its own scope's.
 */
const callKeys = (k: Keyspace, scope: CallScope = 'refresh') =>
  scope === 'refresh'
    ? { calls: k.quotaCalls, learnedCps: k.learnedCps, hold: k.callsHold }
    : { calls: k.scopedCalls(scope), learnedCps: k.scopedLearnedCps(scope), hold: k.scopedCallsHold(scope) };

/** (path, pool domain) pairs as admit-request's ARGV takes them: per domain, its count and its paths. */
function byDomain(paths: readonly (readonly [string, string])[]): string[] {
  const groups = new Map<string, string[]>();
  for (const [path, domain] of paths) {
    const group = groups.get(domain);
    if (group) group.push(path);
    else groups.set(domain, [path]);
  }
  const argv: string[] = [];
  for (const [domain, group] of groups) argv.push(domain, String(group.length), ...group);
  return argv;
}

export const admitRequest = script<
  {
    meta: RequestMeta;
    settings: AdmitSettings;
    /** (path, pool domain) pairs, in the request's order. */
    paths: readonly (readonly [string, string])[];
    /** The pool type its items go into (default: the request's object type). */
    type?: WorkType;
    /** Index its paths for GET /v1/paths (not a request by media ids, whose items are no paths). */
    indexPaths: boolean;
    keepPerPath: number;
  },
  AdmitResult
>({
  name: 'admitRequest',
  keys: {
    request: (k, a) => k.request(a.meta.id),
    backlog: (k) => k.backlog,
    requestIndex: (k) => k.requestIndex,
  },
  argv: ({ meta, settings, paths, type, indexPaths, keepPerPath }) => [
    meta.id,
    JSON.stringify(meta),
    type ?? meta.objectType,
    meta.priority,
    settings.windowMs,
    settings.maxFilesPerCall,
    settings.maxDirsPerCall,
    settings.retentionSeconds,
    settings.promoteAt,
    indexPaths ? meta.objectType : '',
    keepPerPath,
    meta.receivedAt,
    ...byDomain(paths),
  ],
  decode: (reply) => {
    const result = Number(reply);
    return result === 0 ? { admitted: false } : { admitted: true, coalesced: result - 1 };
  },
});

export const claimBatch = script<
  {
    objectType: WorkType;
    lane: Priority;
    batchId: string;
    maxPerCall: number;
    leaseMs: number;
    windowMs: number;
    quietMs: number;
    patienceMs: number;
    /** The quota day of the grant, on the governor's clock. */
    day: number;
    hotQuietMs: number;
    hotHoldMs: number;
  },
  Claim
>({
  name: 'claimBatch',
  keys: {
    ready: (k, a) => k.ready(a.objectType, a.lane),
    pendingMeta: (k, a) => k.pendingMeta(a.objectType),
    inflightPaths: (k, a) => k.inflightPaths(a.objectType),
    backlog: (k) => k.backlog,
    inflight: (k) => k.inflight,
    batch: (k, a) => k.batch(a.batchId),
    pressure: (k) => k.pressure,
    refreshed: (k, a) => k.refreshed(a.objectType, a.day),
    repeats: (k, a) => k.repeats(a.objectType, a.lane),
  },
  argv: (a) => [
    a.objectType,
    a.lane,
    a.maxPerCall,
    a.leaseMs,
    a.batchId,
    a.windowMs,
    a.quietMs,
    a.patienceMs,
    a.day,
    a.hotQuietMs,
    a.hotHoldMs,
  ],
  decode: (reply) => {
    const [found, value, held] = tuple(reply, 3, 'claimBatch');
    const heldRepeats = Number(held);
    if (Number(found) !== 1) return { batch: undefined, retryInMs: Number(value), heldRepeats };
    const raw = JSON.parse(String(value)) as ClaimedBatch;
    const items = asArray<BatchItem>(raw.items).map((item) => ({
      path: item.path,
      requestIds: asArray<string>(item.requestIds),
      meta: { ...item.meta, attempts: Number(item.meta?.attempts ?? 0) },
    }));
    return { batch: { ...raw, items }, heldRepeats };
  },
});

export const finishBatch = script<
  {
    batchId: string;
    outcomes: Map<string, PathOutcome>;
    windowMs: number;
    maxFilesPerCall: number;
    maxDirsPerCall: number;
    firstPollMs: number;
    /** Act only on a batch whose lease ran out (the reclaim of a dead holder's batch). */
    onlyIfExpired: boolean;
    /** The quota day of the call (its grant's), or -1 when unknown: nothing is marked refreshed. */
    day: number;
  },
  boolean
>({
  name: 'finishBatch',
  keys: {
    batch: (k, a) => k.batch(a.batchId),
    inflight: (k) => k.inflight,
    backlog: (k) => k.backlog,
    tracking: (k) => k.tracking,
    callbacksDue: (k) => k.callbacksDue,
    refreshedFiles: (k, a) => k.refreshed('File', a.day),
    refreshedDirectories: (k, a) => k.refreshed('Directory', a.day),
  },
  argv: (a) => [
    a.batchId,
    a.windowMs,
    a.maxFilesPerCall,
    a.maxDirsPerCall,
    a.onlyIfExpired ? '1' : '0',
    JSON.stringify(Object.fromEntries(a.outcomes)),
    a.firstPollMs,
    a.day,
  ],
  decode: (reply) => Number(reply) === 1,
});

export const renewLease = script<{ batchId: string; leaseMs: number }, boolean>({
  name: 'renewLease',
  keys: {
    batch: (k, a) => k.batch(a.batchId),
    inflight: (k) => k.inflight,
  },
  argv: (a) => [a.batchId, a.leaseMs],
  decode: (reply) => Number(reply) === 1,
});

export const claimIdempotencyKey = script<
  { digest: string; candidate: IdempotencyRecord; ttlSeconds: number },
  IdempotencyRecord | undefined
>({
  name: 'claimIdempotencyKey',
  keys: { idempotency: (k, a) => k.idempotency(a.digest) },
  argv: (a) => [JSON.stringify(a.candidate), a.ttlSeconds],
  decode: (reply) => (typeof reply === 'string' ? (JSON.parse(reply) as IdempotencyRecord) : undefined),
});

export const takeQuota = script<
  {
    /** The budget family the units come from (File, Directory, Preload). */
    objectType: BudgetFamily;
    /** Whose calls per second the call counts against (default: RefreshVodObjectCaches'). */
    scope?: CallScope;
    lane: Priority;
    want: number;
    ticket: string;
    dayBudget: number;
    minuteBudget: number;
    callsPerSecond: number;
    highReservePercent: number;
    utcOffsetMinutes: number;
    clockMode: ClockMode;
  },
  Grant | Refusal
>({
  name: 'takeQuota',
  keys: {
    grant: (k, a) => k.grant(a.ticket),
    hold: (k, a) => k.hold(a.objectType),
    callsHold: (k, a) => callKeys(k, a.scope).hold,
    quotaCalls: (k, a) => callKeys(k, a.scope).calls,
    learnedCps: (k, a) => callKeys(k, a.scope).learnedCps,
    quotaMinute: (k, a) => k.quotaMinute(a.objectType),
    quotaMinuteSum: (k, a) => k.quotaMinuteSum(a.objectType),
    learnedMinute: (k, a) => k.learnedMinute(a.objectType),
    clockOffset: (k) => k.clockOffset,
  },
  argv: (a) => [
    a.objectType,
    a.lane,
    a.want,
    a.ticket,
    a.dayBudget,
    a.minuteBudget,
    a.callsPerSecond,
    a.highReservePercent,
    a.utcOffsetMinutes,
    a.clockMode,
  ],
  decode: (reply, { ticket }) => {
    const [first, second, third] = tuple(reply, 3, 'takeQuota');
    const granted = Number(first);
    if (granted === 0) return { ok: false, granted: 0, waitMs: Number(second), short: String(third) };
    return { ok: true, granted, ticket, day: Number(second), now: Number(third) };
  },
});

export const settleQuota = script<
  {
    objectType: BudgetFamily;
    scope?: CallScope;
    grant: Grant;
    settlement: Settlement;
    minuteBudget: number;
    callsPerSecond: number;
    utcOffsetMinutes: number;
    clockMode: ClockMode;
  },
  number
>({
  name: 'settleQuota',
  keys: {
    settled: (k, a) => k.settled(a.grant.ticket),
    quotaMinute: (k, a) => k.quotaMinute(a.objectType),
    quotaMinuteSum: (k, a) => k.quotaMinuteSum(a.objectType),
    quotaDay: (k, a) => k.quotaDay(a.objectType, a.grant.day),
    learnedMinute: (k, a) => k.learnedMinute(a.objectType),
    learnedCps: (k, a) => callKeys(k, a.scope).learnedCps,
    hold: (k, a) =>
      a.settlement.hold?.budget === 'calls' ? callKeys(k, a.scope).hold : k.hold(a.objectType),
    clockOffset: (k) => k.clockOffset,
  },
  argv: ({ grant, settlement, ...a }) => {
    const hold = settlement.hold;
    return [
      grant.ticket,
      grant.granted,
      Math.min(settlement.spent, grant.granted),
      settlement.answer,
      hold?.until.kind ?? '',
      hold?.until.kind === 'after' ? Math.max(1, Math.round(hold.until.ms)) : 0,
      hold?.tune ?? '',
      hold?.reason ?? '',
      a.minuteBudget,
      a.callsPerSecond,
      a.utcOffsetMinutes,
      a.clockMode,
    ];
  },
  decode: Number,
});

export const syncQuota = script<
  {
    objectType: BudgetFamily;
    upstreamQuota: number;
    upstreamRemain: number;
    utcOffsetMinutes: number;
    clockMode: ClockMode;
  },
  number
>({
  name: 'syncQuota',
  keys: { clockOffset: (k) => k.clockOffset },
  argv: (a) => [a.objectType, a.upstreamQuota, a.upstreamRemain, a.utcOffsetMinutes, a.clockMode],
  decode: Number,
});

export const adjustQuota = script<
  { objectType: BudgetFamily; delta: number; utcOffsetMinutes: number; clockMode: ClockMode },
  number
>({
  name: 'adjustQuota',
  keys: { clockOffset: (k) => k.clockOffset },
  argv: (a) => [a.objectType, Math.round(a.delta), a.utcOffsetMinutes, a.clockMode],
  decode: Number,
});

export const claimDue = script<
  { schedule: 'tracking' | 'callbacksDue'; max: number; leaseMs: number },
  string[]
>({
  name: 'claimDue',
  keys: { schedule: (k, a) => k[a.schedule] },
  argv: (a) => [a.max, a.leaseMs],
  decode: strings,
});

export const renewDue = script<
  { schedule: 'tracking' | 'callbacksDue'; ids: readonly string[]; leaseMs: number },
  number
>({
  name: 'renewDue',
  keys: { schedule: (k, a) => k[a.schedule] },
  argv: (a) => [a.leaseMs, ...a.ids],
  decode: Number,
});

export const finishTask = script<
  {
    taskId: string;
    byPath: Map<string, TaskPathView>;
    ended: boolean;
    nextPollMs: number;
    /** What every path the upstream did not list becomes (the last look before giving up); absent: left as it is. */
    unlisted?: TaskPathView;
  },
  { requestIds: string[]; unconfirmed: number }
>({
  name: 'finishTask',
  keys: {
    task: (k, a) => k.task(a.taskId),
    tracking: (k) => k.tracking,
    callbacksDue: (k) => k.callbacksDue,
  },
  argv: (a) => [
    a.taskId,
    a.ended ? '1' : '0',
    a.nextPollMs,
    JSON.stringify(Object.fromEntries(a.byPath)),
    a.unlisted ? JSON.stringify(a.unlisted) : '',
  ],
  decode: (reply) => {
    const [ids, unconfirmed] = tuple(reply, 2, 'finishTask');
    return { requestIds: strings(ids), unconfirmed: Number(unconfirmed) };
  },
});

export const finishMediaJob = script<
  {
    trackingId: string;
    ended: boolean;
    nextPollMs: number;
    /** Kept with the job between looks (media-progress.ts), opaque to the script. */
    progress: unknown;
    statuses: Map<string, MediaItemStatus>;
    /** Media whose job failed for quota: back to the pool after `delayMs`. */
    requeues: Map<string, { delayMs: number }>;
    windowMs: number;
  },
  string[]
>({
  name: 'finishMediaJob',
  keys: {
    task: (k, a) => k.task(a.trackingId),
    tracking: (k) => k.tracking,
    callbacksDue: (k) => k.callbacksDue,
    backlog: (k) => k.backlog,
  },
  argv: (a) => [
    a.trackingId,
    a.ended ? '1' : '0',
    a.nextPollMs,
    JSON.stringify(a.progress),
    JSON.stringify(Object.fromEntries(a.statuses)),
    JSON.stringify(Object.fromEntries(a.requeues)),
    a.windowMs,
  ],
  decode: strings,
});

export const takeCall = script<{ scope: string; callsPerSecond: number; token: string }, number>({
  name: 'takeCall',
  keys: { callLog: (k, a) => k.callLog(a.scope) },
  argv: (a) => [a.callsPerSecond, a.token],
  decode: Number,
});

export const cancelRequest = script<
  {
    requestId: string;
    /** The request's pool type (work-kinds.ts workTypeOf). */
    type: string;
    /** (path, domain) pairs of the paths to cancel, each domain its pool domain. */
    paths: readonly (readonly [string, string])[];
    windowMs: number;
    maxFilesPerCall: number;
    maxDirsPerCall: number;
  },
  Map<string, CancelOutcome>
>({
  name: 'cancelRequest',
  keys: {
    request: (k, a) => k.request(a.requestId),
    backlog: (k) => k.backlog,
    callbacksDue: (k) => k.callbacksDue,
  },
  argv: (a) => [a.type, a.windowMs, a.maxFilesPerCall, a.maxDirsPerCall, ...a.paths.flat()],
  decode: (reply) => {
    const flat = strings(reply);
    const outcomes = new Map<string, CancelOutcome>();
    for (let index = 0; index + 1 < flat.length; index += 2)
      outcomes.set(flat[index] as string, flat[index + 1] as CancelOutcome);
    return outcomes;
  },
});

/** Why a promotion did not happen (promote-directory-4.lua's negative replies). */
export type PromotionResult =
  | { promoted: true; files: number }
  | { promoted: false; why: 'no-directory-unit' | 'too-few-files' | 'already-covered' };

export const promoteDirectory = script<
  {
    directory: string;
    domain: string;
    day: number;
    directoriesPerDay: number;
    minFiles: number;
    windowMs: number;
    maxFilesPerCall: number;
    maxDirsPerCall: number;
    reason: string;
  },
  PromotionResult
>({
  name: 'promoteDirectory',
  keys: {
    backlog: (k) => k.backlog,
    callbacksDue: (k) => k.callbacksDue,
    quotaDay: (k, a) => k.quotaDay('Directory', a.day),
    upstreamDay: (k, a) => k.upstreamDay('Directory', a.day),
  },
  argv: (a) => [
    a.directory,
    a.domain,
    a.directoriesPerDay,
    a.minFiles,
    a.windowMs,
    a.maxFilesPerCall,
    a.maxDirsPerCall,
    a.reason,
  ],
  decode: (reply) => {
    const result = Number(reply);
    if (result > 0) return { promoted: true, files: result };
    return {
      promoted: false,
      why: result === -1 ? 'no-directory-unit' : result === -2 ? 'too-few-files' : 'already-covered',
    };
  },
});

export const setPressure = script<
  { pressure: Record<string, boolean>; act: boolean; ttlMs: number },
  Record<string, boolean>
>({
  name: 'setPressure',
  keys: { pressure: (k) => k.pressure },
  argv: (a) => [
    a.act ? '1' : '0',
    Math.max(1, Math.round(a.ttlMs)),
    ...Object.entries(a.pressure).flatMap(([type, on]) => [type, on ? '1' : '0']),
  ],
  decode: (reply) =>
    Object.fromEntries(
      strings(reply).map((change) => {
        const at = change.lastIndexOf(':');
        return [change.slice(0, at), change.slice(at + 1) === '1'];
      }),
    ),
});
