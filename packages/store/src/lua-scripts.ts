import { readFileSync } from 'node:fs';
import type { Redis } from './redis-connection.js';
import { luaKeyBuilders } from './keyspace.js';

/**
 * Script files by name. As in BullMQ, a file's name ends with the number of KEYS it takes; every
 * script takes at least one, so a Redis Cluster client routes it to the namespace's slot.
 */
const SCRIPTS = {
  admitRequest: 'admit-request-3.lua',
  claimBatch: 'claim-batch-9.lua',
  finishBatch: 'finish-batch-7.lua',
  promoteDirectory: 'promote-directory-4.lua',
  setPressure: 'set-pressure-1.lua',
  claimIdempotencyKey: 'claim-idempotency-key-1.lua',
  takeQuota: 'take-quota-9.lua',
  settleQuota: 'settle-quota-8.lua',
  syncQuota: 'sync-quota-1.lua',
  adjustQuota: 'adjust-quota-1.lua',
  claimDue: 'claim-due-1.lua',
  finishTask: 'finish-task-3.lua',
  finishMediaJob: 'finish-media-job-4.lua',
  takeCall: 'take-call-1.lua',
  renewLease: 'renew-lease-2.lua',
  renewDue: 'renew-due-1.lua',
  cancelRequest: 'cancel-request-3.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** The KEYS count a script file's name ends with (`claim-batch-9.lua` takes 9). */
export const keyCount = (file: string): number => Number(/-(\d+)\.lua$/.exec(file)?.[1] ?? 0);

export const scriptFile = (name: ScriptName): string => SCRIPTS[name];

const readLua = (file: string): string => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');

/**
 * A script's text with its `--@include <file>` lines replaced by those files (shared helpers),
 * and `--@include keyspace` by the key builders generated from keyspace.ts, for the families
 * the script and its helpers use (an unknown one fails here, at load).
 */
export function scriptSource(name: ScriptName): string {
  const text = readLua(SCRIPTS[name]).replace(/^--@include (?!keyspace$)(\S+)$/gm, (_line, file: string) =>
    readLua(file),
  );
  const used = [...text.matchAll(/\bkeyspace\.(\w+)\(/g)].map((match) => match[1] as string);
  return text.replace(/^--@include keyspace$/m, () => luaKeyBuilders(used));
}

const sources = new Map<ScriptName, string>();

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/**
 * Runs a script by name through EVALSHA (ioredis falls back to EVAL once per connection) and
 * returns its reply undecoded; script-calls.ts gives each script its typed call.
 */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  const expected = keyCount(SCRIPTS[name]);
  if (keys.length !== expected) throw new Error(`script ${name} takes ${expected} keys, got ${keys.length}`);
  const commands = redis as unknown as Record<string, ScriptCall | undefined>;
  const command = `refreshq_${name}`;
  if (typeof commands[command] !== 'function') {
    let lua = sources.get(name);
    if (lua === undefined) {
      lua = scriptSource(name);
      sources.set(name, lua);
    }
    redis.defineCommand(command, { numberOfKeys: expected, lua });
  }
  return (commands[command] as ScriptCall).call(redis, ...keys, ...args);
}
