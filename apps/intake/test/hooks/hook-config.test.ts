import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@refreshq/config';
import { describe, expect, it } from 'vitest';
import { checkHooks, loadHooks } from '../../src/hooks/hook-config.js';

const SECRET = 'do-not-print-this-secret-0001';
const env = { BLOG_SECRET: SECRET, SHORT_SECRET: 'short' };
const TOLERANCE = 300_000;

function problems(document: unknown, environment: NodeJS.ProcessEnv = env): string[] {
  try {
    checkHooks(document, environment, TOLERANCE);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('WEBHOOKS_FILE', () => {
  it('takes the shortest config: a name, a preset and a secret', () => {
    const hooks = checkHooks(
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET' } } },
      env,
      TOLERANCE,
    );
    const blog = hooks.get('blog')!;
    expect(blog.preset.name).toBe('ghost');
    expect(blog.secret).toBe(SECRET);
    expect(blog.templates.map((t) => t.source)).toEqual([
      '{post.current.url}',
      '{page.current.url}',
      '{tag.current.url}',
    ]);
    expect(blog.objectType).toBe('File');
    expect(blog.priority).toBe('normal');
    expect(blog.toleranceMs).toBe(TOLERANCE);
    expect(blog.matchesEvent('anything')).toBe(true);
  });

  it('reads the example of the issue, in YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
    const file = join(dir, 'hooks.yml');
    writeFileSync(
      file,
      [
        'hooks:',
        '  blog:                         # POST /v1/hooks/blog',
        '    preset: ghost',
        '    secretEnv: BLOG_SECRET',
        '    events: [post.published, post.published.edited]',
        '    paths:',
        '      - "https://cdn.example.com/{post.current.slug}/index.m3u8"',
        '      - "{post.current.feature_image}"',
        '    objectType: file',
        '    priority: HIGH',
        '    callbackUrl: https://hooks.example.com/done',
        '    toleranceSeconds: 60',
        '',
      ].join('\n'),
    );
    const blog = loadHooks(file, env, TOLERANCE).get('blog')!;
    expect(blog.templates).toHaveLength(2);
    expect(blog.objectType).toBe('File');
    expect(blog.priority).toBe('high');
    expect(blog.callbackUrl).toBe('https://hooks.example.com/done');
    expect(blog.toleranceMs).toBe(60_000);
    expect(blog.matchesEvent('post.published')).toBe(true);
    expect(blog.matchesEvent('post.published.edited')).toBe(true);
    expect(blog.matchesEvent('post.unpublished')).toBe(false);
  });

  it('reads JSON too, and matches events with *', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
    const file = join(dir, 'hooks.json');
    writeFileSync(
      file,
      JSON.stringify({
        hooks: {
          cms: {
            preset: 'contentful',
            secretEnv: 'BLOG_SECRET',
            events: ['ContentManagement.Entry.*'],
            paths: ['{fields.url[]}'],
          },
        },
      }),
    );
    const cms = loadHooks(file, env, TOLERANCE).get('cms')!;
    expect(cms.matchesEvent('ContentManagement.Entry.publish')).toBe(true);
    expect(cms.matchesEvent('ContentManagement.Asset.publish')).toBe(false);
    expect(cms.matchesEvent('ContentManagement.Entry')).toBe(false);
  });

  it.each<[string, unknown, string]>([
    [
      'an unknown preset',
      { hooks: { blog: { preset: 'wordpress', secretEnv: 'BLOG_SECRET' } } },
      'hooks.blog.preset: must be one of ghost, sanity, contentful, strapi, woocommerce, generic',
    ],
    ['no secret', { hooks: { blog: { preset: 'ghost' } } }, 'hooks.blog.secretEnv: required'],
    [
      'a secret variable that is not set',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'NOT_SET' } } },
      'hooks.blog.secretEnv: NOT_SET is not set in the environment',
    ],
    [
      'a short secret',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'SHORT_SECRET' } } },
      'hooks.blog.secretEnv: SHORT_SECRET must hold at least 16 characters',
    ],
    [
      'a secret in the file',
      { hooks: { blog: { preset: 'ghost', secret: SECRET } } },
      'hooks.blog: unknown field(s) secret',
    ],
    [
      'unsigned and a secret',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', unsigned: true } } },
      'hooks.blog.unsigned: a hook with secretEnv is signed',
    ],
    [
      'a bad template',
      {
        hooks: {
          blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', paths: ['https://cdn.example.com/{slug'] },
        },
      },
      'hooks.blog.paths[0]: a { without its }',
    ],
    [
      'a preset without URLs and no paths',
      { hooks: { docs: { preset: 'sanity', secretEnv: 'BLOG_SECRET' } } },
      'hooks.docs.paths: preset sanity sends no URLs of its own',
    ],
    [
      'a header on a signing preset',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', header: 'x-token' } } },
      'hooks.blog.header: only preset strapi',
    ],
    [
      'a tolerance where no time is signed',
      { hooks: { shop: { preset: 'woocommerce', secretEnv: 'BLOG_SECRET', toleranceSeconds: 60 } } },
      'hooks.shop.toleranceSeconds: preset woocommerce signs no timestamp',
    ],
    [
      'a bad objectType',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', objectType: 'Folder' } } },
      'hooks.blog.objectType: objectType must be one of File, Directory',
    ],
    [
      'a bad callbackUrl',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', callbackUrl: 'ftp://x' } } },
      'hooks.blog.callbackUrl: must be an http:// or https:// URL',
    ],
    [
      'events not a list',
      { hooks: { blog: { preset: 'ghost', secretEnv: 'BLOG_SECRET', events: 'post.published' } } },
      'hooks.blog.events: must be a list of event names',
    ],
    [
      'a bad hook name',
      { hooks: { 'my blog': { preset: 'ghost', secretEnv: 'BLOG_SECRET' } } },
      'hooks.my blog: a hook name is 1 to 64',
    ],
    ['no hooks', { hooks: {} }, 'hooks: define at least one hook'],
    ['no hooks key', { webhooks: {} }, 'unknown field(s) webhooks'],
    ['not a mapping', ['ghost'], 'must be a mapping with one key, hooks'],
  ])('refuses %s, naming hook and field', (_what, document, message) => {
    const found = problems(document);
    expect(found.join('\n')).toContain(message);
    expect(found.every((line) => line.startsWith('WEBHOOKS_FILE: '))).toBe(true);
    expect(found.join('\n')).not.toContain(SECRET);
  });

  it('reports every bad hook at once, and accepts a hook marked unsigned', () => {
    const found = problems({
      hooks: {
        a: { preset: 'ghost' },
        b: { preset: 'nope', secretEnv: 'BLOG_SECRET' },
        ok: { preset: 'generic', unsigned: true, paths: ['{url}'] },
      },
    });
    expect(found).toHaveLength(2);
    const hooks = checkHooks(
      { hooks: { ok: { preset: 'generic', unsigned: true, paths: ['{url}'] } } },
      env,
      TOLERANCE,
    );
    expect(hooks.get('ok')!.secret).toBeUndefined();
  });

  it('says where a file is not YAML without quoting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
    const file = join(dir, 'hooks.yml');
    writeFileSync(file, `hooks:\n  blog:\n    preset: ghost\n   secret: "${SECRET}\n`);
    let message = '';
    try {
      loadHooks(file, env, TOLERANCE);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/WEBHOOKS_FILE: .*hooks\.yml is not valid YAML or JSON at line \d+, column \d+/);
    expect(message).not.toContain(SECRET);
    expect(() => loadHooks(join(dir, 'missing.yml'), env, TOLERANCE)).toThrow('cannot read');
    expect(loadHooks(undefined, env, TOLERANCE).size).toBe(0);
  });
});

describe('the README', () => {
  it('gives configs that load as they are', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## CMS webhooks'),
      readme.indexOf('## What the worker does'),
    );
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    const secrets = Object.fromEntries(
      [...section.matchAll(/secretEnv: ([A-Z_]+)/g)].map((match) => [match[1] as string, 'x'.repeat(32)]),
    );
    for (const block of blocks) {
      const hooks = checkHooks(parse(block), secrets, TOLERANCE);
      expect(hooks.size).toBeGreaterThan(0);
    }
  });
});
