import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractToRawZone } from '@sluice/extract';
import { bytes, sha256 } from '../support/http.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-extract-local-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

describe('extract: local file → local folder', () => {
  it('lands the file byte-identical at <dest>/<dataset>/dt=<date>/<basename>, with a manifest outside the data folder', async () => {
    const src = join(root, 'in', 'cities.csv');
    await mkdir(join(root, 'in'), { recursive: true });
    const data = bytes(1_500_000, 11);
    await writeFile(src, data);
    const dest = join(root, 'raw');
    const s = await extractToRawZone({ source: src, to: dest, dataset: 'cities', date: '2024-05-31' });
    expect(s).toMatchObject({ status: 'written', bytes: data.length, sha256: sha256(data), uri: join(dest, 'cities/dt=2024-05-31/cities.csv') });
    expect(s.peak_rss_bytes).toBeGreaterThan(0);
    expect(s.duration_ms).toBeGreaterThanOrEqual(0);
    expect(sha256(await readFile(s.uri))).toBe(sha256(data));
    // Only the data object lives in the data folder.
    expect(await readdir(join(dest, 'cities/dt=2024-05-31'))).toEqual(['cities.csv']);
    const manifest = JSON.parse(await readFile(join(dest, '_sluice/manifests/cities/dt=2024-05-31/cities.csv.manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ bytes: data.length, sha256: sha256(data), source: src, dataset: 'cities', date: '2024-05-31', sluice_version: '0.1.0' });
    expect(manifest['fetched_at']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(s.manifest_uri).toBe(join(dest, '_sluice/manifests/cities/dt=2024-05-31/cities.csv.manifest.json'));
  });

  it('re-running with an unchanged file writes nothing and reports "unchanged"; a changed file replaces it in place', async () => {
    const src = join(root, 'in2', 'a.bin');
    await mkdir(join(root, 'in2'), { recursive: true });
    await writeFile(src, bytes(10_000, 1));
    const dest = join(root, 'raw2');
    const first = await extractToRawZone({ source: src, to: dest, dataset: 'a', date: '2024-01-01' });
    const m1 = (await stat(first.uri)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const again = await extractToRawZone({ source: src, to: dest, dataset: 'a', date: '2024-01-01' });
    expect(again).toMatchObject({ status: 'unchanged', sha256: first.sha256, bytes: 10_000, uri: first.uri });
    expect((await stat(first.uri)).mtimeMs).toBe(m1);
    await writeFile(src, bytes(12_000, 2));
    const changed = await extractToRawZone({ source: src, to: dest, dataset: 'a', date: '2024-01-01' });
    expect(changed).toMatchObject({ status: 'written', bytes: 12_000, sha256: sha256(bytes(12_000, 2)) });
    // Exactly one data object at the key, no staging leftovers.
    expect((await walk(dest)).filter((p) => !p.startsWith('_sluice/manifests') && !p.startsWith('.sluice-meta'))).toEqual(['a/dt=2024-01-01/a.bin']);
  });

  it('defaults the date to today in the given time zone', async () => {
    const src = join(root, 'in', 'cities.csv');
    const s = await extractToRawZone({ source: src, to: join(root, 'raw3'), dataset: 'c', timezone: 'Asia/Seoul', now: new Date('2024-01-01T20:00:00Z') });
    expect(s.date).toBe('2024-01-02');
    expect(s.uri).toContain('/c/dt=2024-01-02/cities.csv');
  });

  it('refuses bad dataset names and dates as usage errors, before touching anything', async () => {
    const src = join(root, 'in', 'cities.csv');
    for (const dataset of ['../escape', '/abs', 'a/b', 'x\0y']) {
      await expect(extractToRawZone({ source: src, to: join(root, 'raw4'), dataset })).rejects.toMatchObject({ code: 'USAGE' });
    }
    await expect(extractToRawZone({ source: src, to: join(root, 'raw4'), dataset: 'ok', date: '../../etc' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(stat(join(root, 'raw4'))).rejects.toThrow();
  });

  it('fails clearly on a missing source file', async () => {
    await expect(extractToRawZone({ source: join(root, 'nope.csv'), to: join(root, 'raw5'), dataset: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/does not exist/),
    });
  });
});
