/**
 * The ordered back end of the writer: compresses pages off the main thread
 * and writes them, in submission order, into a sequence of Parquet files.
 *
 * The producer (the dataset writer, on the caller's turn of the event loop)
 * encodes a page and calls `submitPage`, which starts the compression at once
 * — node:zlib's async zstd runs on libuv's thread pool — and queues a slot.
 * One pump drains the queue strictly in order: it awaits each page's
 * compression, writes header + body, and keeps the column-chunk/row-group
 * bookkeeping for the footer. Memory is bounded by `maxInFlightBytes` of
 * uncompressed page bytes between submission and write; the producer awaits
 * `capacity()` when over it, which is how `write()` honours backpressure.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ColumnSpec } from './column-spec.js';
import {
  Codec,
  Encoding,
  encodeDataPageHeader,
  encodeFileMetaData,
} from './parquet-format.js';
import type { CodecId, ColumnChunkMeta, RowGroupMeta, SchemaLeaf, Statistics } from './parquet-format.js';
import { PageBufferPool, statBytes } from './page-encoder.js';
import type { EncodedPage, PageStats } from './page-encoder.js';
import { snappyCompress } from './snappy.js';
import { ZstdWorker } from './zstd-worker.js';
import { ZstdLocal } from './zstd-local.js';
import type { PageCompressor } from './zstd-local.js';

export type SinkCodec = 'zstd' | 'snappy' | 'none';

export interface SinkOptions {
  codec: SinkCodec;
  zstdLevel: number;
  maxInFlightBytes: number;
  /**
   * zstd streams in the compression worker (each runs its jobs on a libuv pool
   * thread); 0 = no worker, two streams owned by the calling thread.
   */
  compressionThreads: number;
  createdBy: string;
}

/**
 * 0 = zstd on streams owned by the calling thread. Measured on the whole CSV →
 * Parquet CLI run (80 MB file): the worker cost ~20 MB of peak RSS (166 vs
 * 145 MiB) for no measurable wall-time gain, and the RSS budget is the tight
 * one; see docs/decisions/002-parquet-writer.md.
 */
export function defaultCompressionThreads(): number {
  return 0;
}

export interface WrittenFile {
  path: string;
  rows: number;
  bytes: number;
}

type Item =
  | { k: 'open'; path: string }
  | {
      k: 'page';
      data: Promise<Uint8Array> | Uint8Array;
      /** Pooled buffers to release once the page is written (page, and zstd output). */
      buffers: SharedArrayBuffer[];
      cost: number;
      uncompressed: number;
      numValues: number;
    }
  | { k: 'chunk'; spec: ColumnSpec; numValues: number; stats: PageStats }
  | { k: 'rowgroup'; numRows: number }
  | { k: 'close' };

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"
const WRITE_BATCH_BYTES = 2 << 20;

export class ParquetSink {
  private items: Array<Item | undefined> = [];
  private head = 0;
  private running: Promise<void> | undefined;
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private failure: { error: unknown } | undefined;
  private aborted = false;
  private readonly codecId: CodecId;
  readonly files: WrittenFile[] = [];
  /** Page buffers: acquired by the encoder, released here once written. */
  readonly pool: PageBufferPool;
  private zstd: PageCompressor | undefined;

  // Pump state (touched only by the pump).
  private fh: FileHandle | undefined;
  private path = '';
  private pos = 0;
  private rowGroups: RowGroupMeta[] = [];
  private chunks: ColumnChunkMeta[] = [];
  private chunkStart = -1;
  private chunkUncompressed = 0;
  private chunkCompressed = 0;
  private fileRows = 0;
  private batch: Uint8Array[] = [];
  private batchBuffers: SharedArrayBuffer[] = [];
  private batchPos = 0;
  private batchCost = 0;
  private batchBytes = 0;

  constructor(
    private readonly leaves: SchemaLeaf[],
    private readonly opts: SinkOptions,
  ) {
    // Pages plus zstd output buffers (~half a page each) are live at once; a tighter cap
    // drops buffers that are needed again moments later, and dead SharedArrayBuffers
    // linger until a GC (measured: +10-20 MB RSS).
    this.pool = new PageBufferPool(2 * opts.maxInFlightBytes + (2 << 20));
    this.codecId = opts.codec === 'zstd' ? Codec.ZSTD : opts.codec === 'snappy' ? Codec.SNAPPY : Codec.UNCOMPRESSED;
  }

  /** True while more uncompressed bytes are in flight than allowed: await `capacity()`. */
  get saturated(): boolean {
    return this.inFlight > this.opts.maxInFlightBytes;
  }

  openFile(path: string): void {
    this.push({ k: 'open', path });
  }

  submitPage(page: EncodedPage): void {
    this.throwIfFailed();
    const body = page.body;
    const uncompressed = body.byteLength;
    let data: Promise<Uint8Array> | Uint8Array;
    const buffers = [page.buffer];
    // Count the whole pooled buffer: that is the memory actually held until the write.
    const cost = page.buffer.byteLength;
    if (this.opts.codec === 'zstd') {
      this.zstd ??=
        this.opts.compressionThreads > 0
          ? new ZstdWorker(this.opts.zstdLevel, this.opts.compressionThreads)
          : new ZstdLocal(this.opts.zstdLevel, 2);
      // Half the page is plenty for a zstd frame of typical data; a bigger one gets a fresh buffer.
      const out = this.pool.acquire((uncompressed >> 1) + 1024);
      buffers.push(out);
      data = this.zstd.compress(body, out);
      // A rejection is surfaced by the pump; keep Node from reporting it as unhandled meanwhile.
      data.catch(() => undefined);
    } else if (this.opts.codec === 'snappy') {
      data = snappyCompress(body);
    } else {
      data = body;
    }
    this.inFlight += cost;
    this.push({ k: 'page', data, buffers, cost, uncompressed, numValues: page.numValues });
  }

  endChunk(spec: ColumnSpec, numValues: number, stats: PageStats): void {
    this.push({ k: 'chunk', spec, numValues, stats });
  }

  endRowGroup(numRows: number): void {
    this.push({ k: 'rowgroup', numRows });
  }

  closeFile(): void {
    this.push({ k: 'close' });
  }

  /** Resolves once the in-flight bytes are back under the limit (or rejects with the pump's failure). */
  async capacity(): Promise<void> {
    while (this.saturated && this.failure === undefined) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.throwIfFailed();
  }

  /** Waits until everything submitted is written (files closed if `closeFile` was queued). */
  async finish(): Promise<void> {
    while (this.running !== undefined) await this.running;
    await this.releaseCompressors();
    this.throwIfFailed();
  }

  private async releaseCompressors(): Promise<void> {
    const z = this.zstd;
    this.zstd = undefined;
    await z?.close();
  }

  /** Stops writing; already-started compressions are left to finish and be discarded. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.items = [];
    this.head = 0;
    while (this.running !== undefined) await this.running.catch(() => undefined);
    await this.releaseCompressors();
    if (this.fh !== undefined) {
      await this.fh.close().catch(() => undefined);
      this.fh = undefined;
    }
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private push(item: Item): void {
    if (this.aborted) return;
    this.items.push(item);
    this.kick();
  }

  private kick(): void {
    if (this.running !== undefined || this.failure !== undefined) return;
    this.running = this.pump()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.running = undefined;
        this.wake();
        if (this.head < this.items.length && this.failure === undefined && !this.aborted) this.kick();
      });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async pump(): Promise<void> {
    await this.drain();
    // Never go idle holding a batch: the producer may be waiting for its budget.
    if (!this.aborted) await this.flushBatch();
  }

  private async drain(): Promise<void> {
    while (this.head < this.items.length && !this.aborted) {
      const item = this.items[this.head]!;
      this.items[this.head++] = undefined;
      await this.handle(item);
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024) {
        // The producer may keep the queue from ever emptying: drop the consumed prefix.
        this.items.splice(0, this.head);
        this.head = 0;
      }
    }
  }

  /** Writes the batched pages, then frees their buffers and in-flight budget. */
  private async flushBatch(): Promise<void> {
    if (this.batch.length === 0) return;
    const list = this.batch;
    this.batch = [];
    await this.fh!.writev(list, this.batchPos);
    this.inFlight -= this.batchCost;
    for (const b of this.batchBuffers) this.pool.release(b);
    this.batchBuffers = [];
    this.batchCost = 0;
    this.batchBytes = 0;
    if (!this.saturated) this.wake();
  }

  private async handle(item: Item): Promise<void> {
    switch (item.k) {
      case 'open': {
        this.fh = await open(item.path, 'w');
        this.path = item.path;
        await this.fh.write(MAGIC, 0, MAGIC.length, 0);
        this.pos = MAGIC.length;
        this.rowGroups = [];
        this.chunks = [];
        this.fileRows = 0;
        return;
      }
      case 'page': {
        const body = await item.data;
        if (this.aborted) return;
        const header = encodeDataPageHeader(item.uncompressed, body.byteLength, item.numValues, Encoding.PLAIN);
        if (this.chunkStart < 0) this.chunkStart = this.pos;
        // Batch writes: each writev costs the main thread ~50-100 µs whatever its size.
        if (this.batch.length === 0) this.batchPos = this.pos;
        this.batch.push(header, body);
        this.batchBuffers.push(...item.buffers);
        this.batchCost += item.cost;
        this.batchBytes += header.byteLength + body.byteLength;
        this.pos += header.byteLength + body.byteLength;
        this.chunkUncompressed += header.byteLength + item.uncompressed;
        this.chunkCompressed += header.byteLength + body.byteLength;
        if (this.batchBytes >= WRITE_BATCH_BYTES || this.batch.length >= 256 || this.head === this.items.length) {
          await this.flushBatch();
        }
        return;
      }
      case 'chunk': {
        const { spec, stats } = item;
        const statistics: Statistics = { nullCount: stats.nullCount };
        if (stats.min !== undefined && stats.max !== undefined) {
          statistics.min = statBytes(spec, stats.min);
          statistics.max = statBytes(spec, stats.max);
          statistics.legacy = spec.stat === 'i32' || spec.stat === 'i64';
        }
        this.chunks.push({
          type: spec.leaf.type,
          path: spec.name,
          codec: this.codecId,
          encodings: [Encoding.PLAIN, Encoding.RLE],
          numValues: item.numValues,
          totalUncompressed: this.chunkUncompressed,
          totalCompressed: this.chunkCompressed,
          dataPageOffset: this.chunkStart,
          statistics,
        });
        this.chunkStart = -1;
        this.chunkUncompressed = 0;
        this.chunkCompressed = 0;
        return;
      }
      case 'rowgroup': {
        const columns = this.chunks;
        this.chunks = [];
        let totalByteSize = 0;
        let totalCompressedSize = 0;
        for (const c of columns) {
          totalByteSize += c.totalUncompressed;
          totalCompressedSize += c.totalCompressed;
        }
        this.rowGroups.push({
          columns,
          numRows: item.numRows,
          totalByteSize,
          totalCompressedSize,
          fileOffset: columns[0]?.dataPageOffset ?? this.pos,
        });
        this.fileRows += item.numRows;
        return;
      }
      case 'close': {
        await this.flushBatch();
        const footer = encodeFileMetaData({
          leaves: this.leaves,
          numRows: this.fileRows,
          rowGroups: this.rowGroups,
          createdBy: this.opts.createdBy,
        });
        const tail = new Uint8Array(8);
        new DataView(tail.buffer).setUint32(0, footer.byteLength, true);
        tail.set(MAGIC, 4);
        await this.fh!.writev([footer, tail], this.pos);
        this.pos += footer.byteLength + tail.byteLength;
        await this.fh!.close();
        this.fh = undefined;
        this.files.push({ path: this.path, rows: this.fileRows, bytes: this.pos });
        this.rowGroups = [];
        return;
      }
    }
  }
}
