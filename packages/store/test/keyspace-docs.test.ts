import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INTAKE_QUEUE, KEY_FAMILIES } from '../src/index.js';

const architecture = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');

/** The keys named in the first column of docs/architecture.md's "Redis layout" table. */
function documentedKeys(): string[] {
  const section = architecture.split(/^## /m).find((part) => part.startsWith('Redis layout'));
  if (!section) throw new Error('docs/architecture.md has no "Redis layout" section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...(line.split('|')[1] ?? '').matchAll(/`(\{ns\}:[^`]+)`/g)].map((match) => match[1] as string),
    );
}

/** Param names are free in the docs (`<taskId>`, `<sha256(caller, key)>`); their places are not. */
const shape = (key: string) => key.replace(/<[^>]*>/g, '<>');

describe("docs/architecture.md's key table", () => {
  const documented = documentedKeys().map(shape);
  const families = Object.values(KEY_FAMILIES).map((template) => shape(`{ns}:${template}`));

  it('lists every key family of keyspace.ts', () => {
    for (const family of families) expect(documented, `${family} is not in the table`).toContain(family);
  });

  it('lists nothing keyspace.ts does not name (besides BullMQ’s queue)', () => {
    const known = new Set([...families, `{ns}:${INTAKE_QUEUE}:*`]);
    for (const key of documented) expect(known.has(key), `${key} is not a keyspace family`).toBe(true);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
