/**
 * One conformance suite for every {@link Storage} backend. Each backend's test
 * file calls `describeStorageConformance` with a factory; the cases here are
 * the contract in `src/storage/types.ts`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Storage } from '@sluice/core/storage';
import { SluiceError } from '@sluice/core';
import { bytes } from './support/bytes.js';
export { bytes };

export interface ConformanceTarget {
  storage: Storage;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}


async function* chunked(buf: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function* failingAfter(buf: Buffer, failAt: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < buf.length; i += 64 * 1024) {
    if (i >= failAt) throw new Error('source cut on purpose');
    yield buf.subarray(i, i + 64 * 1024);
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function describeStorageConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  describe(`Storage conformance: ${name}`, () => {
    it('round-trips bytes and metadata exactly', async () => {
      const { storage } = await setup();
      const data = bytes(300_000, 7);
      const put = await storage.put('ds/dt=2024-01-01/a.bin', chunked(data), { metadata: { sha256: sha(data), source: 'x' }, contentType: 'application/octet-stream' });
      expect(put.size).toBe(data.length);
      const head = await storage.head('ds/dt=2024-01-01/a.bin');
      expect(head?.size).toBe(data.length);
      expect(head?.metadata['sha256']).toBe(sha(data));
      expect(head?.metadata['source']).toBe('x');
      expect(head?.lastModified).toBeInstanceOf(Date);
      expect(sha(await collect(await storage.read('ds/dt=2024-01-01/a.bin')))).toBe(sha(data));
    });

    it('round-trips a multipart-sized object (> one 5 MiB part)', async () => {
      const { storage } = await setup();
      const data = bytes(11 * 1024 * 1024 + 123, 3);
      await storage.put('big/x.bin', chunked(data, 1024 * 1024));
      const back = await collect(await storage.read('big/x.bin'));
      expect(back.length).toBe(data.length);
      expect(sha(back)).toBe(sha(data));
    });

    it('stores an empty object', async () => {
      const { storage } = await setup();
      await storage.put('empty/e.txt', chunked(Buffer.alloc(0)));
      expect((await storage.head('empty/e.txt'))?.size).toBe(0);
    });

    it('reads byte ranges', async () => {
      const { storage } = await setup();
      const data = bytes(10_000, 9);
      await storage.put('r/x.bin', chunked(data));
      expect(await collect(await storage.read('r/x.bin', { start: 100, end: 199 }))).toEqual(data.subarray(100, 200));
      expect(await collect(await storage.read('r/x.bin', { start: 9_990 }))).toEqual(data.subarray(9_990));
    });

    it('reports missing objects: head → undefined, read → NOT_FOUND', async () => {
      const { storage } = await setup();
      expect(await storage.head('nope/missing.bin')).toBeUndefined();
      await expect(storage.read('nope/missing.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('a put that fails midway leaves nothing at a new key and the old object intact', async () => {
      const { storage } = await setup();
      const good = bytes(50_000, 1);
      await storage.put('f/old.bin', chunked(good), { metadata: { v: '1' } });
      const big = bytes(12 * 1024 * 1024, 2);
      await expect(storage.put('f/old.bin', failingAfter(big, 7 * 1024 * 1024))).rejects.toThrow(/source cut on purpose/);
      await expect(storage.put('f/new.bin', failingAfter(big, 100_000))).rejects.toThrow(/source cut on purpose/);
      expect(await storage.head('f/new.bin')).toBeUndefined();
      const head = await storage.head('f/old.bin');
      expect(head?.size).toBe(good.length);
      expect(head?.metadata['v']).toBe('1');
      expect(sha(await collect(await storage.read('f/old.bin')))).toBe(sha(good));
      const keys: string[] = [];
      for await (const o of storage.list('f/')) keys.push(o.key);
      expect(keys).toEqual(['f/old.bin']);
    });

    it('an aborted put leaves nothing behind and rejects with the abort reason', async () => {
      const { storage } = await setup();
      const ac = new AbortController();
      const reason = new SluiceError('ABORTED', 'stopped by test');
      async function* slow(): AsyncIterable<Uint8Array> {
        for (let i = 0; i < 200; i++) {
          if (i === 120) ac.abort(reason);
          yield bytes(64 * 1024, i + 1);
        }
      }
      await expect(storage.put('a/x.bin', slow(), { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await storage.head('a/x.bin')).toBeUndefined();
    });

    it.each([
      ['small', 40_000],
      ['multipart-sized', 11 * 1024 * 1024],
    ])('beforeCommit can discard a %s put (previous object untouched) or set metadata known only at the end', async (_label, n) => {
      const { storage } = await setup();
      const old = bytes(1000, 31);
      await storage.put('bc/x.bin', chunked(old), { metadata: { v: 'old' } });
      const fresh = bytes(n, 32);
      const discarded = await storage.put('bc/x.bin', chunked(fresh, 1024 * 1024), { metadata: { v: 'new' }, beforeCommit: async () => false });
      expect(discarded.committed).toBe(false);
      const head = await storage.head('bc/x.bin');
      expect(head?.size).toBe(1000);
      expect(head?.metadata['v']).toBe('old');
      const seen: number[] = [];
      const kept = await storage.put('bc/x.bin', chunked(fresh, 1024 * 1024), {
        metadata: { v: 'early' },
        beforeCommit: async ({ size }) => {
          seen.push(size);
          return { metadata: { v: 'late', sha256: sha(fresh) } };
        },
      });
      expect(kept.committed).toBe(true);
      expect(seen).toEqual([n]);
      const after = await storage.head('bc/x.bin');
      expect(after?.size).toBe(n);
      expect(after?.metadata).toMatchObject({ v: 'late', sha256: sha(fresh) });
      expect(sha(await collect(await storage.read('bc/x.bin')))).toBe(sha(fresh));
      await expect(
        storage.put('bc/y.bin', chunked(fresh, 1024 * 1024), {
          beforeCommit: async () => {
            throw new Error('verification failed on purpose');
          },
        }),
      ).rejects.toThrow(/verification failed on purpose/);
      expect(await storage.head('bc/y.bin')).toBeUndefined();
    });

    it('move replaces the target with new metadata and removes the source', async () => {
      const { storage } = await setup();
      await storage.put('m/target.bin', chunked(bytes(1000, 4)), { metadata: { v: 'old' } });
      const fresh = bytes(2000, 5);
      await storage.put('_staging/t.bin', chunked(fresh), { metadata: { v: 'staging' } });
      await storage.move('_staging/t.bin', 'm/target.bin', { metadata: { v: 'new', sha256: sha(fresh) } });
      expect(await storage.head('_staging/t.bin')).toBeUndefined();
      const head = await storage.head('m/target.bin');
      expect(head?.metadata).toMatchObject({ v: 'new', sha256: sha(fresh) });
      expect(sha(await collect(await storage.read('m/target.bin')))).toBe(sha(fresh));
    });

    it('delete is idempotent', async () => {
      const { storage } = await setup();
      await storage.put('d/x', chunked(Buffer.from('x')));
      await storage.delete('d/x');
      await storage.delete('d/x');
      expect(await storage.head('d/x')).toBeUndefined();
    });

    it('lists by prefix and hides bookkeeping', async () => {
      const { storage } = await setup();
      for (const k of ['l/a/1', 'l/a/2', 'l/b/3', 'lx/4']) await storage.put(k, chunked(Buffer.from(k)), { metadata: { k } });
      const keys: string[] = [];
      for await (const o of storage.list('l/a/')) keys.push(o.key);
      expect(keys.sort()).toEqual(['l/a/1', 'l/a/2']);
      const all: string[] = [];
      for await (const o of storage.list('l')) all.push(o.key);
      expect(all.sort()).toEqual(['l/a/1', 'l/a/2', 'l/b/3', 'lx/4']);
    });

    it('refuses keys that escape the root', async () => {
      const { storage } = await setup();
      for (const k of ['../x', 'a/../../x', '/etc/passwd', 'a\0b', 'a\\b', '']) {
        await expect(storage.put(k, chunked(Buffer.from('x')))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
      }
    });
  });
}
