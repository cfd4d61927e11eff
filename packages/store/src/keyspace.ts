import type { CallScope, Priority, WorkType } from '@refreshq/domain';

/**
 * Every refreshq key family, named once: what follows the namespace prefix, with `<param>` for
 * each part filled in per entity. The TypeScript keyspace and the Lua key builders
 * (`--@include keyspace`) are both made from this table, and docs/architecture.md's key table is
 * checked against it. Changing a template renames keys holding live data: don't.
 */
export const KEY_FAMILIES = {
  // Requests
  request: 'req:<id>',
  idempotency: 'idem:<digest>',
  /** Admitted request ids by receivedAt, newest-first listing (GET /v1/refreshes). */
  requestIndex: 'requests',
  /** A path's last submission and last end, whichever request they came on (GET /v1/paths). */
  pathRecord: 'path:<type>:<path>',
  /**
   * The latest requests that asked for each path on one UTC day (the day's number since the
   * epoch): a hash, path → `<receivedAt>:<request id>` entries, oldest first.
   */
  pathRequestsByDay: 'path-requests-day:<type>:<day>',
  /** The days that have a path-requests-day hash (score and member: the day). */
  pathRequestDays: 'path-requests-days:<type>',
  /** Before path-requests-day: one zset a path. Still read, never written; expires on its own. */
  pathRequests: 'path-requests:<type>:<path>',
  // The pending pool
  ready: 'ready:<type>:<lane>',
  pending: 'pending:<type>:<lane>:<domain>',
  /** The requests that joined a pending path after the one in its meta's `r`. */
  links: 'links:<type>:<path>',
  pendingMeta: 'pmeta:<type>',
  files: 'files:<domain>',
  dirs: 'dirs:<domain>',
  inflightDirs: 'inflight-dirs:<domain>',
  inflightPaths: 'inflight-paths:<type>',
  covered: 'covered:<dir>',
  batch: 'batch:<id>',
  inflight: 'inflight',
  backlog: 'backlog',
  // The scarcity policy (docs/scarcity.md)
  /** Per type: '1' while the policy acts on pressure; published by the workers' quota report. */
  pressure: 'pressure',
  /** Paths of a type submitted (or covered by a submitted directory) on a quota day. */
  refreshed: 'refreshed:<type>:<day>',
  /** Pending paths of a type and lane seen to be repeats on a quota day (score: the day). */
  repeats: 'repeats:<type>:<lane>',
  /** The promoter whose round it is (SET NX PX): one worker's promoter reads the pool a round. */
  promotionTurn: 'promotion-turn',
  // The quota governor
  quotaMinute: 'quota:minute:<type>',
  quotaMinuteSum: 'quota:minute-sum:<type>',
  quotaDay: 'quota:day:<type>:<day>',
  quotaCalls: 'quota:calls',
  learnedMinute: 'quota:learned-minute:<type>',
  learnedCps: 'quota:learned-cps',
  /** Calls per second of another action than RefreshVodObjectCaches (preload, media): its log, learned rate and hold. */
  scopedCalls: 'quota:calls:<action>',
  scopedLearnedCps: 'quota:learned-cps:<action>',
  scopedCallsHold: 'quota:hold-calls:<action>',
  upstreamDay: 'quota:upstream:<type>:<day>',
  hold: 'quota:hold:<type>',
  callsHold: 'quota:hold:calls',
  grant: 'quota:grant:<ticket>',
  settled: 'quota:settled:<ticket>',
  /** Per type and lane: backlog and estimated submission time, published by the workers. */
  estimates: 'quota:estimates',
  /** Tests only (QUOTA_CLOCK=offset): added to Redis TIME by the governor. */
  clockOffset: 'clock-offset',
  // Task tracking, callbacks, call budgets
  task: 'task:<id>',
  tracking: 'tracking',
  callbacksDue: 'callbacks-due',
  callLog: 'calls:<scope>',
  breaker: 'breaker',
  /** Set while an operator has paused submitting (POST /v1/admin/pause); intake still accepts. */
  paused: 'paused',
} as const;

export type KeyFamily = keyof typeof KEY_FAMILIES;

/**
 * What fills each `<param>`: the domain's names where they exist, text otherwise. A `<type>` is a
 * pool type (work-kinds.ts), or for the quota families the budget family it spends (`File`,
 * `Directory`, `Preload`: pool type names too).
 */
interface ParamTypes {
  type: WorkType;
  lane: Priority;
  day: number;
  /** A calls scope of work-kinds.ts (`preload`, `media`). */
  action: CallScope;
}

type Params<T extends string> = T extends `${string}<${infer P}>${infer Rest}` ? [P, ...Params<Rest>] : [];
type Values<P extends string[]> = P extends [infer H, ...infer R extends string[]]
  ? [H extends keyof ParamTypes ? ParamTypes[H] : string, ...Values<R>]
  : [];
type KeyOf<T extends string> = Params<T> extends [] ? string : (...parts: Values<Params<T>>) => string;

/**
 * Every refreshq key, and BullMQ's, starts with the hash tag `{namespace}` so that all of them
 * live in one Redis Cluster slot and Lua scripts may touch any of them.
 */
export type Keyspace = {
  namespace: string;
  /** BullMQ's `prefix` option: its keys become `{refreshq}:<queue>:...`. */
  bullPrefix: string;
} & { readonly [F in KeyFamily]: KeyOf<(typeof KEY_FAMILIES)[F]> };

const PARAM = /<[^>]+>/g;

/** A template's literal parts around its params: `pending:<type>:<lane>` → ['pending:', ':', '']. */
const literalParts = (template: string): string[] => template.split(PARAM);

export function keyspace(namespace = 'refreshq'): Keyspace {
  const bullPrefix = `{${namespace}}`;
  const prefix = `${bullPrefix}:`;
  const families = Object.fromEntries(
    Object.entries(KEY_FAMILIES).map(([family, template]) => {
      const parts = literalParts(template);
      if (parts.length === 1) return [family, prefix + template];
      const build = (...values: (string | number)[]) =>
        parts.reduce(
          (key, part, index) => key + part + (index < values.length ? String(values[index]) : ''),
          prefix,
        );
      return [family, build];
    }),
  );
  return { namespace, bullPrefix, ...families } as Keyspace;
}

/**
 * Lua source of `keyspace.<family>(...)` for the given families (those a script uses), for the
 * keys a script only finds while it runs (a pending path's lane, a batch's type, a domain, a
 * path, a request linked to a path). Families without params are never built in Lua: a script
 * gets them as KEYS. The prefix is KEYS[1]'s, so every key built lives in the slot the call is
 * routed to.
 */
export function luaKeyBuilders(families: Iterable<string>): string {
  const lines = [
    '-- Generated from packages/store/src/keyspace.ts (`--@include keyspace`).',
    "local keyspace = { prefix = string.match(KEYS[1], '^{[^}]*}:') }",
  ];
  for (const family of new Set(families)) {
    if (!Object.hasOwn(KEY_FAMILIES, family))
      throw new Error(`keyspace.${family} is not a key family (keyspace.ts)`);
    const template: string = KEY_FAMILIES[family as KeyFamily];
    const parts = literalParts(template);
    if (parts.length === 1) throw new Error(`keyspace.${family} has no params: a script gets it as a KEY`);
    const params = parts.slice(1).map((_, index) => `p${index + 1}`);
    const pieces: string[] = [];
    parts.forEach((part, index) => {
      if (!/^[a-z:-]*$/.test(part)) throw new Error(`key template ${template} cannot be written in Lua`);
      if (part !== '') pieces.push(`'${part}'`);
      if (index < params.length) pieces.push(params[index] as string);
    });
    lines.push(
      `function keyspace.${family}(${params.join(', ')}) return keyspace.prefix .. ${pieces.join(' .. ')} end`,
    );
  }
  return `${lines.join('\n')}\n`;
}
