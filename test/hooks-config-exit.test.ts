import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testNamespace } from '@refreshq/test-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from './support/processes.js';
import { cleanNamespace, eventually, redisUrl } from './support/stack.js';

// Spawns the built intake (run `pnpm build` first), as production starts it.

const SECRET = 'never-print-me-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'refreshq-hooks-exit-'));
const namespace = testNamespace('hooks-exit');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function exitOf(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const app = startApp('intake', {
    REDIS_URL: redisUrl(),
    REFRESHQ_NAMESPACE: namespace,
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const code = await new Promise<number | null>((resolve) => app.child.once('exit', resolve));
  return { code, output: app.output() };
}

afterAll(async () => {
  await cleanNamespace(namespace);
});

describe('a bad WEBHOOKS_FILE stops intake at start with exit code 78', () => {
  it.each<[string, string, Record<string, string>, string[]]>([
    [
      'a secret variable that is not set',
      'hooks:\n  blog:\n    preset: ghost\n    secretEnv: GHOST_WEBHOOK_SECRET\n',
      {},
      ['hooks.blog.secretEnv', 'GHOST_WEBHOOK_SECRET is not set'],
    ],
    [
      'a secret too short',
      'hooks:\n  shop:\n    preset: woocommerce\n    secretEnv: WOO_SECRET\n',
      { WOO_SECRET: 'short-secret' },
      ['hooks.shop.secretEnv', 'at least 16 characters'],
    ],
    [
      'an unknown preset',
      `hooks:\n  blog:\n    preset: wordpress\n    secretEnv: GOOD_SECRET\n`,
      { GOOD_SECRET: SECRET },
      ['hooks.blog.preset', 'must be one of ghost, sanity, contentful, strapi, woocommerce, generic'],
    ],
    [
      'the secret written into the file',
      `hooks:\n  blog:\n    preset: ghost\n    secret: ${SECRET}\n`,
      {},
      ['hooks.blog', 'unknown field(s) secret'],
    ],
    [
      'a broken template',
      `hooks:\n  docs:\n    preset: generic\n    secretEnv: GOOD_SECRET\n    paths: ["https://cdn.example.com/{page.slug"]\n`,
      { GOOD_SECRET: SECRET },
      ['hooks.docs.paths[0]', 'a { without its }'],
    ],
    [
      'YAML that does not parse, with the secret in it',
      `hooks:\n  blog:\n    preset: ghost\n   secret: "${SECRET}\n`,
      {},
      ['not valid YAML or JSON at line'],
    ],
  ])('%s', async (_what, text, env, expected) => {
    const result = await exitOf({
      WEBHOOKS_FILE: file(`${expected[0]}.yml`.replace(/[^\w.]/g, '_'), text),
      ...env,
    });
    expect(result.code, result.output).toBe(78);
    for (const part of expected) expect(result.output).toContain(part);
    expect(result.output).not.toContain(SECRET);
    expect(result.output).not.toContain('short-secret');
  });

  it('a file that is not there', async () => {
    const result = await exitOf({ WEBHOOKS_FILE: join(dir, 'missing.yml') });
    expect(result.code).toBe(78);
    expect(result.output).toContain('WEBHOOKS_FILE: cannot read');
  });

  it('a good file starts intake, and its secret stays out of the log', async () => {
    const app = startApp('intake', {
      REDIS_URL: redisUrl(),
      REFRESHQ_NAMESPACE: namespace,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      GOOD_SECRET: SECRET,
      WEBHOOKS_FILE: file('good.yml', 'hooks:\n  blog: { preset: ghost, secretEnv: GOOD_SECRET }\n'),
    });
    try {
      await eventually(
        async () => (app.output().includes('intake listening') ? true : undefined),
        15_000,
        'intake',
      );
      expect(app.output()).toContain('blog (ghost)');
      expect(app.output()).not.toContain(SECRET);
    } finally {
      await app.stop();
    }
  });
});
