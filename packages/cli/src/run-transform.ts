/**
 * The transform run: CSV → Arrow batches (transform) → Parquet files (load),
 * with the reject policy, the widening re-read and the run summary. The CLI
 * command is a thin adapter over this.
 */
import { randomBytes } from 'node:crypto';
import { relative, isAbsolute } from 'node:path';
import { peakRssBytes, type OnError, type Reject, type RunSummary } from '@sluice/core';
import { CsvError, CsvReader, type CsvReadOptions, type CsvSource, type Widening } from '@sluice/transform';
import { openParquetDataset, type ParquetCompression } from '@sluice/load';
import { RejectsFile } from './rejects-file.js';

export interface TransformRunOptions {
  source: CsvSource;
  outDir: string;
  read: CsvReadOptions;
  onError: OnError;
  /** Highest rows_rejected / rows_in that still succeeds (default 0.01). */
  maxRejectRatio: number;
  maxRowsPerFile?: number;
  compression?: ParquetCompression;
  /** Called with progress after every batch. */
  onProgress?: (p: { bytesRead: number; totalBytes: number | undefined; rows: number }) => void;
  /** Called with a one-line notice (widening re-reads). */
  onNotice?: (msg: string) => void;
}

export interface TransformSummary extends RunSummary {
  rejects_file: string | null;
  columns: { name: string; type: string }[];
  delimiter: string;
  header: boolean;
  encoding: string;
  widened: Widening[];
}

export const DEFAULT_MAX_REJECT_RATIO = 0.01;

/** Thrown when the run must fail after rejects; carries the summary so far. */
export class RejectPolicyError extends CsvError {
  readonly summary: TransformSummary;
  constructor(code: 'BAD_RECORD' | 'TOO_MANY_REJECTS', message: string, summary: TransformSummary, line?: number) {
    super(code, message, line === undefined ? {} : { line });
    this.summary = summary;
  }
}

function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel;
}

/** Runs one CSV → Parquet transform. Publishes output only on success. */
export async function runTransform(opts: TransformRunOptions): Promise<TransformSummary> {
  const started = performance.now();
  const runId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  let reader = await CsvReader.open(opts.source, opts.read);
  const widened: Widening[] = [];

  for (;;) {
    const currentReader = reader;
    const writer = await openParquetDataset(reader.plan.schema, {
      outDir: opts.outDir,
      ...(opts.maxRowsPerFile === undefined ? {} : { maxRowsPerFile: opts.maxRowsPerFile }),
      ...(opts.read.batchRows === undefined ? {} : { rowGroupRows: Math.max(opts.read.batchRows, 1) }),
      compression: opts.compression ?? 'zstd',
      // Once a batch's values are in page buffers its typed arrays go back to
      // the reader: steady-state memory is two batches, not whatever the GC left.
      onBatchEncoded: (batch) => currentReader.release(batch),
    });
    const rejects = new RejectsFile(opts.outDir, runId);
    const summarize = (files: string[], rejectsFile: string | undefined): TransformSummary => ({
      rows_in: reader.stats.rowsIn,
      rows_out: reader.stats.rowsOut,
      rows_rejected: reader.stats.rowsRejected,
      files: files.map(displayPath),
      bytes_in: reader.bytesRead,
      peak_rss_bytes: peakRssBytes(),
      duration_ms: Math.round(performance.now() - started),
      rejects_file: rejectsFile ? displayPath(rejectsFile) : null,
      columns: reader.plan.columns.map((c) => ({ name: c.name, type: c.type })),
      delimiter: reader.plan.delimiter,
      header: reader.plan.hasHeader,
      encoding: reader.plan.encoding,
      widened,
    });
    const handleRejects = async (list: Reject[]) => {
      if (list.length === 0) return;
      if (opts.onError === 'fail') {
        const r = list[0]!;
        throw new RejectPolicyError(
          'BAD_RECORD',
          `line ${r.line}: ${r.code}: ${r.message} (--on-error fail stops at the first bad record; use --on-error quarantine to set bad rows aside)`,
          summarize([], undefined),
          r.line,
        );
      }
      if (opts.onError === 'quarantine') await rejects.append(list);
    };

    try {
      for await (const chunk of reader.batches()) {
        await handleRejects(chunk.rejects);
        if (chunk.batch && chunk.batch.numRows > 0) await writer.write(chunk.batch);
        opts.onProgress?.({ bytesRead: reader.bytesRead, totalBytes: reader.stats.totalBytes, rows: reader.stats.rowsIn });
      }
    } catch (e) {
      await writer.abort();
      await rejects.abort();
      throw e;
    }

    if (reader.widenings.length > 0) {
      // A value the sample did not foresee: widen the column and read again
      // rather than drop or alter the row. Nothing of this pass is published.
      await writer.abort();
      await rejects.abort();
      for (const w of reader.widenings) {
        widened.push(w);
        opts.onNotice?.(
          `column "${w.column}" looked ${w.from} in the sample but line ${w.line} holds ${JSON.stringify(w.value.slice(0, 80))}; re-reading with it as ${w.to} (pin it with --schema to skip this pass)`,
        );
      }
      reader = await reader.reopenWidened();
      continue;
    }

    const { rowsIn, rowsRejected } = reader.stats;
    const ratio = rowsIn === 0 ? 0 : rowsRejected / rowsIn;
    if (ratio > opts.maxRejectRatio) {
      await writer.abort();
      // Keep the quarantined rows so the user can see why.
      const rejectsFile = opts.onError === 'quarantine' ? await rejects.commit() : (await rejects.abort(), undefined);
      const summary = summarize([], rejectsFile);
      throw new RejectPolicyError(
        'TOO_MANY_REJECTS',
        `${rowsRejected} of ${rowsIn} rows rejected (${(ratio * 100).toFixed(2)}%), over --max-reject-ratio ${opts.maxRejectRatio}; no Parquet was published.${
          rejectsFile ? ` See ${displayPath(rejectsFile)}, fix the input or pass --schema,` : ' Fix the input,'
        } or raise --max-reject-ratio`,
        summary,
      );
    }
    let result;
    try {
      result = await writer.commit();
    } catch (e) {
      await rejects.abort();
      throw e;
    }
    const rejectsFile = await rejects.commit();
    return summarize(result.files, rejectsFile);
  }
}

