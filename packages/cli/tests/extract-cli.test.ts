/**
 * The `sluice extract` contract through the built binary: key layout, byte
 * identity, --json summary, idempotent re-runs, exit codes, and the S3 raw zone
 * (s3rver on loopback, configured only through AWS_ENDPOINT_URL_S3 as a user would).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3rver, type S3rverHandle } from '../../core/tests/support/s3rver.js';
import { FIXTURES, runCli } from './support/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'sluice-extract-cli-'));
const source = join(FIXTURES, 'csv', 'basic.csv');
const sourceBytes = readFileSync(source);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let s3: S3rverHandle;
let http: Server;
let httpBase = '';

beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['raw'] });
  http = createServer((req, res) => {
    if (req.url === '/data/basic.csv') {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': sourceBytes.length, etag: '"v1"' });
      res.end(sourceBytes);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await s3?.stop();
  await new Promise((r) => http?.close(r));
  rmSync(work, { recursive: true, force: true });
});

describe('sluice extract (folder raw zone)', () => {
  it('lands the file byte for byte at <dest>/<dataset>/dt=<date>/<basename>, then reports a re-run unchanged', async () => {
    const dest = join(work, 'raw1');
    const args = ['extract', source, '--to', dest, '--dataset', 'sales', '--date', '2026-01-02', '--json'];
    const r1 = await runCli(args);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const key = join(dest, 'sales', 'dt=2026-01-02', 'basic.csv');
    expect(readFileSync(key).equals(sourceBytes)).toBe(true);
    expect(r1.json).toMatchObject({ status: 'written', bytes: sourceBytes.length, sha256: sha256(sourceBytes) });
    for (const k of ['uri', 'peak_rss_bytes', 'duration_ms']) expect(r1.json).toHaveProperty(k);

    const r2 = await runCli(args);
    expect(r2.code).toBe(0);
    expect(r2.json).toMatchObject({ status: 'unchanged', sha256: sha256(sourceBytes) });
  });

  it('exits 2 on bad usage and 1 on failure, leaving nothing behind', async () => {
    const dest = join(work, 'raw2');
    for (const args of [
      ['extract', source, '--to', dest, '--dataset', '../escape'],
      ['extract', source, '--to', dest, '--dataset', 'ok', '--date', '2026-02-30x'],
      ['extract', source, '--to', dest],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const missing = await runCli(['extract', join(work, 'nope.csv'), '--to', dest, '--dataset', 'ok']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const notFound = await runCli(['extract', `${httpBase}/data/missing.csv`, '--to', dest, '--dataset', 'ok', '--allow-private-network']);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/404/);
    expect(existsSync(join(dest, 'ok'))).toBe(false);
  });

  it('refuses a private address unless --allow-private-network is given', async () => {
    const dest = join(work, 'raw3');
    const url = `${httpBase}/data/basic.csv`;
    const blocked = await runCli(['extract', url, '--to', dest, '--dataset', 'web']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/127\.0\.0\.1/);
    expect(blocked.stderr).toMatch(/--allow-private-network/);
    const ok = await runCli(['extract', url, '--to', dest, '--dataset', 'web', '--date', '2026-01-02', '--allow-private-network', '--json']);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(dest, 'web', 'dt=2026-01-02', 'basic.csv')).equals(sourceBytes)).toBe(true);
  });
});

describe('sluice extract (S3 raw zone over the real S3 protocol)', () => {
  it('uploads to s3://bucket/prefix/<dataset>/dt=<date>/<basename> with provenance, idempotently', async () => {
    const args = ['extract', source, '--to', 's3://raw/landing', '--dataset', 'sales', '--date', '2026-01-02', '--json'];
    const env = s3.env;
    const r1 = await runCli(args, { env });
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.json).toMatchObject({ status: 'written', uri: 's3://raw/landing/sales/dt=2026-01-02/basic.csv', sha256: sha256(sourceBytes) });

    const client = s3.client();
    const obj = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'landing/sales/dt=2026-01-02/basic.csv' }));
    const body = Buffer.from(await obj.Body!.transformToByteArray());
    expect(body.equals(sourceBytes)).toBe(true);
    expect(Object.values(obj.Metadata ?? {})).toContain(sha256(sourceBytes));

    const r2 = await runCli(args, { env });
    expect(r2.code).toBe(0);
    expect(r2.json).toMatchObject({ status: 'unchanged' });
    const list = await client.send(new ListObjectsV2Command({ Bucket: 'raw', Prefix: 'landing/sales/dt=2026-01-02/' }));
    const dataKeys = (list.Contents ?? []).map((o) => o.Key).filter((k) => k?.endsWith('.csv'));
    expect(dataKeys).toEqual(['landing/sales/dt=2026-01-02/basic.csv']);
  });
});
