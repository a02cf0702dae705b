/**
 * Arrow RecordBatches → a folder of Parquet files, staged then published.
 *
 * Layout while running: `<outDir>/_staging-<runid>/<prefix>-00000.parquet.tmp`, …
 * (never ending in `.parquet`, so a `**\/*.parquet` reader cannot see half a run).
 * `commit()` deletes the previous run's `<prefix>-*.parquet` in `outDir`, renames
 * the staged files to `<outDir>/<prefix>-00000.parquet`, … and removes staging;
 * `abort()` removes staging and leaves the previous output alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { SluiceError } from '@sluice/core';
import { columnSpecs, typeKey } from './column-spec.js';
import type { ColumnSpec, LoadErrorCode } from './column-spec.js';
import { encodePage, mergeStats, planPages } from './page-encoder.js';
import type { PageStats, Segment } from './page-encoder.js';
import { ParquetSink, defaultCompressionThreads } from './parquet-sink.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'none';

export interface ParquetDatasetOptions {
  /** Local folder; created if missing. */
  outDir: string;
  /** Page compression; default 'zstd'. */
  compression?: ParquetCompression;
  /** Rotate to a new file beyond this many rows; default 1_000_000. */
  maxRowsPerFile?: number;
  /** Target rows per row group; default 65_536. Batches are split or coalesced to this size. */
  rowGroupRows?: number;
  /** Output file prefix; default 'part'. */
  filePrefix?: string;
  /**
   * Called once every row of a batch has been encoded (copied into pages):
   * from then on the writer no longer reads the batch, so its buffers may be
   * recycled (e.g. `CsvReader.release(batch)`). A batch can stay pending across
   * several `write()` calls while a row group fills, so recycling right after
   * `write()` resolves is NOT safe; recycle here.
   */
  onBatchEncoded?: (batch: RecordBatch) => void;
  /** Advanced: uncompressed bytes per data page; default 1 MiB. */
  pageSizeBytes?: number;
  /** Advanced: zstd level; default 3 (zstd's own default). */
  zstdLevel?: number;
  /**
   * Advanced: uncompressed page bytes allowed between encoding and the file
   * (compressions in flight); `write()` waits beyond it. Default 4 MiB.
   */
  maxInFlightBytes?: number;
  /**
   * Advanced: 0 (default) compresses on two zstd streams owned by the calling
   * thread; N > 0 runs N streams in a worker thread, which keeps compressing
   * while the caller holds the main thread (more overlap) but costs ~20 MB
   * more RSS. Also settable with the SLUICE_ZSTD_THREADS environment variable.
   */
  compressionThreads?: number;
}

export interface ParquetDatasetWriter {
  /** Accepts a batch; resolves when it is encoded and in-flight memory is back under its bound. */
  write(batch: RecordBatch): Promise<void>;
  /** Finishes the files and publishes them into outDir, replacing the previous run's files. */
  commit(): Promise<{ files: string[]; rows: number; bytes: number }>;
  /** Removes everything staged; publishes nothing. */
  abort(): Promise<void>;
}

export interface ParquetDatasetResult {
  files: string[];
  rows: number;
  bytes: number;
}

const CREATED_BY = 'sluice-load version 0.1.0';

function usage(message: string): SluiceError<LoadErrorCode> {
  return new SluiceError<LoadErrorCode>('INVALID_OPTION', message, { stage: 'load' });
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw usage(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Pending {
  batch: RecordBatch;
  cols: Data[];
  start: number;
  end: number;
}

type State = 'open' | 'committing' | 'committed' | 'aborted' | 'failed';

class DatasetWriter implements ParquetDatasetWriter {
  private readonly specs: ColumnSpec[];
  private readonly sink: ParquetSink;
  private readonly rowGroupRows: number;
  private readonly maxRowsPerFile: number;
  private readonly pageSizeBytes: number;
  private readonly prefix: string;
  private pending: Pending[] = [];
  private pendingRows = 0;
  private fileOpen = false;
  private fileRows = 0;
  private filesOpened = 0;
  private totalRows = 0;
  private state: State = 'open';
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    schema: Schema,
    private readonly outDir: string,
    private readonly stagingDir: string,
    opts: Required<Omit<ParquetDatasetOptions, 'outDir' | 'onBatchEncoded'>>,
    private readonly onBatchEncoded: ((batch: RecordBatch) => void) | undefined,
  ) {
    this.specs = columnSpecs(schema);
    this.rowGroupRows = opts.rowGroupRows;
    this.maxRowsPerFile = opts.maxRowsPerFile;
    this.pageSizeBytes = opts.pageSizeBytes;
    this.prefix = opts.filePrefix;
    this.sink = new ParquetSink(
      this.specs.map((s) => s.leaf),
      {
        codec: opts.compression,
        zstdLevel: opts.zstdLevel,
        maxInFlightBytes: opts.maxInFlightBytes,
        compressionThreads: opts.compressionThreads,
        createdBy: CREATED_BY,
      },
    );
  }

  write(batch: RecordBatch): Promise<void> {
    return this.serialize(() => this.doWrite(batch));
  }

  commit(): Promise<ParquetDatasetResult> {
    return this.serialize(() => this.doCommit());
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return;
    this.state = 'aborted';
    await this.chain.catch(() => undefined);
    await this.sink.abort();
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  /** Runs operations one at a time even if the caller does not await each write. */
  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new SluiceError<LoadErrorCode>(
        'WRITER_CLOSED',
        `the Parquet dataset writer is ${this.state}; open a new one with openParquetDataset()`,
        { stage: 'load' },
      );
    }
  }

  private async doWrite(batch: RecordBatch): Promise<void> {
    this.assertOpen();
    try {
      const cols = this.checkBatch(batch);
      const n = batch.numRows;
      if (n === 0) this.onBatchEncoded?.(batch);
      if (n > 0) {
        this.pending.push({ batch, cols, start: 0, end: n });
        this.pendingRows += n;
        for (let rows = this.nextGroupRows(); this.pendingRows >= rows; rows = this.nextGroupRows()) {
          await this.writeRowGroup(rows);
        }
      }
      if (this.sink.saturated) await this.sink.capacity();
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  private checkBatch(batch: RecordBatch): Data[] {
    const cols = batch.data.children as Data[];
    if (cols.length !== this.specs.length) {
      throw new SluiceError<LoadErrorCode>(
        'SCHEMA_MISMATCH',
        `batch has ${cols.length} columns but the dataset was opened with ${this.specs.length}; ` +
          'write batches of the schema passed to openParquetDataset()',
        { stage: 'load' },
      );
    }
    for (const spec of this.specs) {
      const d = cols[spec.index]!;
      if (typeKey(d.type) !== spec.typeKey) {
        throw new SluiceError<LoadErrorCode>(
          'SCHEMA_MISMATCH',
          `column "${spec.name}" was opened as ${spec.typeKey} but a batch holds ${typeKey(d.type)}; ` +
            'cast batches to the dataset schema before writing',
          { stage: 'load' },
        );
      }
      if (d.length < batch.numRows) {
        throw new SluiceError<LoadErrorCode>('SCHEMA_MISMATCH', `column "${spec.name}" is shorter than its batch`, {
          stage: 'load',
        });
      }
    }
    return cols;
  }

  private nextGroupRows(): number {
    return Math.min(this.rowGroupRows, this.maxRowsPerFile - this.fileRows);
  }

  /** Cuts `n` rows off the pending batches; also returns the batches this used up. */
  private takeRows(n: number): { segs: Segment[][]; finished: RecordBatch[] } {
    const segs: Segment[][] = this.specs.map(() => []);
    const finished: RecordBatch[] = [];
    let need = n;
    while (need > 0) {
      const p = this.pending[0]!;
      const take = Math.min(p.end - p.start, need);
      for (let c = 0; c < segs.length; c++) segs[c]!.push({ data: p.cols[c]!, start: p.start, end: p.start + take });
      p.start += take;
      need -= take;
      if (p.start === p.end) {
        this.pending.shift();
        finished.push(p.batch);
      }
    }
    this.pendingRows -= n;
    return { segs, finished };
  }

  private openNextFile(): void {
    const name = `${this.prefix}-${String(this.filesOpened).padStart(5, '0')}.parquet.tmp`;
    this.sink.openFile(join(this.stagingDir, name));
    this.filesOpened++;
    this.fileOpen = true;
    this.fileRows = 0;
  }

  private async writeRowGroup(rows: number): Promise<void> {
    const { segs, finished } = this.takeRows(rows);
    if (!this.fileOpen) this.openNextFile();
    for (const spec of this.specs) {
      const stats: PageStats = { nullCount: 0 };
      for (const page of planPages(spec, segs[spec.index]!, this.pageSizeBytes)) {
        let pageRows = 0;
        for (const s of page) pageRows += s.end - s.start;
        let encoded;
        try {
          encoded = encodePage(spec, page, pageRows, this.sink.pool);
        } catch (e) {
          throw new SluiceError<LoadErrorCode>('SCHEMA_MISMATCH', (e as Error).message + '; mark the field nullable', {
            stage: 'load',
            cause: e,
          });
        }
        mergeStats(stats, encoded.stats);
        this.sink.submitPage(encoded);
        if (this.sink.saturated) await this.sink.capacity();
      }
      this.sink.endChunk(spec, rows, stats);
    }
    // Every value is now copied into page buffers: the batches are free to recycle.
    if (this.onBatchEncoded !== undefined) for (const b of finished) this.onBatchEncoded(b);
    this.sink.endRowGroup(rows);
    this.fileRows += rows;
    this.totalRows += rows;
    if (this.fileRows >= this.maxRowsPerFile) {
      this.sink.closeFile();
      this.fileOpen = false;
      this.fileRows = 0;
    }
  }

  private async doCommit(): Promise<ParquetDatasetResult> {
    this.assertOpen();
    this.state = 'committing';
    try {
      while (this.pendingRows > 0) await this.writeRowGroup(Math.min(this.pendingRows, this.nextGroupRows()));
      if (this.filesOpened === 0) this.openNextFile(); // zero rows: one valid file that carries the schema
      if (this.fileOpen) {
        this.sink.closeFile();
        this.fileOpen = false;
      }
      await this.sink.finish();
      const files = await this.publish();
      const bytes = this.sink.files.reduce((a, f) => a + f.bytes, 0);
      this.state = 'committed';
      return { files, rows: this.totalRows, bytes };
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  private async publish(): Promise<string[]> {
    const ours = new RegExp(`^${escapeRegExp(this.prefix)}-.*\\.parquet$`);
    for (const entry of await readdir(this.outDir, { withFileTypes: true })) {
      if (entry.isFile() && ours.test(entry.name)) await unlink(join(this.outDir, entry.name));
    }
    const files: string[] = [];
    for (const f of this.sink.files) {
      const base = f.path.slice(this.stagingDir.length + 1).replace(/\.tmp$/, '');
      const target = join(this.outDir, base);
      await rename(f.path, target);
      files.push(target);
    }
    await rm(this.stagingDir, { recursive: true, force: true });
    return files;
  }
}

/**
 * `compressionThreads`, else `SLUICE_ZSTD_THREADS` from the environment (an
 * operator's knob for memory-starved hosts such as a 128 MB Lambda), else the default.
 */
function compressionThreadsOption(v: number | undefined): number {
  const env = process.env.SLUICE_ZSTD_THREADS;
  const value = v ?? (env === undefined || env === '' ? undefined : Number(env));
  if (value === 0) return 0;
  return positiveInt('compressionThreads', value, defaultCompressionThreads());
}

/**
 * Opens a staged Parquet dataset in `options.outDir` for batches of `schema`.
 * Nothing is visible as `*.parquet` until `commit()`.
 */
export async function openParquetDataset(schema: Schema, options: ParquetDatasetOptions): Promise<ParquetDatasetWriter> {
  const compression = options.compression ?? 'zstd';
  if (compression !== 'zstd' && compression !== 'snappy' && compression !== 'none') {
    throw usage(`compression must be one of zstd, snappy, none; got ${String(compression)}`);
  }
  const filePrefix = options.filePrefix ?? 'part';
  if (filePrefix === '' || /[/\\]/.test(filePrefix) || filePrefix.startsWith('_') || filePrefix.startsWith('.')) {
    throw usage(`filePrefix must be a plain file-name prefix not starting with "_" or "."; got "${filePrefix}"`);
  }
  const zstdLevel = options.zstdLevel ?? 3;
  if (!Number.isInteger(zstdLevel) || zstdLevel < -7 || zstdLevel > 22) throw usage('zstdLevel must be an integer in -7..22');
  const opts = {
    compression,
    filePrefix,
    zstdLevel,
    maxRowsPerFile: positiveInt('maxRowsPerFile', options.maxRowsPerFile, 1_000_000),
    rowGroupRows: positiveInt('rowGroupRows', options.rowGroupRows, 65_536),
    pageSizeBytes: positiveInt('pageSizeBytes', options.pageSizeBytes, 1 << 20),
    maxInFlightBytes: positiveInt('maxInFlightBytes', options.maxInFlightBytes, 4 << 20),
    compressionThreads: compressionThreadsOption(options.compressionThreads),
  };
  const runId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const stagingDir = join(options.outDir, `_staging-${runId}`);
  // Validate the schema before touching the disk.
  columnSpecs(schema);
  await mkdir(stagingDir, { recursive: true });
  return new DatasetWriter(schema, options.outDir, stagingDir, opts, options.onBatchEncoded);
}

/** Opens a dataset, writes every batch, commits; aborts (publishing nothing) on any error. */
export async function writeParquetFiles(
  batches: AsyncIterable<RecordBatch>,
  schema: Schema,
  options: ParquetDatasetOptions,
): Promise<ParquetDatasetResult> {
  const writer = await openParquetDataset(schema, options);
  try {
    for await (const batch of batches) await writer.write(batch);
    return await writer.commit();
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
}
