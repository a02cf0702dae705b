import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractToRawZone } from '@sluice/extract';
import { startS3rver } from '../../../core/tests/support/s3rver.js';
import type { S3rverHandle } from '../../../core/tests/support/s3rver.js';
import { bytes, sha256, startServer } from '../support/http.js';
import type { TestServer } from '../support/http.js';

let s3: S3rverHandle;
let client: S3Client;
let root: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['src', 'lake'] });
  client = s3.client();
  root = await mkdtemp(join(tmpdir(), 'sluice-paged-'));
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

async function api(kind: 'link' | 'json', pages: number, loop = false): Promise<TestServer> {
  const srv = await startServer((req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1');
    const next = n < pages ? `/items?page=${n + 1}` : loop ? '/items?page=1' : null;
    const body = JSON.stringify({ page: n, items: [n * 10, n * 10 + 1], ...(kind === 'json' ? { links: { next } } : {}) });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (kind === 'link' && next) headers['link'] = `<${next}>; rel="next", </items?page=${pages}>; rel="last"`;
    res.writeHead(200, headers);
    res.end(body);
  });
  servers.push(srv);
  return srv;
}

describe('paged HTTP API', () => {
  it('follows the Link header and stores each page unchanged as page-00001.json, …', async () => {
    const srv = await api('link', 3);
    const dest = join(root, 'link');
    const s = await extractToRawZone({ source: `${srv.url}/items?page=1`, to: dest, dataset: 'items', date: '2024-05-31', allowPrivateNetwork: true, pagination: { next: 'link-header' } });
    expect(s.status).toBe('written');
    expect(s.pages?.map((p) => p.uri)).toEqual([1, 2, 3].map((n) => join(dest, `items/dt=2024-05-31/page-0000${n}.json`)));
    expect(await readdir(join(dest, 'items/dt=2024-05-31'))).toEqual(['page-00001.json', 'page-00002.json', 'page-00003.json']);
    expect(JSON.parse(await readFile(join(dest, 'items/dt=2024-05-31/page-00002.json'), 'utf8'))).toEqual({ page: 2, items: [20, 21] });
    const again = await extractToRawZone({ source: `${srv.url}/items?page=1`, to: dest, dataset: 'items', date: '2024-05-31', allowPrivateNetwork: true, pagination: { next: 'link-header' } });
    expect(again.status).toBe('unchanged');
    expect(again.pages?.every((p) => p.status === 'unchanged')).toBe(true);
  });

  it('follows a JSON field into S3, and stops at maxPages', async () => {
    const srv = await api('json', 4);
    const s = await extractToRawZone({
      source: `${srv.url}/items`,
      to: 's3://lake/api',
      dataset: 'items',
      date: '2024-05-31',
      allowPrivateNetwork: true,
      s3Client: client,
      pagination: { next: { jsonField: 'links.next' } },
    });
    expect(s.pages).toHaveLength(4);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake', Key: 'api/items/dt=2024-05-31/page-00004.json' }));
    expect(head.Metadata?.['sha256']).toBe(s.pages?.[3]?.sha256);
    const err = await extractToRawZone({
      source: `${srv.url}/items`,
      to: join(root, 'capped'),
      dataset: 'items',
      allowPrivateNetwork: true,
      pagination: { next: { jsonField: 'links.next' }, maxPages: 2 },
    }).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('TOO_MANY_PAGES');
    expect(err.message).toMatch(/raise maxPages/);
  });

  it('detects an API that links back to an earlier page', async () => {
    const srv = await api('link', 2, true);
    const err = await extractToRawZone({ source: `${srv.url}/items?page=1`, to: join(root, 'loop'), dataset: 'x', allowPrivateNetwork: true, pagination: { next: 'link-header' } }).catch(
      (e: unknown) => e as Error & { code: string },
    );
    expect(err.code).toBe('TOO_MANY_PAGES');
  });
});

describe('S3 source', () => {
  const data = bytes(3 * 1024 * 1024 + 17, 77);

  it('copies server-side within the same store, with provenance, and is idempotent by ETag', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'src', Key: 'exports/2024/orders.csv', Body: data, ContentType: 'text/csv' }));
    const s = await extractToRawZone({ source: 's3://src/exports/2024/orders.csv', to: 's3://lake/raw', dataset: 'orders', date: '2024-05-31', s3Client: client });
    expect(s).toMatchObject({ status: 'written', uri: 's3://lake/raw/orders/dt=2024-05-31/orders.csv', bytes: data.length, sha256: sha256(data) });
    // A server-side copy: no upload of the bytes through us.
    const copyReq = s3.requests.filter((r) => r.method === 'PUT' && decodeURIComponent(r.path) === '/lake/raw/orders/dt=2024-05-31/orders.csv');
    expect(copyReq).toHaveLength(1);
    expect(s3.requests.some((r) => decodeURIComponent(r.path).startsWith('/lake/raw/_sluice/staging'))).toBe(false);
    const out = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: 'raw/orders/dt=2024-05-31/orders.csv' }));
    expect(sha256(Buffer.from(await out.Body!.transformToByteArray()))).toBe(sha256(data));
    expect(out.Metadata?.['sha256']).toBe(sha256(data));
    expect(out.Metadata?.['source']).toBe('s3://src/exports/2024/orders.csv');
    const again = await extractToRawZone({ source: 's3://src/exports/2024/orders.csv', to: 's3://lake/raw', dataset: 'orders', date: '2024-05-31', s3Client: client });
    expect(again.status).toBe('unchanged');
  });

  it('streams to a local folder', async () => {
    const s = await extractToRawZone({ source: 's3://src/exports/2024/orders.csv', to: join(root, 'from-s3'), dataset: 'orders', date: '2024-05-31', s3Client: client });
    expect(sha256(await readFile(s.uri))).toBe(sha256(data));
    expect(s.upstream_etag).toBeDefined();
  });

  it('a missing S3 source fails with NOT_FOUND', async () => {
    await expect(extractToRawZone({ source: 's3://src/nope.csv', to: 's3://lake/raw', dataset: 'x', s3Client: client })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
