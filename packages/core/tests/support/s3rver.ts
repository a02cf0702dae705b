/**
 * Starts a real s3rver on a free loopback port with a temp dir, for any
 * package's tests (import it by relative path). Every request is recorded so
 * tests can check the S3 protocol traffic itself, e.g. that an
 * AbortMultipartUpload was *requested* even though s3rver 3.7.1 answers it
 * with MethodNotAllowed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** UploadId returned by CreateMultipartUpload, when this request was one. */
  createdUploadId?: string;
}

export interface S3rverHandle {
  endpoint: string;
  port: number;
  dir: string;
  requests: RecordedRequest[];
  /** Env for a child process (CLI, Lambda bundle) to talk to this server. */
  env: Record<string, string>;
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Multipart uploads created but neither completed nor (requested to be) aborted. */
  unfinishedUploads(): string[];
  /** UploadIds for which an AbortMultipartUpload was requested. */
  abortRequests(): string[];
  stop(): Promise<void>;
}

interface KoaCtx {
  method: string;
  path: string;
  querystring: string;
  status: number;
  body: unknown;
}

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startS3rver(options: { buckets?: string[] } = {}): Promise<S3rverHandle> {
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => {
    middleware: ((ctx: KoaCtx, next: () => Promise<void>) => Promise<void>)[];
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
  };
  const dir = await mkdtemp(join(tmpdir(), 'sluice-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const requests: RecordedRequest[] = [];
  // Koa composes middleware when the server starts, so an unshifted one sees every request first.
  server.middleware.unshift(async (ctx, next) => {
    try {
      await next();
    } finally {
      const rec: RecordedRequest = { method: ctx.method, path: ctx.path, query: ctx.querystring, status: ctx.status };
      if (ctx.method === 'POST' && /(^|&)uploads(=|&|$)/.test(ctx.querystring) && typeof ctx.body === 'string') {
        const m = /<UploadId>([^<]+)<\/UploadId>/.exec(ctx.body);
        if (m?.[1]) rec.createdUploadId = m[1];
      }
      requests.push(rec);
    }
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const uploadIdOf = (q: string): string | undefined => new URLSearchParams(q).get('uploadId') ?? undefined;
  const handle: S3rverHandle = {
    endpoint,
    port,
    dir,
    requests,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    client() {
      const c = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { ...S3RVER_CREDENTIALS } });
      clients.push(c);
      return c;
    },
    async createBucket(name) {
      const c = handle.client();
      await c.send(new CreateBucketCommand({ Bucket: name }));
    },
    abortRequests() {
      return requests.filter((r) => r.method === 'DELETE' && uploadIdOf(r.query)).map((r) => uploadIdOf(r.query) as string);
    },
    unfinishedUploads() {
      const created = requests.flatMap((r) => (r.createdUploadId ? [r.createdUploadId] : []));
      const finished = new Set(
        requests
          .filter((r) => (r.method === 'DELETE' || (r.method === 'POST' && r.status < 300)) && uploadIdOf(r.query))
          .map((r) => uploadIdOf(r.query) as string),
      );
      return created.filter((id) => !finished.has(id));
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  for (const b of options.buckets ?? []) await handle.createBucket(b);
  return handle;
}
