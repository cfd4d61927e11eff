import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outboundPolicy } from '@refreshq/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup, OutboundRefused, postOutbound, type Resolve } from '../src/outbound-post.js';

/**
 * The connect-time guard with a stub resolver: names "resolve" to whatever the test says, so the
 * inside ranges are exercised without a packet ever going to them. Every listener is on loopback.
 */

interface Listener {
  server: Server;
  port: number;
  connections: number;
  requests: string[];
}

async function listen(answer: (url: string) => [number, Record<string, string>?]): Promise<Listener> {
  const listener: Listener = { server: createServer(), port: 0, connections: 0, requests: [] };
  listener.server.on('connection', () => {
    listener.connections += 1;
  });
  listener.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      listener.requests.push(`${req.method} ${req.url}`);
      const [status, headers] = answer(req.url ?? '');
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
  listener.port = (listener.server.address() as AddressInfo).port;
  return listener;
}

/** A resolver that knows only the names given, and records every look-up. */
function stubResolver(names: Record<string, string[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = ((hostname, _options, callback) => {
    asked.push(hostname);
    const addresses = names[hostname];
    if (!addresses) {
      callback(Object.assign(new Error(`stub: no such name ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as Resolve & { asked: string[] };
  resolve.asked = asked;
  return resolve;
}

const post = (url: string) => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  timeoutMs: 5000,
});

let receiver: Listener;
let redirector: Listener;

beforeAll(async () => {
  receiver = await listen(() => [204]);
  redirector = await listen(() => [302, { location: `http://127.0.0.1:${receiver.port}/elsewhere` }]);
});

afterAll(async () => {
  for (const listener of [receiver, redirector]) {
    listener.server.closeAllConnections();
    await new Promise((resolve) => listener.server.close(resolve));
  }
});

describe('guardedLookup (stub resolver, no socket)', () => {
  const lookUp = (names: Record<string, string[]>, all: boolean) =>
    new Promise<{ error: unknown; address: string | LookupAddress[] }>((resolve) =>
      guardedLookup(stubResolver(names))('target.test', { all }, (error, address) =>
        resolve({ error, address }),
      ),
    );

  it.each([
    ['loopback', ['127.0.0.1']],
    ['IPv6 loopback', ['::1']],
    ['cloud metadata', ['169.254.169.254']],
    ['private', ['10.0.0.7']],
    ['unique-local', ['fd00::7']],
    ['shared', ['100.64.0.7']],
    ['mapped loopback', ['::ffff:127.0.0.1']],
    ['public and loopback (rebinding)', ['93.184.216.34', '127.0.0.1']],
  ])('a name resolving to %s is refused', async (_what, addresses) => {
    for (const all of [true, false]) {
      const { error } = await lookUp({ 'target.test': addresses }, all);
      expect(error).toBeInstanceOf(OutboundRefused);
      expect((error as OutboundRefused).message).toContain('target.test');
    }
  });

  it('a name resolving to public addresses passes them on, in the shape asked for', async () => {
    const names = { 'target.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] };
    expect(await lookUp(names, true)).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
    });
    expect(await lookUp(names, false)).toEqual({ error: null, address: '93.184.216.34' });
  });

  it('a resolver failure is passed on as it is (a passing fault, retried)', async () => {
    const { error } = await lookUp({}, true);
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('postOutbound against loopback listeners', () => {
  it('refuses an address literal before connecting', async () => {
    const before = receiver.connections;
    await expect(
      postOutbound(post(`http://127.0.0.1:${receiver.port}/x`), outboundPolicy([], false)),
    ).rejects.toBeInstanceOf(OutboundRefused);
    expect(receiver.connections).toBe(before);
  });

  it('refuses a name that resolves to loopback at connect time: looked up, never connected', async () => {
    const resolve = stubResolver({ 'inside.test': ['127.0.0.1'] });
    const before = receiver.connections;
    await expect(
      postOutbound(
        post(`http://inside.test:${receiver.port}/x?secret=1`),
        outboundPolicy([], false),
        resolve,
      ),
    ).rejects.toBeInstanceOf(OutboundRefused);
    expect(resolve.asked).toEqual(['inside.test']);
    expect(receiver.connections).toBe(before);
  });

  it('delivers to that name once the operator names host:port', async () => {
    const resolve = stubResolver({ 'inside.test': ['127.0.0.1'] });
    const status = await postOutbound(
      post(`http://inside.test:${receiver.port}/named`),
      outboundPolicy([`inside.test:${receiver.port}`], false),
      resolve,
    );
    expect(status).toBe(204);
    expect(receiver.requests).toContain('POST /named');
  });

  it('refuses the named host on another port before looking it up', async () => {
    const resolve = stubResolver({ 'inside.test': ['127.0.0.1'] });
    await expect(
      postOutbound(
        post(`http://inside.test:${redirector.port}/x`),
        outboundPolicy([`inside.test:${receiver.port}`], false),
        resolve,
      ),
    ).rejects.toMatchObject({ refusal: { refusal: 'host_not_allowed' } });
    expect(resolve.asked).toEqual([]);
  });

  it('delivers to a literal inside address with CALLBACK_ALLOW_PRIVATE', async () => {
    expect(
      await postOutbound(post(`http://127.0.0.1:${receiver.port}/private`), outboundPolicy([], true)),
    ).toBe(204);
  });

  it('does not follow a redirect: the 3xx is the answer and its Location gets nothing', async () => {
    const before = receiver.requests.length;
    const status = await postOutbound(
      post(`http://127.0.0.1:${redirector.port}/hook`),
      outboundPolicy(['127.0.0.1'], false),
    );
    expect(status).toBe(302);
    expect(redirector.requests).toContain('POST /hook');
    expect(receiver.requests.length).toBe(before);
  });

  it('gives up on a receiver that never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      await expect(
        postOutbound({ ...post(`http://127.0.0.1:${port}/`), timeoutMs: 300 }, outboundPolicy([], true)),
      ).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
