/**
 * Opt-in (`compressionThreads > 0`): zstd compression of pages in a worker
 * thread that owns a few long-lived node:zlib zstd streams.
 *
 * Why a worker, when zlib's async zstd already runs on libuv's pool:
 * - a zlib stream only starts its next job after a callback on the thread that
 *   owns it. Owned by the main thread, the compressors idled whenever the
 *   caller (the CSV tokenizer) kept the main thread busy: a 1M-row job with a
 *   simulated 0.8 s parse took 1.67 s instead of ~1.1 s. Owned by an otherwise
 *   idle worker, they keep going while the main thread parses;
 * - one-shot `zlib.zstdCompress()` per page (no round trips) builds a native
 *   context per call that only a GC frees: +150 MB RSS for 200 pages.
 *   Long-lived streams with `flush: ZSTD_e_end` emit one independent frame per
 *   write and reuse their context.
 *
 * Page and output buffers are SharedArrayBuffers from the writer's pool, so a
 * message carries only references and lengths: transferring ArrayBuffers back
 * and forth cost ~60-300 µs of main-thread time per page plus GC churn.
 */
import { Worker } from 'node:worker_threads';
import type { PageCompressor } from './zstd-local.js';

// Plain CommonJS so it runs with `eval: true` both from dist/ and from the
// TypeScript sources under vitest (no worker file to resolve).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const zc = zlib.constants;
// zlib allocates its output chunks as external memory that V8 only reclaims
// on a GC, and this worker allocates almost no JS, so it would rarely GC and
// keep tens of MB of dead chunks resident. Collect explicitly every 8 MiB.
let collect = () => {};
try {
  if (typeof globalThis.gc === 'function') collect = globalThis.gc;
  else {
    require('node:v8').setFlagsFromString('--expose-gc');
    collect = require('node:vm').runInNewContext('gc');
  }
} catch {}
let sinceGc = 0;
const streams = [];
for (let i = 0; i < workerData.streams; i++) {
  const stream = zlib.createZstdCompress({
    flush: zc.ZSTD_e_end,
    chunkSize: 256 << 10,
    params: { [zc.ZSTD_c_compressionLevel]: workerData.level, [zc.ZSTD_c_windowLog]: 20 },
  });
  const s = { stream, chunks: [], pending: 0 };
  stream.on('data', (c) => s.chunks.push(c));
  stream.on('error', (e) => { throw e; });
  streams.push(s);
}
parentPort.on('message', (m) => {
  let s = streams[0];
  for (const t of streams) if (t.pending < s.pending) s = t;
  s.pending++;
  const page = new Uint8Array(m.buffer, m.offset, m.length);
  // All 'data' events of a write precede its callback, and the next write is
  // processed only after it: the collected chunks are exactly this page's frame.
  s.stream.write(page, (err) => {
    s.pending--;
    if (err) throw err;
    let total = 0;
    for (const c of s.chunks) total += c.length;
    // Copy the frame into the caller's shared output buffer (or a fresh one if it does not fit).
    const fits = total <= m.out.byteLength;
    const data = fits ? new Uint8Array(m.out, 0, total) : new Uint8Array(total);
    let at = 0;
    for (const c of s.chunks) { data.set(c, at); at += c.length; }
    s.chunks = [];
    sinceGc += total + (256 << 10);
    if (sinceGc > (8 << 20)) { sinceGc = 0; collect(); }
    if (fits) parentPort.postMessage({ id: m.id, length: total });
    else parentPort.postMessage({ id: m.id, length: total, fresh: data }, [data.buffer]);
  });
});
`;

interface Waiter {
  out: SharedArrayBuffer;
  resolve: (frame: Uint8Array) => void;
  reject: (e: unknown) => void;
}

interface Reply {
  id: number;
  length: number;
  fresh?: Uint8Array;
}

export class ZstdWorker implements PageCompressor {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private failure: unknown;

  constructor(level: number, streams: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { level, streams } });
    // Keep the process alive only while pages are out: an idle writer that the
    // caller forgets to commit or abort must not hang the process on exit.
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (w !== undefined) w.resolve(m.fresh ?? new Uint8Array(w.out, 0, m.length));
    });
    const fail = (e: unknown): void => {
      this.failure ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.waiting.size > 0) fail(new Error(`zstd worker exited with code ${code} while compressing`));
    });
  }

  /**
   * Compresses `page` (a view on a SharedArrayBuffer) into one zstd frame,
   * written into `out` when it fits (else into a fresh buffer). Neither buffer
   * may be touched until the promise settles.
   */
  compress(page: Uint8Array, out: SharedArrayBuffer): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.waiting.size === 0) this.worker.ref();
    const p = new Promise<Uint8Array>((resolve, reject) => this.waiting.set(id, { out, resolve, reject }));
    this.worker.postMessage({ id, buffer: page.buffer, offset: page.byteOffset, length: page.byteLength, out });
    return p;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
