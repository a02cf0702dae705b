/** Loopback node:http servers that misbehave on purpose. */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
export { bytes } from '../../../core/tests/support/bytes.js';

export interface SeenRequest {
  url: string;
  headers: IncomingMessage['headers'];
}

export interface TestServer {
  url: string;
  origin: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    void Promise.resolve(handler(req, res, requests.length)).catch((e: unknown) => {
      res.destroy(e as Error);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}


export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends `body` (or `body[start..]` for a valid Range + If-Range) with ETag and Accept-Ranges. */
export function serveRange(req: IncomingMessage, res: ServerResponse, body: Buffer, etag = '"v1"', opts: { cutAt?: number } = {}): void {
  const range = req.headers.range;
  const m = typeof range === 'string' ? /^bytes=(\d+)-$/.exec(range) : null;
  const ifRange = req.headers['if-range'];
  let start = 0;
  if (m && (ifRange === undefined || ifRange === etag)) start = Number(m[1]);
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', etag, 'accept-ranges': 'bytes', 'content-length': body.length - start };
  if (start > 0) {
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(206, headers);
  } else {
    res.writeHead(200, headers);
  }
  if (opts.cutAt !== undefined && opts.cutAt > start) {
    res.write(body.subarray(start, opts.cutAt), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  res.end(body.subarray(start));
}
