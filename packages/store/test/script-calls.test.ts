import { readFileSync } from 'node:fs';
import { dropNamespace, testNamespace } from '@refreshq/test-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, KEY_FAMILIES, keyspace, luaKeyBuilders, RedisClock, type Redis } from '../src/index.js';
import { keyCount, scriptFile, scriptSource } from '../src/lua-scripts.js';
import * as calls from '../src/script-calls.js';

const specs = Object.values(calls)
  .filter((value) => typeof value === 'function' && 'spec' in value)
  .map((call) => (call as { spec: calls.ScriptSpec<never, unknown> }).spec);

const luaText = (file: string) => readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');

/** `-- KEYS[n] name` lines of a script's header, as [n, name]. */
const headerKeys = (file: string) =>
  [...luaText(file).matchAll(/^-- KEYS\[(\d+)\] (\w+)/gm)].map((match) => [Number(match[1]), match[2]]);

describe('each script call matches its Lua file', () => {
  it('covers every script', () => {
    expect(specs.map((spec) => spec.name).sort()).toEqual(
      [
        'adjustQuota',
        'admitRequest',
        'cancelRequest',
        'claimBatch',
        'claimDue',
        'claimIdempotencyKey',
        'finishBatch',
        'finishMediaJob',
        'finishTask',
        'promoteDirectory',
        'setPressure',
        'settleQuota',
        'syncQuota',
        'takeCall',
        'takeQuota',
        'renewLease',
        'renewDue',
      ].sort(),
    );
  });

  for (const spec of specs) {
    it(`${spec.name}: the header names its KEYS in the order the call passes them`, () => {
      const file = scriptFile(spec.name);
      const names = Object.keys(spec.keys);
      expect(names.length).toBeGreaterThan(0);
      expect(keyCount(file)).toBe(names.length);
      expect(headerKeys(file)).toEqual(names.map((name, index) => [index + 1, name]));
    });
  }

  it('no converted script or helper spells a key name: they get KEYS or build them from keyspace.ts', () => {
    const files = [
      ...specs.map((spec) => scriptFile(spec.name)),
      'lib/pool.lua',
      'lib/requests.lua',
      'lib/budgets.lua',
      'lib/clock.lua',
    ];
    const literals = Object.values(KEY_FAMILIES).map((template) => template.split('<')[0] as string);
    for (const file of files) {
      const code = luaText(file)
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n');
      for (const literal of literals)
        expect(code, `${file} spells '${literal}'`).not.toContain(`'${literal}`);
    }
  });

  it('resolves every include, and defines keyspace wherever its builders are used', () => {
    for (const spec of specs) {
      const source = scriptSource(spec.name);
      expect(source).not.toMatch(/^--@include/m);
      if (/\bkeyspace\./.test(source)) expect(source, spec.name).toContain('local keyspace = ');
    }
  });
});

describe('replies decoded once', () => {
  const { claimBatch, takeQuota, claimIdempotencyKey, admitRequest, claimDue } = calls;

  it('claimBatch: a batch, with cjson empty objects read back as empty arrays', () => {
    const batch = {
      id: 'b1',
      objectType: 'File',
      lane: 'normal',
      domain: 'cdn.example.com',
      claimedAt: 5,
      items: [
        {
          path: 'https://cdn.example.com/a',
          requestIds: {},
          meta: { domain: 'cdn.example.com', lane: 'normal' },
        },
      ],
    };
    expect(claimBatch.spec.decode([1, JSON.stringify(batch), 0], {} as never)).toEqual({
      heldRepeats: 0,
      batch: {
        ...batch,
        items: [
          {
            path: 'https://cdn.example.com/a',
            requestIds: [],
            meta: { domain: 'cdn.example.com', lane: 'normal', attempts: 0 },
          },
        ],
      },
    });
    expect(
      claimBatch.spec.decode([1, JSON.stringify({ ...batch, items: {} }), 0], {} as never),
    ).toMatchObject({
      batch: { items: [] },
    });
  });

  it('claimBatch: nothing ready, with the wait (-1: nothing pending)', () => {
    expect(claimBatch.spec.decode([0, 250, 0], {} as never)).toEqual({
      batch: undefined,
      retryInMs: 250,
      heldRepeats: 0,
    });
    expect(claimBatch.spec.decode([0, -1, 3], {} as never)).toEqual({
      batch: undefined,
      retryInMs: -1,
      heldRepeats: 3,
    });
  });

  it('takeQuota: a grant carries the ticket sent; a refusal says what is short', () => {
    const args = { ticket: 't-1' } as Parameters<typeof takeQuota.spec.decode>[1];
    expect(takeQuota.spec.decode([4, 20416, 1_764_000_000_000], args)).toEqual({
      ok: true,
      granted: 4,
      ticket: 't-1',
      day: 20416,
      now: 1_764_000_000_000,
    });
    expect(takeQuota.spec.decode([0, 1500, 'minute'], args)).toEqual({
      ok: false,
      granted: 0,
      waitMs: 1500,
      short: 'minute',
    });
  });

  it('a malformed reply is a clear error naming the script', () => {
    expect(() => takeQuota.spec.decode([4], {} as never)).toThrow(/script takeQuota replied \[4\]/);
    expect(() => claimBatch.spec.decode('OK', {} as never)).toThrow(/script claimBatch/);
  });

  it('admitRequest, claimIdempotencyKey and claimDue', () => {
    expect(admitRequest.spec.decode(0, {} as never)).toEqual({ admitted: false });
    expect(admitRequest.spec.decode(3, {} as never)).toEqual({ admitted: true, coalesced: 2 });
    const record = { requestId: 'r1', fingerprint: 'f' };
    expect(claimIdempotencyKey.spec.decode(JSON.stringify(record), {} as never)).toEqual(record);
    expect(claimIdempotencyKey.spec.decode(null, {} as never)).toBeUndefined();
    expect(claimDue.spec.decode(['a', 'b'], {} as never)).toEqual(['a', 'b']);
    expect(claimDue.spec.decode([], {} as never)).toEqual([]);
  });

  it('RedisClock.fromTime: seconds and microseconds to ms, or an error', () => {
    expect(RedisClock.fromTime(['1764000000', '123999'])).toBe(1_764_000_000_123);
    expect(() => RedisClock.fromTime(null)).toThrow(/TIME/);
  });
});

describe('the Lua key builders', () => {
  let redis: Redis;
  const namespace = testNamespace('keys');
  beforeAll(() => {
    redis = createRedis(inject('redisUrl'), 'consumer', 'test');
  });
  afterAll(async () => {
    redis.disconnect();
    await dropNamespace(inject('redisUrl'), namespace);
  });

  it('build in Redis exactly the keys keyspace.ts builds, on KEYS[1]’s namespace', async () => {
    const keys = keyspace(namespace);
    const samples: Record<string, (string | number)[]> = {};
    const expected: Record<string, string> = {};
    for (const [family, template] of Object.entries(KEY_FAMILIES)) {
      const params = template.match(/<[^>]+>/g) ?? [];
      if (params.length === 0) continue;
      const values = params.map((param, index) =>
        param === '<day>' ? 20416 + index : `${param.slice(1, -1)}-${index}:/x?y`,
      );
      samples[family] = values;
      const build = keys[family as keyof typeof KEY_FAMILIES] as unknown as (...parts: unknown[]) => string;
      expected[family] = build(...values);
    }
    const lua = `${luaKeyBuilders(Object.keys(samples))}
local samples = cjson.decode(ARGV[1])
local out = {}
for family, values in pairs(samples) do out[family] = keyspace[family](unpack(values)) end
return cjson.encode(out)`;
    const reply = await redis.eval(lua, 1, keys.backlog, JSON.stringify(samples));
    expect(JSON.parse(String(reply))).toEqual(expected);
  });
});
