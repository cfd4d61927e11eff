import type { ObjectType, Priority, Settlement } from '@refreshq/domain';
import type { Redis } from 'ioredis';
import type { IdempotencyRecord } from './idempotency-store.js';
import type { Keyspace } from './keyspace.js';
import { runScript, type ScriptName } from './lua-scripts.js';
import type { BatchItem, Claim, ClaimedBatch, PathOutcome } from './pending-pool.js';
import type { Grant, QuotaBudgets, Refusal } from './quota-governor.js';
import type { AdmitResult, AdmitSettings, RequestMeta } from './request-store.js';
import type { TaskPathView } from './task-store.js';

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

export const admitRequest = script<
  {
    meta: RequestMeta;
    settings: AdmitSettings;
    /** (path, domain) pairs, in the request's order. */
    paths: readonly (readonly [string, string])[];
  },
  AdmitResult
>({
  name: 'admitRequest',
  keys: {
    request: (k, a) => k.request(a.meta.id),
    backlog: (k) => k.backlog,
  },
  argv: ({ meta, settings, paths }) => [
    meta.id,
    JSON.stringify(meta),
    meta.objectType,
    meta.priority,
    settings.windowMs,
    settings.maxFilesPerCall,
    settings.maxDirsPerCall,
    settings.retentionSeconds,
    settings.promoteAt,
    ...paths.flat(),
  ],
  decode: (reply) => {
    const result = Number(reply);
    return result === 0 ? { admitted: false } : { admitted: true, coalesced: result - 1 };
  },
});

export const claimBatch = script<
  {
    objectType: ObjectType;
    lane: Priority;
    batchId: string;
    maxPerCall: number;
    leaseMs: number;
    windowMs: number;
    quietMs: number;
    patienceMs: number;
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
  ],
  decode: (reply) => {
    const [found, value] = tuple(reply, 2, 'claimBatch');
    if (Number(found) !== 1) return { batch: undefined, retryInMs: Number(value) };
    const raw = JSON.parse(String(value)) as ClaimedBatch;
    const items = asArray<BatchItem>(raw.items).map((item) => ({
      path: item.path,
      requestIds: asArray<string>(item.requestIds),
      meta: { ...item.meta, attempts: Number(item.meta?.attempts ?? 0) },
    }));
    return { batch: { ...raw, items } };
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
  },
  argv: (a) => [
    a.batchId,
    a.windowMs,
    a.maxFilesPerCall,
    a.maxDirsPerCall,
    a.onlyIfExpired ? '1' : '0',
    JSON.stringify(Object.fromEntries(a.outcomes)),
    a.firstPollMs,
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
    objectType: ObjectType;
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
    callsHold: (k) => k.callsHold,
    quotaCalls: (k) => k.quotaCalls,
    learnedCps: (k) => k.learnedCps,
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
    objectType: ObjectType;
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
    learnedCps: (k) => k.learnedCps,
    hold: (k, a) => (a.settlement.hold?.budget === 'calls' ? k.callsHold : k.hold(a.objectType)),
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
    objectType: ObjectType;
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

export const takeCall = script<{ scope: string; callsPerSecond: number; token: string }, number>({
  name: 'takeCall',
  keys: { callLog: (k, a) => k.callLog(a.scope) },
  argv: (a) => [a.callsPerSecond, a.token],
  decode: Number,
});
