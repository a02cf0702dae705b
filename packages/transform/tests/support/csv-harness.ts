/**
 * Test harness for the differential suite: feeds bytes to CsvReader in chosen
 * chunks and collects what comes out, and runs csv-parse (the reference) over
 * the same bytes with the reader's dialect.
 */
import { parse } from 'csv-parse/sync';
import type { Vector } from 'apache-arrow';
import { CsvReader, type CsvReadOptions, type CsvSource } from '@sluice/transform';

export type Cell = string | null;

export interface ReaderRun {
  rows: Cell[][];
  rejects: { line: number; code: string; raw: string }[];
  stats: { rowsIn: number; rowsOut: number; rowsRejected: number };
  columns: string[];
}

export const enc = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const utf8 = (s: string): Uint8Array => enc.encode(s);

/** Splits `bytes` at the given offsets (clamped, sorted, deduplicated; empty chunks dropped). */
export function splitAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => Math.max(0, Math.min(bytes.length, Math.floor(p)))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > prev) out.push(bytes.subarray(prev, c));
    prev = c;
  }
  if (out.length === 0) out.push(bytes.subarray(0, 0));
  return out;
}

/** One chunk per byte. */
export function byteChunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes.subarray(i, i + 1));
  return out;
}

/** Fixed-size chunks. */
export function sizedChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/**
 * An async stream of the chunks. With `reuse`, every chunk is copied into one
 * shared buffer that is overwritten with garbage when the next chunk is pulled,
 * as the file source does: a reader that keeps a reference to a chunk instead
 * of copying it reads garbage.
 */
async function* streamOf(chunks: Uint8Array[], reuse: boolean): AsyncGenerator<Uint8Array> {
  if (!reuse) {
    for (const c of chunks) yield c;
    return;
  }
  const max = chunks.reduce((m, c) => Math.max(m, c.length), 0);
  const scratch = new Uint8Array(max);
  for (const c of chunks) {
    scratch.set(c);
    yield scratch.subarray(0, c.length);
    scratch.fill(0x3f); // '?'
  }
}

export interface RunOptions extends CsvReadOptions {
  /** Hand the reader one shared, overwritten buffer (see streamOf). */
  reuse?: boolean;
}

/** Reads the chunks as a stream source with `allText` and returns rows, rejects and stats. */
export async function runReader(chunks: Uint8Array[], options: RunOptions = {}): Promise<ReaderRun> {
  const { reuse = false, ...rest } = options;
  const src: CsvSource = { kind: 'stream', name: 'test', stream: streamOf(chunks, reuse) };
  const reader = await CsvReader.open(src, { allText: true, header: false, sampleBytes: 1, batchRows: 5, ...rest });
  return collect(reader);
}

/** Reads a file source. */
export async function runReaderFile(path: string, options: CsvReadOptions = {}): Promise<ReaderRun> {
  const reader = await CsvReader.open({ kind: 'file', path }, { allText: true, header: false, ...options });
  return collect(reader);
}

/**
 * Values of an Arrow Utf8 column straight from its offsets and data buffers.
 * Vector.get() decodes with a TextDecoder that silently drops a leading BOM
 * (U+FEFF), which would hide a BOM leaking into the first value; this does
 * not, and it fails on bytes that are not UTF-8 (a multibyte character cut in
 * two).
 */
function textColumn(vec: Vector): (row: number) => Cell {
  if (vec.data.length !== 1) throw new Error(`expected one Data per batch column, got ${vec.data.length}`);
  const data = vec.data[0]!;
  const offsets = data.valueOffsets as Int32Array;
  const values = data.values as Uint8Array;
  return (row) => {
    if (!vec.isValid(row)) return null;
    const i = data.offset + row;
    return strictUtf8.decode(values.subarray(offsets[i]!, offsets[i + 1]!));
  };
}

async function collect(reader: CsvReader): Promise<ReaderRun> {
  const rows: Cell[][] = [];
  const rejects: ReaderRun['rejects'] = [];
  const ncols = reader.plan.columns.length;
  for await (const chunk of reader.batches()) {
    for (const r of chunk.rejects) rejects.push({ line: r.line, code: r.code, raw: r.raw });
    const b = chunk.batch;
    if (!b) continue;
    if (b.numCols !== ncols) throw new Error(`batch has ${b.numCols} columns, plan has ${ncols}`);
    const cols = Array.from({ length: ncols }, (_, c) => textColumn(b.getChildAt(c)!));
    for (let r = 0; r < b.numRows; r++) rows.push(cols.map((get) => get(r)));
  }
  const { rowsIn, rowsOut, rowsRejected } = reader.stats;
  return { rows, rejects, stats: { rowsIn, rowsOut, rowsRejected }, columns: reader.plan.columns.map((c) => c.name) };
}

/**
 * csv-parse over the whole input, configured like the reader: every line end
 * style, BOM stripped, strict quoting and field counts, blank lines skipped
 * unless the file has one column (where a blank line is a record with a null).
 * An unquoted empty field becomes null, a quoted one ''.
 */
export function referenceParse(input: Uint8Array | string, delimiter: string, opts: { singleColumn?: boolean } = {}): Cell[][] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return parse(buf, {
    delimiter,
    bom: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: !opts.singleColumn,
    cast: (value: string, ctx: { quoting: boolean }) => (value === '' && !ctx.quoting ? null : value),
  }) as Cell[][];
}

/** The csv-parse error for the input (strict options), or undefined when it parses. */
export function referenceError(input: string, delimiter = ','): { code: string; lines: number } | undefined {
  try {
    referenceParse(input, delimiter);
    return undefined;
  } catch (e) {
    const err = e as { code?: string; lines?: number };
    return { code: String(err.code), lines: Number(err.lines) };
  }
}

/** Human-readable byte dump for failure messages. */
export function show(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString('utf8'));
}
