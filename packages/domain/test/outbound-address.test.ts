import { describe, expect, it } from 'vitest';
import {
  addressKind,
  judgeAddress,
  judgeTarget,
  outboundPolicy,
  parseHostRule,
  type AddressKind,
} from '../src/outbound-address.js';
import { checkPath } from '../src/paths.js';

const open = outboundPolicy([], false);
const judge = (url: string, policy = open) => judgeTarget(new URL(url), policy);

/**
 * Every class the service must not reach, in the spellings a caller can send. The URL parser
 * canonicalises IPv4 spellings; the policy must hold for what it produces.
 */
const INSIDE: [string, AddressKind][] = [
  ['http://127.0.0.1/', 'loopback'],
  ['http://2130706433/', 'loopback'],
  ['http://0x7f.1/', 'loopback'],
  ['http://0177.0.0.1/', 'loopback'],
  ['http://127.1/', 'loopback'],
  ['http://127.255.255.254:6379/', 'loopback'],
  ['http://[::1]/', 'loopback'],
  ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
  ['http://[::ffff:127.0.0.1]/', 'loopback'],
  ['http://[::ffff:7f00:1]/', 'loopback'],
  ['http://[::ffff:0:7f00:1]/', 'loopback'],
  ['http://[64:ff9b::127.0.0.1]/', 'loopback'],
  ['http://[2002:7f00:1::]/', 'loopback'],
  ['http://localhost/', 'loopback'],
  ['http://LOCALHOST.:8080/', 'loopback'],
  ['http://api.localhost/', 'loopback'],
  ['http://169.254.169.254/latest/meta-data/', 'link-local'],
  ['http://0xa9fea9fe/', 'link-local'],
  ['http://[::ffff:169.254.169.254]/', 'link-local'],
  ['http://[fe80::1]/', 'link-local'],
  ['http://[febf::1]/', 'link-local'],
  ['http://10.0.0.1/', 'private'],
  ['http://012.1.2.3/', 'private'],
  ['http://172.16.0.1/', 'private'],
  ['http://172.31.255.255/', 'private'],
  ['http://192.168.0.1/', 'private'],
  ['http://3232235521/', 'private'],
  ['http://[fec0::1]/', 'private'],
  ['http://[fc00::1]/', 'unique-local'],
  ['http://[fd12:3456::1]/', 'unique-local'],
  ['http://100.64.0.1/', 'shared'],
  ['http://100.127.255.254/', 'shared'],
  ['http://0.0.0.0/', 'unspecified'],
  ['http://0/', 'unspecified'],
  ['http://0.1.2.3/', 'unspecified'],
  ['http://[::]/', 'unspecified'],
  ['http://224.0.0.1/', 'multicast'],
  ['http://239.255.255.250:1900/', 'multicast'],
  ['http://[ff02::1]/', 'multicast'],
  ['http://255.255.255.255/', 'broadcast'],
  ['http://192.0.2.1/', 'reserved'],
  ['http://198.18.0.1/', 'reserved'],
  ['http://240.0.0.1/', 'reserved'],
  ['http://[::127.0.0.1]/', 'reserved'],
  ['http://[2001:db8::1]/', 'reserved'],
  ['http://[64:ff9b:1::1]/', 'reserved'],
];

describe('judgeTarget: inside addresses are refused in every spelling', () => {
  it.each(INSIDE)('%s is %s', (url, kind) => {
    const verdict = judge(url);
    expect(verdict).toMatchObject({ ok: false, refusal: 'inward_address' });
    const host = new URL(url).hostname;
    if (!/localhost/.test(host)) expect(addressKind(host)).toBe(kind);
    // The message names the host, never the path or query.
    if (!verdict.ok) expect(verdict.message).not.toContain('meta-data');
  });

  it.each([
    'https://hooks.example.com/cb?token=x',
    'http://8.8.8.8/',
    'http://1.1.1.1:8443/',
    'http://172.32.0.1/',
    'http://100.128.0.1/',
    'http://[2606:4700:4700::1111]/',
    'http://[64:ff9b::808:808]/',
    'http://[::ffff:8.8.8.8]/',
    'http://localhost.example.com/',
    'http://mylocalhost/',
  ])('%s may be reached (a name is judged again at connect time)', (url) => {
    expect(judge(url).ok).toBe(true);
  });

  it('a name is left to the connect-time check; an address literal is settled now', () => {
    expect(judge('https://hooks.example.com/')).toEqual({ ok: true, checkAddresses: true });
    expect(judge('https://8.8.8.8/')).toEqual({ ok: true, checkAddresses: true });
  });
});

describe('CALLBACK_ALLOWED_HOSTS and CALLBACK_ALLOW_PRIVATE', () => {
  const listed = outboundPolicy(['cb.example.com:443', '127.0.0.1:4000', '[::1]', '*.hooks.example'], false);

  it('a port must match when the entry names one (the default port of the scheme counts)', () => {
    expect(judge('https://cb.example.com/x', listed).ok).toBe(true);
    expect(judge('https://cb.example.com:443/x', listed).ok).toBe(true);
    expect(judge('http://cb.example.com:443/x', listed).ok).toBe(true);
    for (const url of ['https://cb.example.com:6379/', 'http://cb.example.com/', 'http://127.0.0.1:4001/'])
      expect(judge(url, listed)).toMatchObject({ ok: false, refusal: 'host_not_allowed' });
  });

  it('an entry without a port allows every port of that host', () => {
    expect(judge('http://[::1]:9999/', listed)).toEqual({ ok: true, checkAddresses: false });
  });

  it('a host named by the operator is reached whatever it is, in any spelling of it', () => {
    expect(judge('http://127.0.0.1:4000/', listed)).toEqual({ ok: true, checkAddresses: false });
    expect(judge('http://2130706433:4000/', listed)).toEqual({ ok: true, checkAddresses: false });
    expect(judge('http://0x7f.1:4000/', listed)).toEqual({ ok: true, checkAddresses: false });
  });

  it('a wildcard entry restricts names but does not vouch for their addresses', () => {
    expect(judge('https://a.hooks.example/', listed)).toEqual({ ok: true, checkAddresses: true });
    expect(judge('https://hooks.example/', listed)).toMatchObject({ ok: false, refusal: 'host_not_allowed' });
  });

  it('with a list set, anything else is refused, inside or not', () => {
    expect(judge('https://elsewhere.example/', listed)).toMatchObject({ refusal: 'host_not_allowed' });
    expect(judge('http://169.254.169.254/', listed)).toMatchObject({ refusal: 'host_not_allowed' });
  });

  it('CALLBACK_ALLOW_PRIVATE=true lets inside addresses through, and still honours the list', () => {
    const allowPrivate = outboundPolicy([], true);
    expect(judge('http://10.0.0.1/', allowPrivate)).toEqual({ ok: true, checkAddresses: false });
    expect(judge('http://localhost:3000/', allowPrivate)).toEqual({ ok: true, checkAddresses: false });
    const both = outboundPolicy(['*.corp.example'], true);
    expect(judge('http://hooks.corp.example/', both)).toEqual({ ok: true, checkAddresses: false });
    expect(judge('http://10.0.0.1/', both)).toMatchObject({ refusal: 'host_not_allowed' });
  });
});

describe('parseHostRule', () => {
  it.each([
    ['cb.example.com', { host: 'cb.example.com', subdomains: false }],
    ['CB.Example.com:8443', { host: 'cb.example.com', subdomains: false, port: 8443 }],
    ['*.example.com', { host: 'example.com', subdomains: true }],
    ['.example.com:443', { host: 'example.com', subdomains: true, port: 443 }],
    ['127.0.0.1:4000', { host: '127.0.0.1', subdomains: false, port: 4000 }],
    ['2130706433', { host: '127.0.0.1', subdomains: false }],
    ['[::1]:80', { host: '[::1]', subdomains: false, port: 80 }],
    ['[::ffff:127.0.0.1]', { host: '[::ffff:7f00:1]', subdomains: false }],
  ])('%s', (entry, rule) => {
    expect(parseHostRule(entry)).toEqual(rule);
  });

  it.each([
    'http://cb.example.com',
    'cb.example.com/path',
    'user@cb.example.com',
    'cb.example.com:0',
    'cb.example.com:65536',
    'cb.example.com:',
    '*.127.0.0.1',
    '*.[::1]',
    '[::1',
    '',
    'a b',
  ])('refuses %j', (entry) => {
    expect(parseHostRule(entry)).toBeUndefined();
    if (entry !== '') expect(() => outboundPolicy([entry], false)).toThrow();
  });
});

describe('judgeAddress: what a name resolved to', () => {
  it.each([
    '127.0.0.1',
    '::1',
    '::ffff:127.0.0.1',
    '169.254.169.254',
    'fe80::1%eth0',
    '10.1.2.3',
    'fd00::2',
    '100.64.1.1',
    '0.0.0.0',
    '224.0.0.251',
    'not an address',
  ])('%s is refused', (address) => {
    expect(judgeAddress('hooks.example.com', address)).toMatchObject({ refusal: 'inward_address' });
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'])('%s is public', (address) => {
    expect(judgeAddress('hooks.example.com', address)).toBeUndefined();
  });
});

describe('paths with a lone surrogate (which the URL parser would turn into %EF%BF%BD)', () => {
  it.each(['https://example.com/a\udfff', 'https://example.com/\ud800x', 'https://example.com/?q=\udc00'])(
    '%j is lone_surrogate',
    (raw) => {
      expect(checkPath(raw, { objectType: 'File' })).toMatchObject({ ok: false, reason: 'lone_surrogate' });
    },
  );

  it('a whole pair is text', () => {
    expect(checkPath('https://example.com/\ud83d\ude00', { objectType: 'File' })).toMatchObject({ ok: true });
  });
});
