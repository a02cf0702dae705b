/**
 * HTTP sources against misbehaving loopback node:http servers, landing in a
 * real S3 protocol (s3rver). Part size 5 MiB and 12 MiB bodies, so every
 * upload is a real multipart upload.
 */
import { gzipSync } from 'node:zlib';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extractToRawZone } from '@sluice/extract';
import type { ExtractOptions } from '@sluice/extract';
import { startS3rver } from '../../../core/tests/support/s3rver.js';
import type { S3rverHandle } from '../../../core/tests/support/s3rver.js';
import { bytes, serveRange, sha256, startServer } from '../support/http.js';
import type { TestServer } from '../support/http.js';

const SIZE = 12 * 1024 * 1024 + 321;
const BODY = bytes(SIZE, 42);
let s3: S3rverHandle;
let client: S3Client;
let bucketN = 0;
let bucket: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  client = s3.client();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await s3?.stop();
});
beforeEach(async () => {
  bucket = `raw-${++bucketN}`;
  await s3.createBucket(bucket);
});

async function server(h: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(h);
  servers.push(s);
  return s;
}

/** Fast retry and stall settings so failure tests take milliseconds, not minutes. */
function opts(source: string, extra: Partial<ExtractOptions> = {}): ExtractOptions {
  return {
    source,
    to: `s3://${bucket}/raw`,
    dataset: 'ds',
    date: '2024-05-31',
    allowPrivateNetwork: true,
    s3Client: client,
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 2,
    maxAttempts: 5,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    // Long enough that a CPU-starved CI box never sees a false stall; the stall tests wait it out.
    stallTimeoutMs: 1_500,
    ...extra,
  };
}

async function getObject(key: string): Promise<Buffer | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
    throw e;
  }
}

async function allKeys(): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const KEY = 'raw/ds/dt=2024-05-31/data.bin';

describe('extract: http → s3', () => {
  it('streams the body unchanged, with provenance in user metadata and a manifest outside the data folder', async () => {
    const srv = await server((req, res) => serveRange(req, res, BODY, '"etag-1"'));
    const s = await extractToRawZone(opts(`${srv.url}/files/data.bin`));
    expect(s).toMatchObject({ status: 'written', uri: `s3://${bucket}/${KEY}`, bytes: SIZE, sha256: sha256(BODY), upstream_etag: '"etag-1"' });
    expect(sha256((await getObject(KEY))!)).toBe(sha256(BODY));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    expect(head.ContentLength).toBe(SIZE);
    expect(head.Metadata).toMatchObject({ sha256: sha256(BODY), bytes: String(SIZE), 'upstream-etag': '"etag-1"', 'sluice-version': '0.1.0', source: `${srv.url}/files/data.bin` });
    expect(head.Metadata?.['fetched-at']).toMatch(/^\d{4}-/);
    const manifest = JSON.parse((await getObject('raw/_sluice/manifests/ds/dt=2024-05-31/data.bin.manifest.json'))!.toString()) as Record<string, unknown>;
    expect(manifest).toMatchObject({ sha256: sha256(BODY), bytes: SIZE, upstream_etag: '"etag-1"', uri: `s3://${bucket}/${KEY}` });
    expect(await allKeys()).toEqual(['raw/_sluice/manifests/ds/dt=2024-05-31/data.bin.manifest.json', KEY]);
    expect(s3.unfinishedUploads()).toEqual([]);
    // Asked for the stored bytes, not an on-the-fly encoding.
    expect(srv.requests[0]?.headers['accept-encoding']).toBe('identity');
  });

  it('a re-run with the same upstream ETag uploads nothing (304 via If-None-Match) and reports "unchanged"', async () => {
    let full = 0;
    const srv = await server((req, res) => {
      if (req.headers['if-none-match'] === '"etag-1"') {
        res.writeHead(304, { etag: '"etag-1"' });
        res.end();
        return;
      }
      full++;
      serveRange(req, res, BODY, '"etag-1"');
    });
    await extractToRawZone(opts(`${srv.url}/data.bin`));
    const puts = s3.requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length;
    const again = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(again).toMatchObject({ status: 'unchanged', sha256: sha256(BODY), bytes: SIZE });
    expect(full).toBe(1);
    expect(s3.requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length).toBe(puts);
    expect((await allKeys()).filter((k) => k.startsWith('raw/ds/'))).toEqual([KEY]);
  });

  it('without an ETag, the same sha256 means "unchanged": the data key is not rewritten', async () => {
    const small = bytes(200_000, 5);
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-length': small.length });
      res.end(small);
    });
    await extractToRawZone(opts(`${srv.url}/data.bin`));
    const before = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    const again = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(again.status).toBe('unchanged');
    const after = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    expect(after.Metadata?.['fetched-at']).toBe(before.Metadata?.['fetched-at']);
    expect(await allKeys()).toEqual(['raw/_sluice/manifests/ds/dt=2024-05-31/data.bin.manifest.json', KEY]);
  });

  it('stores gzip as it came: no decoding', async () => {
    const gz = gzipSync(Buffer.from('a,b\n1,2\n'.repeat(1000)));
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/csv', 'content-length': gz.length });
      res.end(gz);
    });
    const s = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(s.bytes).toBe(gz.length);
    expect((await getObject(KEY))!.equals(gz)).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    expect(head.Metadata?.['upstream-content-encoding']).toBe('gzip');
  });

  it('never lets credentials reach the summary, metadata, manifest or errors', async () => {
    const srv = await server((req, res) => {
      if (req.url?.includes('missing')) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': 10 });
      res.end('0123456789');
    });
    const u = new URL(srv.url);
    const secretUrl = `http://alice:s3cr3tpass@${u.host}/data.bin?token=tok-SECRET-1&page=1&X-Amz-Signature=sigSECRET`;
    const s = await extractToRawZone(opts(secretUrl, { headers: { Authorization: 'Bearer hdr-SECRET-2' } }));
    expect(srv.requests[0]?.headers['authorization']).toBe('Bearer hdr-SECRET-2');
    const seen = [JSON.stringify(s), JSON.stringify((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).Metadata), (await getObject('raw/_sluice/manifests/ds/dt=2024-05-31/data.bin.manifest.json'))!.toString()].join('\n');
    for (const secret of ['alice', 's3cr3tpass', 'tok-SECRET-1', 'sigSECRET', 'hdr-SECRET-2']) expect(seen).not.toContain(secret);
    expect(seen).toContain('page=1');
    const err = await extractToRawZone(opts(secretUrl.replace('data.bin', 'missing.bin'), { headers: { Authorization: 'Bearer hdr-SECRET-2' } })).catch((e: unknown) => e as Error);
    expect(err.message).toMatch(/404/);
    for (const secret of ['alice', 's3cr3tpass', 'tok-SECRET-1', 'sigSECRET', 'hdr-SECRET-2']) expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(secret);
    // URL userinfo is sent as Basic auth, never in the request line.
    const basic = await server((req, res) => {
      res.writeHead(200, { 'content-length': 2 });
      res.end(req.headers.authorization === `Basic ${Buffer.from('alice:s3cr3tpass').toString('base64')}` ? 'ok' : 'no');
    });
    await extractToRawZone(opts(`http://alice:s3cr3tpass@${new URL(basic.url).host}/data.bin`, { to: `s3://${bucket}/basic` }));
    expect((await getObject('basic/ds/dt=2024-05-31/data.bin'))!.toString()).toBe('ok');
  });
});

describe('resilience (loopback servers that misbehave on purpose)', () => {
  it('a cut at 40% is resumed with Range + If-Range and the object is byte-identical', async () => {
    const srv = await server((req, res, n) => serveRange(req, res, BODY, '"v1"', n === 1 ? { cutAt: Math.floor(SIZE * 0.4) } : {}));
    const s = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(s.status).toBe('written');
    expect(s.attempts).toBe(2);
    expect(srv.requests.length).toBe(2);
    expect(srv.requests[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(srv.requests[1]?.headers.range ?? '')?.[0])).toBeGreaterThan(0);
    expect(srv.requests[1]?.headers['if-range']).toBe('"v1"');
    expect(sha256((await getObject(KEY))!)).toBe(sha256(BODY));
    expect(s3.unfinishedUploads()).toEqual([]);
  });

  it('a cut at 40% on a server without range support restarts from zero and still lands exact bytes', async () => {
    const srv = await server((_req, res, n) => {
      res.writeHead(200, { 'content-length': SIZE });
      if (n === 1) res.write(BODY.subarray(0, Math.floor(SIZE * 0.4)), () => setTimeout(() => res.destroy(), 20));
      else res.end(BODY);
    });
    const s = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(s).toMatchObject({ status: 'written', bytes: SIZE, sha256: sha256(BODY) });
    expect(srv.requests.length).toBe(2);
    expect(srv.requests[1]?.headers.range).toBeUndefined();
    expect(sha256((await getObject(KEY))!)).toBe(sha256(BODY));
    // The first, cut attempt's multipart upload was aborted (requested), never completed.
    expect(s3.unfinishedUploads()).toEqual([]);
    expect(await allKeys()).toEqual(['raw/_sluice/manifests/ds/dt=2024-05-31/data.bin.manifest.json', KEY]);
  });

  it('500 twice, then success', async () => {
    const srv = await server((req, res, n) => {
      if (n <= 2) {
        res.writeHead(500);
        res.end('boom');
        return;
      }
      serveRange(req, res, BODY);
    });
    const s = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(s).toMatchObject({ status: 'written', attempts: 3, sha256: sha256(BODY) });
    expect(srv.requests.length).toBe(3);
  });

  it('500 forever: fails with a clear error, nothing at the key, no open multipart, the previous good object intact', async () => {
    const good = bytes(1000, 9);
    const ok = await server((_req, res) => {
      res.writeHead(200, { 'content-length': good.length });
      res.end(good);
    });
    await extractToRawZone(opts(`${ok.url}/data.bin`));
    const srv = await server((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const err = await extractToRawZone(opts(`${srv.url}/data.bin`)).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('RETRIES_EXHAUSTED');
    expect(err.message).toMatch(/after 5 attempts.*500/);
    expect(err.message.split('\n')).toHaveLength(1);
    expect(srv.requests.length).toBe(5);
    expect((await getObject(KEY))!.equals(good)).toBe(true);
    const fresh = await extractToRawZone(opts(`${srv.url}/other.bin`)).catch((e: unknown) => e as Error);
    expect(fresh).toBeInstanceOf(Error);
    expect(await getObject('raw/ds/dt=2024-05-31/other.bin')).toBeUndefined();
    expect(s3.unfinishedUploads()).toEqual([]);
    expect((await allKeys()).filter((k) => k.includes('_sluice/staging'))).toEqual([]);
  });

  it('a failure after the multipart upload started requests AbortMultipartUpload and leaves no object', async () => {
    // Always cut after 7 MiB, no range support: every attempt has uploaded a part before failing.
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-length': SIZE });
      res.write(BODY.subarray(0, 7 * 1024 * 1024), () => setTimeout(() => res.destroy(), 20));
    });
    const aborts = s3.abortRequests().length;
    const err = await extractToRawZone(opts(`${srv.url}/data.bin`, { maxAttempts: 3 })).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(err.message).toMatch(/received \d+ of 12583233 bytes .*Content-Length.* after 3 attempts/);
    expect(s3.abortRequests().length).toBeGreaterThanOrEqual(aborts + 3);
    expect(s3.unfinishedUploads()).toEqual([]);
    expect(await getObject(KEY)).toBeUndefined();
  });

  it('a stall is detected, then resumed', async () => {
    const srv = await server((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': SIZE, etag: '"s"', 'accept-ranges': 'bytes' });
        res.write(BODY.subarray(0, 1024 * 1024)); // …then nothing, connection left open
        return;
      }
      serveRange(req, res, BODY, '"s"');
    });
    const t0 = Date.now();
    const s = await extractToRawZone(opts(`${srv.url}/data.bin`));
    expect(s).toMatchObject({ status: 'written', attempts: 2, sha256: sha256(BODY) });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(srv.requests[1]?.headers.range).toBe(`bytes=${1024 * 1024}-`);
  });

  it('a server that never answers fails as stalled after the attempts', async () => {
    const srv = await server(() => {
      /* never respond */
    });
    const err = await extractToRawZone(opts(`${srv.url}/data.bin`, { maxAttempts: 2 })).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('RETRIES_EXHAUSTED');
    expect(err.message).toMatch(/no response within 1500 ms/);
  });

  it('404 fails at once (not retried) and writes nothing', async () => {
    const srv = await server((_req, res) => {
      res.writeHead(404, 'Not Found');
      res.end();
    });
    const err = await extractToRawZone(opts(`${srv.url}/data.bin`)).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toMatch(/answered 404 Not Found; check the URL/);
    expect(srv.requests.length).toBe(1);
    expect(await allKeys()).toEqual([]);
  });

  it('Content-Length mismatch (the server sends fewer bytes than announced) fails with SIZE_MISMATCH', async () => {
    const net: NetServer = createNetServer((sock) => {
      sock.once('data', () => {
        sock.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n' + 'x'.repeat(900));
      });
    });
    await new Promise<void>((r) => net.listen(0, '127.0.0.1', r));
    const port = (net.address() as AddressInfo).port;
    try {
      const err = await extractToRawZone(opts(`http://127.0.0.1:${port}/data.bin`, { maxAttempts: 2 })).catch((e: unknown) => e as Error & { code: string });
      expect(err.code).toBe('SIZE_MISMATCH');
      expect(err.message).toMatch(/received 900 of 1000 bytes/);
      expect(await getObject(KEY)).toBeUndefined();
    } finally {
      net.close();
    }
  });

  it('follows up to 5 redirects and refuses a 6th', async () => {
    const srv = await server((req, res) => {
      const n = Number(/\/r(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      if (n > 0) {
        res.writeHead(302, { location: `/r${n - 1}` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': 3 });
      res.end('end');
    });
    const s = await extractToRawZone(opts(`${srv.url}/r5`));
    expect(s.bytes).toBe(3);
    expect(s.uri).toMatch(/\/r5$/);
    const err = await extractToRawZone(opts(`${srv.url}/r6`)).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('TOO_MANY_REDIRECTS');
  });

  it('a redirect to a private address is refused without --allow-private-network, before any connection', async () => {
    const target = await server((_req, res) => {
      res.writeHead(200);
      res.end('internal secrets');
    });
    const srv = await server((req, res) => {
      const to = req.url === '/to-metadata' ? 'http://169.254.169.254/latest/meta-data/' : `http://localhost:${target.port}/internal`;
      res.writeHead(302, { location: to });
      res.end();
    });
    // The first hop is trusted (it is the test server); the redirect target is not.
    const o = { allowPrivateNetwork: false, trustedOrigins: [srv.origin] };
    const e1 = await extractToRawZone(opts(`${srv.url}/to-localhost`, o)).catch((e: unknown) => e as Error & { code: string });
    expect(e1.code).toBe('SSRF_BLOCKED');
    expect(e1.message).toMatch(/(127\.0\.0\.1|::1).*loopback.*--allow-private-network/);
    expect(target.requests.length).toBe(0);
    const e2 = await extractToRawZone(opts(`${srv.url}/to-metadata`, o)).catch((e: unknown) => e as Error & { code: string });
    expect(e2.code).toBe('SSRF_BLOCKED');
    expect(e2.message).toMatch(/169\.254\.169\.254.*--allow-private-network/);
    expect(await allKeys()).toEqual([]);
    // With the flag, the same redirect is followed.
    const ok = await extractToRawZone(opts(`${srv.url}/to-localhost`, { allowPrivateNetwork: true }));
    expect(ok.bytes).toBe('internal secrets'.length);
  });

  it('refuses private destinations by default, by literal and after DNS resolution', async () => {
    const srv = await server((_req, res) => {
      res.writeHead(200);
      res.end('x');
    });
    for (const url of [`${srv.url}/x.bin`, `http://localhost:${srv.port}/x.bin`, 'http://10.0.0.1/x.bin', 'http://[::1]:1/x.bin', 'http://100.64.1.1/x.bin', 'http://0.0.0.0/x.bin', 'http://[fe80::1]/x.bin']) {
      const err = await extractToRawZone(opts(url, { allowPrivateNetwork: false })).catch((e: unknown) => e as Error & { code: string });
      expect(err.code, url).toBe('SSRF_BLOCKED');
      expect(err.message).toMatch(/--allow-private-network/);
    }
    expect(srv.requests.length).toBe(0);
  });

  it('only http and https are allowed, on redirects too', async () => {
    const srv = await server((_req, res) => {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    });
    const err = await extractToRawZone(opts(`${srv.url}/x.bin`)).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('UNSUPPORTED_SCHEME');
  });

  it('cancellation (the Lambda deadline) aborts the multipart upload and leaves nothing', async () => {
    const srv = await server((_req, res) => {
      res.writeHead(200, { 'content-length': SIZE });
      res.write(BODY.subarray(0, 6 * 1024 * 1024)); // then hang
    });
    const ac = new AbortController();
    const aborts = s3.abortRequests().length;
    // Cancel once the multipart upload exists (the first 5 MiB part is on its way).
    const created = s3.requests.filter((r) => r.createdUploadId).length;
    const poll = setInterval(() => {
      if (s3.requests.filter((r) => r.createdUploadId).length > created) {
        clearInterval(poll);
        ac.abort(Object.assign(new Error('deadline'), { code: 'TIMEOUT' }));
      }
    }, 5);
    const err = await extractToRawZone(opts(`${srv.url}/data.bin`, { signal: ac.signal, stallTimeoutMs: 10_000 })).catch((e: unknown) => e as Error);
    expect(err.message).toMatch(/deadline/);
    expect(s3.abortRequests().length).toBe(aborts + 1);
    expect(s3.unfinishedUploads()).toEqual([]);
    expect(await allKeys()).toEqual([]);
  });
});
