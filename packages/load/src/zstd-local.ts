/**
 * The default zstd page compression: two long-lived node:zlib zstd streams
 * owned by the calling thread, each write one independent frame (one libuv
 * pool job). Cheaper in memory than {@link ZstdWorker} (~20 MB less peak RSS
 * on the whole CLI job), but a stream starts its next job only after a
 * callback on this thread, so compression pauses while the caller keeps the
 * main thread busy. See docs/decisions/002-parquet-writer.md.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { constants as zc, createZstdCompress } from 'node:zlib';
import type { ZstdCompress } from 'node:zlib';

type GcFn = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;
let minorGc: GcFn | null | undefined;

/**
 * zlib hands out each compressed page as slices of 128 KiB native buffers. They
 * die young, but V8 only frees them on a GC, and a caller that allocates
 * little JS (ready batches) may not trigger one for a long time: the 10M-row
 * bench grew from 130 to 186 MB that way. A scavenge every few MB of output
 * (~0.1-1 ms) releases them.
 */
function collectYoung(): void {
  if (minorGc === undefined) {
    try {
      const g = (globalThis as { gc?: GcFn }).gc;
      if (typeof g === 'function') minorGc = g;
      else {
        setFlagsFromString('--expose-gc');
        minorGc = runInNewContext('gc') as GcFn;
      }
    } catch {
      minorGc = null;
    }
  }
  minorGc?.({ type: 'minor' });
}

const GC_EVERY_BYTES = 8 << 20;
let sinceGc = 0;

export interface PageCompressor {
  /** One independent zstd frame for `page`; may write into `out` (a pooled buffer). */
  compress(page: Uint8Array, out: SharedArrayBuffer): Promise<Uint8Array>;
  close(): Promise<void>;
}

class ZstdStream {
  private readonly stream: ZstdCompress;
  private chunks: Buffer[] = [];
  private failure: Error | undefined;
  pending = 0;

  constructor(level: number) {
    this.stream = createZstdCompress({
      // Every write ends a frame: one pool job and one callback per page.
      flush: zc.ZSTD_e_end,
      chunkSize: 128 << 10,
      params: { [zc.ZSTD_c_compressionLevel]: level, [zc.ZSTD_c_windowLog]: 20 },
    });
    this.stream.on('data', (c: Buffer) => this.chunks.push(c));
    this.stream.on('error', (e: Error) => {
      this.failure = e;
    });
  }

  compress(page: Uint8Array, out: SharedArrayBuffer): Promise<Uint8Array> {
    this.pending++;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.failure !== undefined) {
        this.pending--;
        reject(this.failure);
        return;
      }
      // All 'data' events of a write precede its callback, and the next write is
      // processed only after it: the collected chunks are exactly this page's frame.
      this.stream.write(page, (err) => {
        this.pending--;
        const e = err ?? this.failure;
        if (e) {
          reject(e);
          return;
        }
        // Copy the frame into the pooled output buffer so zlib's chunks die young
        // (held until the write, they kept ~10 MB of zlib output buffers alive).
        let total = 0;
        for (const c of this.chunks) total += c.length;
        const frame = total <= out.byteLength ? new Uint8Array(out, 0, total) : new Uint8Array(total);
        let at = 0;
        for (const c of this.chunks) {
          frame.set(c, at);
          at += c.length;
        }
        this.chunks = [];
        sinceGc += total;
        if (sinceGc >= GC_EVERY_BYTES) {
          sinceGc = 0;
          collectYoung();
        }
        resolve(frame);
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

export class ZstdLocal implements PageCompressor {
  private readonly streams: ZstdStream[];

  constructor(level: number, size: number) {
    this.streams = Array.from({ length: Math.max(1, size) }, () => new ZstdStream(level));
  }

  compress(page: Uint8Array, out: SharedArrayBuffer): Promise<Uint8Array> {
    let best = this.streams[0]!;
    for (const s of this.streams) if (s.pending < best.pending) best = s;
    return best.compress(page, out);
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.close();
  }
}
