import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const SCRIPTS = {
  admitRequest: { file: 'admit-request.lua', keys: 1 },
  claimBatch: { file: 'claim-batch.lua', keys: 0 },
  finishBatch: { file: 'finish-batch.lua', keys: 0 },
  claimIdempotencyKey: { file: 'claim-idempotency-key.lua', keys: 1 },
  takeQuota: { file: 'take-quota.lua', keys: 0 },
  settleQuota: { file: 'settle-quota.lua', keys: 0 },
  syncQuota: { file: 'sync-quota.lua', keys: 0 },
  claimDue: { file: 'claim-due.lua', keys: 0 },
  finishTask: { file: 'finish-task.lua', keys: 0 },
  takeCall: { file: 'take-call.lua', keys: 0 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

const readLua = (file: string): string => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');

/** A script's text with its `--@include <file>` lines replaced by those files (shared helpers). */
function source(name: ScriptName): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readLua(SCRIPTS[name].file).replace(/^--@include (\S+)$/gm, (_line, file: string) =>
      readLua(file),
    );
    sources.set(name, text);
  }
  return text;
}

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Runs a script by name through EVALSHA (ioredis falls back to EVAL once per connection). */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  const spec = SCRIPTS[name];
  if (keys.length !== spec.keys)
    throw new Error(`script ${name} takes ${spec.keys} keys, got ${keys.length}`);
  const commands = redis as unknown as Record<string, ScriptCall | undefined>;
  const command = `refreshq_${name}`;
  if (typeof commands[command] !== 'function') {
    redis.defineCommand(command, { numberOfKeys: spec.keys, lua: source(name) });
  }
  return (commands[command] as ScriptCall).call(redis, ...keys, ...args);
}
