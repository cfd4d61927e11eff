import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { judgeAddress, judgeTarget, type OutboundPolicy, type OutboundRefusal } from '@refreshq/domain';

/** The outbound policy refused the target; nothing was sent to it. */
export class OutboundRefused extends Error {
  readonly code = 'ERR_OUTBOUND_REFUSED';

  constructor(readonly refusal: OutboundRefusal) {
    super(refusal.message);
    this.name = 'OutboundRefused';
  }
}

/** Resolves a name to every address it has (dns.lookup with `all: true`); tests pass a stub. */
export type Resolve = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: Resolve = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * The connect-time guard: a `lookup` for the socket that resolves the name and refuses the
 * connection when any of its addresses is inside (unless `checkAddresses` is false: a target the
 * operator named). Node connects only to an address this returns, so a name that points inward,
 * or is re-pointed after intake looked at it, never gets a packet.
 */
export function guardedLookup(resolve: Resolve = systemResolve, checkAddresses = true): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      for (const { address } of checkAddresses ? addresses : []) {
        const refusal = judgeAddress(hostname, address);
        if (refusal) {
          callback(new OutboundRefused(refusal), '');
          return;
        }
      }
      const [first] = addresses;
      if (options.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
    });
  };
}

export interface OutboundPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole exchange, connecting included, up to the answer's status line. */
  timeoutMs: number;
}

/**
 * POSTs to a URL a caller gave, under the outbound policy. The host and port are judged first
 * (an address literal here, as Node does not look one up); a name's addresses at connect time.
 * Redirects are not followed: a 3xx is the answer. Resolves with the status; rejects with
 * OutboundRefused, or with the network error.
 */
export async function postOutbound(
  post: OutboundPost,
  policy: OutboundPolicy,
  resolve?: Resolve,
): Promise<number> {
  const url = new URL(post.url);
  const verdict = judgeTarget(url, policy);
  if (!verdict.ok) throw new OutboundRefused(verdict);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((settle, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
        agent: false,
        signal: AbortSignal.timeout(post.timeoutMs),
        lookup: guardedLookup(resolve, verdict.checkAddresses),
      },
      (response) => {
        settle(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on('error', reject);
    request.end(post.body);
  });
}
