import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectInfo } from '@sluice/core/storage';
import { extractError, usageError } from './errors.js';

export type SourceRef =
  | { kind: 'http'; url: string }
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'file'; path: string };

/** Classifies `<source>`: an http(s) URL, `s3://bucket/key`, or a local path (`file://` too). */
export function parseSource(source: string, cwd = process.cwd()): SourceRef {
  if (source.trim() === '') throw usageError('the source is empty; pass an http(s) URL, a local path or s3://bucket/key');
  if (source.includes('\0')) throw usageError('the source contains a NUL byte');
  if (/^https?:\/\//i.test(source)) return { kind: 'http', url: source };
  if (/^s3:\/\//i.test(source)) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
    if (!m?.[1] || !m[2] || m[2].endsWith('/')) throw usageError(`invalid S3 source ${JSON.stringify(source)}: use s3://bucket/key of one object`);
    return { kind: 's3', bucket: m[1], key: m[2] };
  }
  if (/^file:\/\//i.test(source)) return { kind: 'file', path: fileURLToPath(source) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw usageError(`unsupported source scheme in ${JSON.stringify(source.replace(/\/\/[^/@]*@/, '//'))}: only http and https URLs, local paths and s3://bucket/key are allowed`);
  }
  return { kind: 'file', path: resolve(cwd, source) };
}

/** The object name a source gets in the raw zone: the basename of its path. */
export function sourceName(ref: SourceRef): string {
  switch (ref.kind) {
    case 'http': {
      const path = new URL(ref.url).pathname;
      const last = path.split('/').pop() ?? '';
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    }
    case 's3':
      return ref.key.split('/').pop() ?? '';
    case 'file':
      return basename(ref.path);
  }
}

export async function statLocalFile(path: string): Promise<{ size: number; mtime: Date }> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw usageError(`source ${path} is not a file; point at one file`);
    return { size: st.size, mtime: st.mtime };
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') throw extractError('NOT_FOUND', `source file ${path} does not exist; check the path`, { cause: e });
    throw e;
  }
}

/** sha256 of a local file, streamed (a local re-read is far cheaper than an upload). */
export async function hashLocalFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
}

export function readLocalFile(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}

/** Previous provenance of an object, from its metadata. */
export function previous(info: ObjectInfo | undefined): { sha256?: string; upstreamEtag?: string } {
  if (!info) return {};
  const out: { sha256?: string; upstreamEtag?: string } = {};
  const sha = info.metadata['sha256'];
  const etag = info.metadata['upstream-etag'];
  if (sha) out.sha256 = sha;
  if (etag) out.upstreamEtag = etag;
  return out;
}
