import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator, StsCredential } from '@refreshq/vod-emulator';

export interface CredentialsUri {
  url: string;
  /** Every credential handed out, to check none reaches a log. */
  issued: StsCredential[];
  fetches(): number;
  /** What GET answers from now on. */
  serve(answer: () => StsCredential): void;
  close(): Promise<void>;
}

/**
 * An ALIBABA_CLOUD_CREDENTIALS_URI on loopback, as an ECS sidecar or a vault agent would serve it:
 * 200 with `{Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`. By default each
 * GET gets a fresh STS credential from the emulator, trusted for `ttlMs`.
 */
export async function startCredentialsUri(emulator: Emulator, ttlMs: number): Promise<CredentialsUri> {
  const issued: StsCredential[] = [];
  let fetches = 0;
  let answer = () => emulator.issueSts({ ttlMs });
  const server = createServer((_req, res) => {
    fetches += 1;
    const credential = answer();
    if (!issued.includes(credential)) issued.push(credential);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ Code: 'Success', ...credential }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`,
    issued,
    fetches: () => fetches,
    serve(next) {
      answer = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
