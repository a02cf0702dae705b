/**
 * Turns a CSV input (path, `.gz` path or stdin) into a stream of UTF-8 bytes:
 * gunzip when the bytes say gzip, transcode from `encoding` with iconv-lite's
 * streaming decoder, strip a BOM. Counts the raw bytes read for progress and
 * the run summary.
 */
import { open, stat } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { iconvLite } from './lazy.js';
import { CsvError } from './errors.js';

/** Where CSV bytes come from. A path can be read twice (for sampling and re-reads); a stream cannot. */
export type CsvSource =
  | { kind: 'file'; path: string }
  | { kind: 'stream'; name: string; stream: AsyncIterable<Uint8Array> };

export const READ_CHUNK_BYTES = 512 << 10;

export interface ByteCounter {
  /** Raw (still compressed / encoded) bytes read so far. */
  bytesRead: number;
}

/** Canonical encoding name, or throws a usage error naming the accepted ones. */
export function normalizeEncoding(name: string | undefined): string {
  const n = (name ?? 'utf-8').toLowerCase().replace(/_/g, '-');
  if (n === 'utf8' || n === 'utf-8') return 'utf-8';
  if (n === 'euc-kr' || n === 'cp949' || n === 'uhc' || n === 'ks-c-5601-1987') return 'cp949';
  if (!iconvLite().encodingExists(n)) {
    throw new CsvError('BAD_OPTION', `unknown encoding "${name}"; use utf-8, cp949 (euc-kr), latin1, utf-16le or another iconv-lite name`);
  }
  return n;
}

export function isReReadable(src: CsvSource): boolean {
  return src.kind === 'file';
}

export async function sourceSize(src: CsvSource): Promise<number | undefined> {
  if (src.kind !== 'file') return undefined;
  try {
    return (await stat(src.path)).size;
  } catch (e) {
    throw new CsvError('INPUT_NOT_FOUND', `cannot read ${src.path}: ${(e as Error).message}; check the path`, { cause: e });
  }
}

function rawChunks(src: CsvSource, counter: ByteCounter): AsyncIterable<Uint8Array> {
  if (src.kind === 'stream') {
    return (async function* () {
      for await (const c of src.stream) {
        counter.bytesRead += c.length;
        yield c;
      }
    })();
  }
  return (async function* () {
    // One reused buffer: a fresh 1 MiB Buffer per read makes the GC, not the
    // data, decide the RSS. Each chunk is valid only until the next pull, which
    // is fine for consumers that copy or finish with it synchronously.
    const fh = await open(src.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) return;
        counter.bytesRead += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  })();
}

async function* gunzipIfNeeded(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    yield* gunzipFrom(it);
  } finally {
    // Closes the file even when the consumer stops early.
    await it.return?.();
  }
}

async function* gunzipFrom(it: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  // The two magic bytes may arrive in separate chunks. Copy: the source reuses its buffer.
  let head: Uint8Array = new Uint8Array(0);
  while (head.length < 2) {
    const n = await it.next();
    if (n.done) {
      if (head.length > 0) yield head;
      return;
    }
    head = Buffer.concat([head, n.value]);
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    // The raw reader reuses its buffer, so hand the gunzip stream copies.
    async function* all() {
      yield head;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield Buffer.from(n.value);
      }
    }
    const gunzip = pipeline(Readable.from(all(), { objectMode: false }), createGunzip({ chunkSize: 256 * 1024 }), () => {});
    // Re-chunk the gunzip output into ~1 MiB blocks: fewer, larger blocks keep the
    // tokenizer's per-block overhead low.
    let parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of gunzip as AsyncIterable<Buffer>) {
        parts.push(c);
        size += c.length;
        if (size >= READ_CHUNK_BYTES) {
          yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
          parts = [];
          size = 0;
        }
      }
    } catch (e) {
      throw new CsvError('BAD_ENCODING', `the gzip stream is corrupt or truncated (${(e as Error).message}); re-fetch the raw file`, { cause: e });
    }
    if (size > 0) yield Buffer.concat(parts, size);
    return;
  }
  yield head;
  for (;;) {
    const n = await it.next();
    if (n.done) return;
    yield n.value;
  }
}

async function* transcode(chunks: AsyncIterable<Uint8Array>, encoding: string): AsyncIterable<Uint8Array> {
  if (encoding === 'utf-8') {
    // Hold back the first bytes until three are seen: a BOM may be split over chunks.
    let head: Uint8Array | undefined = new Uint8Array(0);
    for await (const c of chunks) {
      if (head !== undefined) {
        const h: Uint8Array = Buffer.concat([head, c]);
        if (h.length < 3) {
          head = h;
          continue;
        }
        head = undefined;
        const bom = h[0] === 0xef && h[1] === 0xbb && h[2] === 0xbf;
        if (h.length > (bom ? 3 : 0)) yield bom ? h.subarray(3) : h;
        continue;
      }
      yield c;
    }
    if (head !== undefined && head.length > 0) yield head;
    return;
  }
  // iconv-lite's decoder keeps a partial multibyte sequence between writes, so
  // chunk boundaries are safe; it strips a BOM by default.
  const decoder = iconvLite().getDecoder(encoding);
  for await (const c of chunks) {
    const s = decoder.write(Buffer.from(c.buffer, c.byteOffset, c.length));
    if (s.length > 0) yield Buffer.from(s, 'utf8');
  }
  const tail = decoder.end();
  if (tail && tail.length > 0) yield Buffer.from(tail, 'utf8');
}

/**
 * UTF-8 bytes of the whole input, in chunks of about 1 MiB. A chunk may be a
 * reused buffer: it is valid only until the next one is pulled.
 */
export function openUtf8(src: CsvSource, encoding: string, counter: ByteCounter): AsyncIterable<Uint8Array> {
  return transcode(gunzipIfNeeded(rawChunks(src, counter)), encoding);
}
