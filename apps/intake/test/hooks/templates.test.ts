import { describe, expect, it } from 'vitest';
import { expandTemplate, parseTemplate, TemplateError } from '../../src/hooks/templates.js';

const expand = (source: string, body: unknown, limit = 1000) =>
  expandTemplate(parseTemplate(source), body, limit);

describe('URL templates', () => {
  it('inserts a value of the body between literal text', () => {
    const body = { post: { current: { slug: 'launch-trailer' } } };
    expect(expand('https://cdn.example.com/{post.current.slug}/index.m3u8', body)).toEqual([
      'https://cdn.example.com/launch-trailer/index.m3u8',
    ]);
  });

  it('takes a whole URL from the body', () => {
    expect(
      expand('{post.current.url}', { post: { current: { url: 'https://cdn.example.com/a/' } } }),
    ).toEqual(['https://cdn.example.com/a/']);
  });

  it('maps [] over an array: one path per element', () => {
    const body = {
      entry: { videos: [{ url: 'https://a.example.com/1' }, { url: 'https://a.example.com/2' }] },
    };
    expect(expand('{entry.videos[].url}', body)).toEqual([
      'https://a.example.com/1',
      'https://a.example.com/2',
    ]);
  });

  it('maps [] over an object: one path per value (Contentful locales)', () => {
    const body = { fields: { slug: { 'en-US': 'trailer', 'de-DE': 'vorschau' } } };
    expect(expand('https://cdn.example.com/{fields.slug[]}/', body)).toEqual([
      'https://cdn.example.com/trailer/',
      'https://cdn.example.com/vorschau/',
    ]);
  });

  it('reads keys with dashes and picks array elements by index', () => {
    const body = { fields: { 'en-US': 'x' }, images: [{ src: 'https://a.example.com/0.jpg' }] };
    expect(expand('https://a.example.com/{fields.en-US}', body)).toEqual(['https://a.example.com/x']);
    expect(expand('{images.0.src}', body)).toEqual(['https://a.example.com/0.jpg']);
    expect(expand('{images.1.src}', body)).toEqual([]);
  });

  it('gives every combination of several multi-valued placeholders, up to the limit', () => {
    const body = { hosts: ['a.example.com', 'b.example.com'], files: ['1.ts', '2.ts', '3.ts'] };
    expect(expand('https://{hosts[]}/{files[]}', body)).toHaveLength(6);
    expect(expand('https://{hosts[]}/{files[]}', body, 4)).toHaveLength(4);
  });

  it('yields no path for a missing value, null, an empty string, an object or an array', () => {
    for (const value of [undefined, null, '', {}, [], true]) {
      expect(expand('https://cdn.example.com/{a.b}', { a: { b: value } })).toEqual([]);
    }
    expect(expand('https://cdn.example.com/{a.b}', { a: 'text' })).toEqual([]);
    expect(expand('https://cdn.example.com/{a.b}', null)).toEqual([]);
  });

  it('writes numbers as text', () => {
    expect(expand('https://shop.example.com/?p={id}', { id: 794 })).toEqual([
      'https://shop.example.com/?p=794',
    ]);
  });

  it('never walks into inherited properties', () => {
    expect(expand('{constructor.name}', {})).toEqual([]);
    expect(expand('{__proto__.x}', JSON.parse('{"__proto__": {"x": "https://a.example.com/"}}'))).toEqual([
      'https://a.example.com/',
    ]);
  });

  it('keeps a template without placeholders as one constant path', () => {
    expect(expand('https://cdn.example.com/index.html', {})).toEqual(['https://cdn.example.com/index.html']);
  });

  it.each([
    ['https://cdn.example.com/{slug', 'a { without its }'],
    ['https://cdn.example.com/slug}', 'a } without its {'],
    ['https://cdn.example.com/{}', 'empty placeholder'],
    ['https://cdn.example.com/{a..b}', 'bad placeholder'],
    ['https://cdn.example.com/{a[]x}', 'bad placeholder'],
    ['https://cdn.example.com/{a {b}}', 'cannot nest'],
    ['', 'empty template'],
  ])('refuses %j', (source, message) => {
    expect(() => parseTemplate(source)).toThrow(TemplateError);
    expect(() => parseTemplate(source)).toThrow(message);
  });
});
