import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LossyProxy {
  port: number;
  /** How many times a reply was swallowed (and the connection cut). */
  readonly drops: number;
  /** Replies swallowed, as they came from Redis (first 64 KiB each). */
  readonly dropped: string[];
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Redis that lets every command through, and — `times` times — swallows
 * the reply Redis sends when `matches(reply)` is true, then cuts both connections. To the client
 * this is exactly a Redis that executed the command and died before answering (a crash, a
 * restart, a failover, a network cut): the effect is in Redis, the reply never arrives.
 */
export async function startLossyProxy(
  target: { host: string; port: number },
  matches: (reply: string) => boolean,
  times = 1,
): Promise<LossyProxy> {
  let drops = 0;
  const dropped: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (drops < times && matches(text)) {
        drops += 1;
        dropped.push(text.slice(0, 65_536));
        cut();
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    get drops() {
      return drops;
    },
    dropped,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A reply of claim-batch-9.lua that carries a batch: `{1, batch JSON, repeats held}`. */
export const isClaimedBatchReply = (reply: string): boolean =>
  /\*3\r\n:1\r\n\$\d+\r\n\{"(id|objectType|domain|claimedAt|items)"/.test(reply);

/** The batch a swallowed claim reply carried: its id and paths. */
export function batchInReply(reply: string): { id: string; paths: string[] } | undefined {
  const match = /\*3\r\n:1\r\n\$(\d+)\r\n/.exec(reply);
  if (!match) return undefined;
  const start = match.index + match[0].length;
  const json = Buffer.from(reply, 'latin1')
    .subarray(Buffer.byteLength(reply.slice(0, start), 'latin1'))
    .subarray(0, Number(match[1]))
    .toString('utf8');
  try {
    const batch = JSON.parse(json) as { id: string; items: { path: string }[] };
    return { id: batch.id, paths: batch.items.map((item) => item.path) };
  } catch {
    return undefined;
  }
}
