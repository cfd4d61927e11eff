import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A deliberately small stand-in for "any other endpoint that speaks the real RPC protocol":
 * written from the protocol description alone, sharing no code with the emulator. It checks
 * the HMAC-SHA1 signature of every call and lets a test script each answer.
 */
export interface RpcCall {
  method: string;
  params: Record<string, string>;
}

export type RpcAnswer =
  | { status: number; body: unknown }
  | { raw: string; status: number }
  | { destroy: true }
  | { hang: true };

export interface BareRpcServer {
  url: string;
  calls: RpcCall[];
  /** Decides each answer; the default accepts every refresh with a new task id. */
  answer: (call: RpcCall) => RpcAnswer | Promise<RpcAnswer>;
  close(): Promise<void>;
}

function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function expectedSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((key) => key !== 'Signature')
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] ?? '')}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startBareRpcServer(credentials: {
  accessKeyId: string;
  accessKeySecret: string;
}): Promise<BareRpcServer> {
  let nextTask = 1000;
  const sockets = new Set<Socket>();
  const state: BareRpcServer = {
    url: '',
    calls: [],
    answer: (call) =>
      call.params.Action === 'RefreshVodObjectCaches'
        ? { status: 200, body: { RequestId: `req-${nextTask}`, RefreshTaskId: String(nextTask++) } }
        : {
            status: 200,
            body: { RequestId: 'req', TotalCount: 0, PageNumber: 1, PageSize: 50, Tasks: { Task: [] } },
          },
    close: async () => {},
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const params = Object.fromEntries(form.entries());
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string) =>
      send(status, { RequestId: 'bare', HostId: 'bare', Code: code, Message: code, Recommend: '' });
    if (params.AccessKeyId !== credentials.accessKeyId) return error(404, 'InvalidAccessKeyId.NotFound');
    if (params.Signature !== expectedSignature(req.method ?? 'GET', params, credentials.accessKeySecret))
      return error(400, 'SignatureDoesNotMatch');
    if (params.Version !== '2017-03-21' || params.Format !== 'JSON' || params.SignatureMethod !== 'HMAC-SHA1')
      return error(400, 'InvalidParameter');
    const call: RpcCall = { method: req.method ?? 'GET', params };
    state.calls.push(call);
    const answer = await state.answer(call);
    if ('destroy' in answer) {
      req.socket.destroy();
      return;
    }
    if ('hang' in answer) return;
    if ('raw' in answer) {
      res.writeHead(answer.status, { 'content-type': 'text/html' });
      res.end(answer.raw);
      return;
    }
    send(answer.status, answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** The paths of every accepted RefreshVodObjectCaches call so far. */
export function refreshedPaths(server: BareRpcServer): string[] {
  return server.calls
    .filter((call) => call.params.Action === 'RefreshVodObjectCaches')
    .flatMap((call) => (call.params.ObjectPath ?? '').split(/\r?\n/));
}
