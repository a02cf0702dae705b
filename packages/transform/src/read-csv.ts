/**
 * CsvReader: CSV bytes in, Arrow record batches and rejects out, in flat
 * memory. The pipeline per block (a 512 KiB read plus the carried tail) is:
 *
 *   tokenize (grid of field offsets) → cast one column at a time into typed
 *   builders → emit a RecordBatch every `batchRows` rows.
 *
 * Records never straddle blocks: the incomplete tail of a block is carried
 * into the next one, bounded by `maxRecordBytes`.
 */
import { open } from 'node:fs/promises';
import { csvParseDialect, csvParseGroups, layoutRecords } from './csv-parse-fallback.js';
import { iconvLite, loadCsvParse } from './lazy.js';
import { isUtf8 } from 'node:buffer';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { Reject } from '@sluice/core';
import { ColumnBuilder, buildBatch, fillColumn, type CastFailureSink, type FillContext } from './column-builder.js';
import { arrowSchema, joinTypes, typeOfValue, type ColumnSpec, type ColumnType } from './column-types.js';
import { CsvError } from './errors.js';
import { READ_CHUNK_BYTES, isReReadable, normalizeEncoding, openUtf8, sourceSize, type ByteCounter, type CsvSource } from './input.js';
import { inferTypes, sampleRows, sniffDelimiter, sniffHeader, type PartialTypes, type SampleView } from './sniff.js';
import { FIELD_ESCAPED, Grid, findLineEnd, skipLineEnd, tokenize, tokenizeFirstRecord, type TokenReject } from './tokenizer.js';
import { makeLocalOffset } from './timezone.js';

/** Column types pinned by the user, by column name. */
export type PinnedTypes = Record<string, ColumnType>;

export interface CsvReadOptions {
  /** One character; sniffed from `, ; \t |` when not given (`.tsv` defaults to tab). */
  delimiter?: string;
  /** Input encoding: utf-8 (default), cp949/euc-kr, latin1, utf-16le, … */
  encoding?: string;
  /** Whether the first record is a header; sniffed when not given. */
  header?: boolean;
  /** Keep every column as UTF-8 text, with no inference. */
  allText?: boolean;
  /** Types pinned by name (from `--schema`); other columns are inferred. */
  pinned?: PinnedTypes;
  /**
   * Values read as null. When not given, the defaults (`NULL`, `null`, `NA`,
   * `N/A`, `\N`) apply to typed columns only, so text such as the country code
   * `NA` is never altered. When given, they apply to every column.
   */
  nullMarkers?: string[];
  /** Zone of offset-less timestamps (IANA name), default UTC. */
  timezone?: string;
  /** Rows per record batch (default 65,536). */
  batchRows?: number;
  /** Text bytes per record batch before it is cut early (default 32 MiB). */
  batchBytes?: number;
  /** Largest record accepted (default 16 MiB). */
  maxRecordBytes?: number;
  /** Bytes sampled from the head for sniffing and inference (default 1 MiB). */
  sampleBytes?: number;
  /** Extra sample windows spread across a seekable file (default 24). */
  sampleWindows?: number;
  /** Quote character (default `"`). Anything else uses the csv-parse fallback. */
  quote?: string;
  /** Escape character inside quotes (default: the quote itself, i.e. `""`). Anything else uses the csv-parse fallback. */
  escape?: string;
  /** Lines starting with this character are comments (csv-parse fallback). */
  comment?: string;
}

/** True when the options ask for a dialect only the csv-parse fallback reads. */
export function needsCsvParseFallback(o: CsvReadOptions): boolean {
  const quote = o.quote ?? '"';
  return quote !== '"' || (o.escape !== undefined && o.escape !== quote) || o.comment !== undefined;
}

export const DEFAULT_BATCH_ROWS = 65_536;
export const DEFAULT_BATCH_BYTES = 32 << 20;
export const DEFAULT_MAX_RECORD_BYTES = 16 << 20;
export const DEFAULT_NULL_MARKERS = ['NULL', 'null', 'NA', 'N/A', '\\N'];
const SAMPLE_WINDOW_BYTES = 64 << 10;
const RAW_LIMIT = 64 << 10;

/** What the reader decided about the input before reading it. */
export interface CsvPlan {
  delimiter: string;
  encoding: string;
  hasHeader: boolean;
  columns: ColumnSpec[];
  schema: Schema;
}

/** One step of the reader: a batch (maybe none) and the rejects found since the last step. */
export interface CsvChunk {
  batch?: RecordBatch;
  rejects: Reject[];
}

export interface CsvReadStats {
  /** Records read (header and blank lines excluded). */
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  /** Raw input size when known (files); bytes read so far are `reader.bytesRead`. */
  totalBytes: number | undefined;
}

/** A column whose sample type was too narrow for a later value. */
export interface Widening {
  column: string;
  from: ColumnType;
  to: ColumnType;
  line: number;
  value: string;
}

const utf8 = new TextDecoder();
const enc = new TextEncoder();

/**
 * A plain Uint8Array view of a Buffer. The tokenizer and casts then only ever
 * see one array shape, which keeps V8's optimized code monomorphic.
 */
function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function fieldText(buf: Uint8Array, s: number, e: number, flag: number): string {
  const t = utf8.decode(buf.subarray(s, e));
  return flag === FIELD_ESCAPED ? t.replaceAll('""', '"') : t;
}

function uniqueNames(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((n, i) => {
    let name = n.trim() === '' ? `column_${i + 1}` : n;
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count > 0) {
      let k = count + 1;
      while (seen.has(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
      seen.set(name, 1);
    }
    return name;
  });
}

/**
 * The delimiter option as one character: `\t` and `tab` mean tab. Throws
 * BAD_OPTION for anything that cannot delimit (a quote, a line end, non-ASCII).
 */
export function normalizeDelimiter(d: string): string {
  const v = d === '\\t' || d.toLowerCase() === 'tab' ? '\t' : d;
  if (v.length !== 1 || v.charCodeAt(0) > 0x7f || v === '"' || v === '\n' || v === '\r') {
    throw new CsvError('BAD_OPTION', `delimiter must be one ASCII character other than a quote or line end (use '\\t' for tab), got ${JSON.stringify(d)}`);
  }
  return v;
}

/**
 * Reads a CSV source as Arrow record batches. Create with {@link CsvReader.open},
 * which sniffs the dialect and infers the schema, then iterate {@link batches}.
 */
export class CsvReader implements CastFailureSink {
  readonly source: CsvSource;
  readonly options: CsvReadOptions;
  readonly plan: CsvPlan;
  readonly stats: CsvReadStats;
  /** Columns that need a wider type; non-empty means the output is void and the source must be re-read. */
  readonly widenings: Widening[] = [];

  private counter: ByteCounter;
  private replay: { head: Uint8Array[]; rest: AsyncIterator<Uint8Array> } | undefined;
  private textHints: number[];
  private readonly batchRows: number;
  private readonly batchBytes: number;
  private readonly maxRecordBytes: number;
  // Per-block state used by castFailed.
  private curBuf: Uint8Array = new Uint8Array(0);
  private curGrid: Grid | undefined;
  private drop: Uint8Array;
  private dropCount = 0;
  private pendingRejects: Reject[] = [];

  private constructor(
    source: CsvSource,
    options: CsvReadOptions,
    plan: CsvPlan,
    counter: ByteCounter,
    totalBytes: number | undefined,
    replay: CsvReader['replay'],
    textHints: number[],
  ) {
    this.source = source;
    this.options = options;
    this.plan = plan;
    this.counter = counter;
    this.replay = replay;
    this.textHints = textHints;
    this.batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.drop = new Uint8Array((this.batchRows + 7) >> 3);
    this.stats = { rowsIn: 0, rowsOut: 0, rowsRejected: 0, totalBytes };
  }

  /** Sniffs the dialect, samples the input and infers the column types. */
  static async open(source: CsvSource, options: CsvReadOptions = {}): Promise<CsvReader> {
    const encoding = normalizeEncoding(options.encoding);
    const totalBytes = await sourceSize(source);
    const counter: ByteCounter = { bytesRead: 0 };
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const sampleBytes = options.sampleBytes ?? 1 << 20;

    // 1. Head sample, at least one whole record.
    const it = openUtf8(source, encoding, counter)[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < sampleBytes) {
      const n = await it.next();
      if (n.done) {
        ended = true;
        break;
      }
      head.push(Buffer.from(n.value));
      headLen += n.value.length;
    }
    let headBuf: Uint8Array = plain(head.length === 1 ? head[0]! : Buffer.concat(head));
    const name = source.kind === 'file' ? source.path : source.name;
    if (headLen === 0) {
      await it.return?.();
      throw new CsvError('EMPTY_INPUT', `${name} is empty: there is no header or row to read; check the upstream extract`, { source: name });
    }

    // 2. Dialect.
    const delimiter =
      options.delimiter !== undefined
        ? normalizeDelimiter(options.delimiter)
        : source.kind === 'file' && /\.tsv(\.gz)?$/i.test(source.path)
          ? '\t'
          : sniffDelimiter(headBuf, Math.min(headBuf.length, 256 << 10), ended && headBuf.length <= 256 << 10);
    const delim = delimiter.charCodeAt(0);

    if (needsCsvParseFallback(options)) {
      return CsvReader.openWithCsvParse(source, options, { encoding, delimiter, headBuf, head, ended, it, counter, totalBytes, name });
    }
    let first = tokenizeFirstRecord(headBuf, 0, headBuf.length, ended, delim);
    while (!first && !ended) {
      // A first record longer than the sample: read on. The column count must come
      // from it, so it may exceed a small maxRecordBytes (as data it is still
      // rejected by that limit) but never the default bound.
      const firstLimit = Math.max(maxRecordBytes, DEFAULT_MAX_RECORD_BYTES);
      if (headBuf.length > firstLimit) {
        throw new CsvError('RECORD_TOO_LARGE', `the first record of ${name} is over ${firstLimit} bytes, so its columns cannot be known; check the delimiter and quoting, or raise --max-record-bytes`, { line: 1 });
      }
      const n = await it.next();
      if (n.done) ended = true;
      else {
        head.push(Buffer.from(n.value));
        headBuf = plain(concat(headBuf, n.value));
      }
      first = tokenizeFirstRecord(headBuf, 0, headBuf.length, ended, delim);
    }
    if (!first || first.fields.length === 0) {
      await it.return?.();
      throw new CsvError('EMPTY_INPUT', `${name} has no complete first record (an unclosed quote?); check the file`, { source: name, line: 1 });
    }
    const ncols = first.fields.length;

    // 3. Samples: the head body, plus windows across a seekable file.
    const markers = (options.nullMarkers ?? DEFAULT_NULL_MARKERS).map((m) => enc.encode(m));
    const body: SampleView = { buf: headBuf, grid: sampleRows(headBuf, first.next, headBuf.length, ended, delim, ncols, maxRecordBytes) };
    let windows: { types: PartialTypes; rows: number } = { types: new Array(ncols).fill(undefined), rows: 0 };
    const gz = source.kind === 'file' && (await isGzipFile(source.path));
    if (source.kind === 'file' && !gz && (encoding === 'utf-8' || encoding === 'latin1' || encoding === 'cp949') && totalBytes && totalBytes > headBuf.length * 2) {
      windows = await sampleWindows(source.path, totalBytes, headBuf.length, options.sampleWindows ?? 24, delim, ncols, maxRecordBytes, encoding, markers);
    }
    const bodyRows = body.grid.rows + windows.rows;
    const bodyTypes = bodyRows > 0 ? inferTypes([body], ncols, markers, windows.types).types : undefined;
    const hasHeader = options.header ?? sniffHeader({ buf: headBuf, fields: first.fields }, bodyTypes, markers);

    let types: ColumnType[];
    if (hasHeader) {
      types = bodyTypes ?? new Array<ColumnType>(ncols).fill('text');
    } else {
      const withFirst: SampleView = { buf: headBuf, grid: sampleRows(headBuf, 0, headBuf.length, ended, delim, ncols, maxRecordBytes) };
      types = inferTypes([withFirst], ncols, markers, windows.types).types;
    }
    const names = uniqueNames(hasHeader ? first.fields.map((f) => fieldText(headBuf, f.start, f.end, f.flag)) : first.fields.map((_, i) => `column_${i + 1}`));

    const columns = CsvReader.applyPins(names, types, options);

    // Text bytes per row per column, to size builders once.
    const textHints = columns.map((c, ci) => {
      if (c.type !== 'text') return 0;
      let sum = 0;
      const g = body.grid;
      for (let r = 0; r < g.rows; r++) sum += g.end[r * ncols + ci]! - g.start[r * ncols + ci]!;
      return g.rows > 0 ? Math.ceil((sum / g.rows) * 1.25) + 1 : 16;
    });

    const plan: CsvPlan = { delimiter, encoding, hasHeader, columns, schema: arrowSchema(columns) };
    let replay: CsvReader['replay'];
    if (source.kind === 'stream') {
      replay = { head, rest: it };
    } else {
      await it.return?.();
    }
    return new CsvReader(source, options, plan, counter, totalBytes, replay, textHints);
  }

  private static async openWithCsvParse(
    source: CsvSource,
    options: CsvReadOptions,
    h: {
      encoding: string;
      delimiter: string;
      headBuf: Uint8Array;
      head: Uint8Array[];
      ended: boolean;
      it: AsyncIterator<Uint8Array>;
      counter: ByteCounter;
      totalBytes: number | undefined;
      name: string;
    },
  ): Promise<CsvReader> {
    // Records of the head sample (the last, maybe cut, record is dropped unless the input ended).
    const text = utf8.decode(h.headBuf);
    const cut = h.ended ? text.length : Math.max(text.lastIndexOf('\n'), 0);
    let records: string[][];
    try {
      const { parseSync } = await loadCsvParse();
      records = parseSync(text.slice(0, cut), { ...csvParseDialect(h.delimiter, options), relax_column_count: true, skip_records_with_error: true }) as string[][];
    } catch (e) {
      throw new CsvError('BAD_RECORD', `csv-parse could not read the head of ${h.name}: ${(e as Error).message}`, { cause: e });
    }
    if (records.length === 0) {
      await h.it.return?.();
      throw new CsvError('EMPTY_INPUT', `${h.name} has no record: there is no header or row to read; check the upstream extract`, { source: h.name });
    }
    const ncols = records[0]!.length;
    const markers = (options.nullMarkers ?? DEFAULT_NULL_MARKERS).map((m) => enc.encode(m));
    const bodyRecords = records.slice(1).filter((r) => r.length === ncols);
    const bodyGrid = new Grid(ncols, Math.max(1, bodyRecords.length));
    const bodyBuf = layoutRecords(bodyRecords, ncols, bodyGrid);
    const bodyTypes = bodyRecords.length > 0 ? inferTypes([{ buf: bodyBuf, grid: bodyGrid }], ncols, markers).types : undefined;
    const firstGrid = new Grid(ncols, 1);
    const firstBuf = layoutRecords([records[0]!], ncols, firstGrid);
    const firstFields = Array.from({ length: ncols }, (_, c) => ({ start: firstGrid.start[c]!, end: firstGrid.end[c]!, flag: firstGrid.flags[c]! }));
    const hasHeader = options.header ?? sniffHeader({ buf: firstBuf, fields: firstFields }, bodyTypes, markers);
    let types: ColumnType[];
    if (hasHeader) types = bodyTypes ?? new Array<ColumnType>(ncols).fill('text');
    else {
      const all = records.filter((r) => r.length === ncols);
      const g = new Grid(ncols, Math.max(1, all.length));
      types = inferTypes([{ buf: layoutRecords(all, ncols, g), grid: g }], ncols, markers).types;
    }
    const names = uniqueNames(hasHeader ? records[0]! : records[0]!.map((_, i) => `column_${i + 1}`));
    const columns = CsvReader.applyPins(names, types, options);
    const plan: CsvPlan = { delimiter: h.delimiter, encoding: h.encoding, hasHeader, columns, schema: arrowSchema(columns) };
    let replay: CsvReader['replay'];
    if (source.kind === 'stream') replay = { head: h.head, rest: h.it };
    else await h.it.return?.();
    return new CsvReader(source, options, plan, h.counter, h.totalBytes, replay, columns.map(() => 16));
  }

  private static applyPins(names: string[], types: ColumnType[], options: CsvReadOptions): ColumnSpec[] {
    const pinned = options.pinned ?? {};
    const unknown = Object.keys(pinned).filter((k) => !names.includes(k));
    if (unknown.length > 0) {
      throw new CsvError('BAD_SCHEMA', `--schema names column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')} that the input does not have; the columns are ${names.map((n) => JSON.stringify(n)).join(', ')}`);
    }
    return names.map((n, i) => {
      if (options.allText) return { name: n, type: 'text', pinned: true };
      const p = pinned[n];
      return p ? { name: n, type: p, pinned: true } : { name: n, type: types[i]!, pinned: false };
    });
  }

  /**
   * A reader over the same (re-readable) source with every widening applied.
   * The caller discards what the first pass produced and reads again.
   */
  async reopenWidened(): Promise<CsvReader> {
    if (!isReReadable(this.source)) throw new Error('source cannot be re-read');
    const columns = this.plan.columns.map((c) => {
      let t = c.type;
      for (const w of this.widenings) if (w.column === c.name) t = joinTypes(t, w.to);
      return { ...c, type: t };
    });
    const plan: CsvPlan = { ...this.plan, columns, schema: arrowSchema(columns) };
    return new CsvReader(this.source, this.options, plan, { bytesRead: 0 }, this.stats.totalBytes, undefined, this.textHints);
  }

  /** Raw input bytes read so far (for progress). */
  get bytesRead(): number {
    return this.counter.bytesRead;
  }

  private inputChunks(): AsyncIterable<Uint8Array> {
    const replay = this.replay;
    if (replay) {
      this.replay = undefined;
      return (async function* () {
        yield* replay.head;
        for (;;) {
          const n = await replay.rest.next();
          if (n.done) return;
          yield n.value;
        }
      })();
    }
    if (this.source.kind === 'stream') throw new Error('a stream source can be read only once');
    // The sampling pass read the head already; count this full pass from zero.
    this.counter.bytesRead = 0;
    return openUtf8(this.source, this.plan.encoding, this.counter);
  }

  /** Record batches with the rejects found along the way. */
  async *batches(): AsyncGenerator<CsvChunk> {
    const { columns, schema, encoding } = this.plan;
    const ncols = columns.length;
    const delim = this.plan.delimiter.charCodeAt(0);
    const explicitMarkers = this.options.nullMarkers !== undefined;
    const ctx: FillContext = {
      buf: new Uint8Array(0),
      grid: new Grid(ncols, 8192),
      nullMarkers: (this.options.nullMarkers ?? DEFAULT_NULL_MARKERS).map((m) => enc.encode(m)),
      textNullMarkers: explicitMarkers,
      localOffset: makeLocalOffset(this.options.timezone ?? 'UTC'),
      sink: this,
    };
    const grid = ctx.grid;
    this.curGrid = grid;
    let builders = this.newBuilders();
    let k = 0;
    let line = 1;
    let headerPending = this.plan.hasHeader;
    let skippingLine = false;
    let skipLF = false;
    let carry: Uint8Array = new Uint8Array(0);
    const tokRejects: TokenReject[] = [];
    const out: CsvChunk[] = [];

    const flush = () => {
      if (k === 0 && this.dropCount === 0) return;
      if (this.widenings.length === 0) {
        const batch = buildBatch(schema, builders, k, this.drop, this.dropCount);
        // Without dropped rows the batch views the builders' buffers directly;
        // remember them so release(batch) can hand them back for reuse.
        if (this.dropCount === 0) this.lent.set(batch, builders);
        this.stats.rowsOut += batch.numRows;
        out.push({ batch, rejects: this.takeRejects() });
      }
      builders = this.newBuilders();
      k = 0;
      this.drop.fill(0);
      this.dropCount = 0;
    };

    /** The last batch, then any rejects not yet handed out. */
    const takeRejects = () => this.takeRejects();
    function* finish(): Generator<CsvChunk> {
      flush();
      yield* out.splice(0);
      const rest = takeRejects();
      if (rest.length > 0) yield { rejects: rest };
    }

    /** Casts the grid's rows column by column, in segments that fit the current batch. */
    const ingest = (block: Uint8Array) => {
      ctx.buf = block;
      this.curBuf = block;
      let r = 0;
      while (r < grid.rows) {
        const n = Math.min(grid.rows - r, this.batchRows - k);
        for (let c = 0; c < ncols; c++) fillColumn(ctx, c, r, r + n, builders[c]!, k, columns[c]!.pinned);
        k += n;
        r += n;
        if (k === this.batchRows || this.textBytes(builders) > this.batchBytes) flush();
      }
    };

    if (needsCsvParseFallback(this.options)) {
      // Dialects the byte tokenizer does not speak go through csv-parse; its
      // records are laid out as a block + grid so the same casts apply.
      for await (const group of csvParseGroups(this.inputChunks(), this.plan, this.options, (l, code, message, raw) => this.rejectText(l, code, message, raw), DEFAULT_MAX_RECORD_BYTES)) {
        this.stats.rowsIn += group.rows.length + group.rejected;
        const block = layoutRecords(group.rows, ncols, grid, delim);
        ingest(block);
        for (const o of out.splice(0)) yield o;
        if (this.pendingRejects.length > 64 && this.widenings.length === 0) yield { rejects: this.takeRejects() };
      }
      yield* finish();
      return;
    }

    const processBlock = (block: Uint8Array, isLast: boolean) => {
      let pos = 0;
      const len = block.length;
      if (skipLF) {
        if (len === 0 && !isLast) return;
        if (block[0] === 0x0a) pos = 1;
        skipLF = false;
      }
      if (skippingLine) {
        const e = findLineEnd(block, pos, len);
        if (e === len && !isLast) {
          carry = new Uint8Array(0);
          return;
        }
        if (block[e] === 0x0d && e + 1 === len && !isLast) skipLF = true;
        pos = skipLineEnd(block, e, len);
        line++;
        skippingLine = false;
      }
      if (headerPending) {
        const rec = tokenizeFirstRecord(block, pos, len, isLast, delim, line);
        if (!rec) {
          carry = block.subarray(pos);
          if (isLast) carry = new Uint8Array(0);
          return;
        }
        pos = rec.next;
        line = rec.line;
        headerPending = false;
      }
      grid.reset();
      tokRejects.length = 0;
      const res = tokenize(block, pos, len, isLast, delim, line, grid, tokRejects, this.maxRecordBytes);
      if (encoding === 'utf-8' && !isUtf8(block.subarray(pos, res.consumed))) {
        throw new CsvError(
          'BAD_ENCODING',
          `input is not valid UTF-8 (between lines ${line} and ${res.line}); pass --encoding with the file's real encoding (cp949 for Korean public data, latin1, utf-16le)`,
          { line },
        );
      }
      this.stats.rowsIn += grid.rows + tokRejects.length;
      for (const t of tokRejects) this.reject(block, t.start, t.end, t.line, t.code, t.message);
      ingest(block);
      line = res.line;
      carry = block.subarray(res.consumed);
      // The carry may end in a CR whose LF has not arrived: allow that one byte.
      if (!isLast && carry.length > this.maxRecordBytes + 1) {
        // An unterminated quote (or a wrong delimiter) would swallow the rest of
        // the file: reject the record's first line and resume after it.
        this.stats.rowsIn++;
        const e = findLineEnd(carry, 0, carry.length);
        this.reject(carry, 0, Math.min(e, 1024), line, 'RECORD_TOO_LARGE', `record starting at line ${line} is over the ${this.maxRecordBytes}-byte limit (an unclosed quote?); fix the quoting or raise --max-record-bytes`, true);
        if (e < carry.length) {
          // A CR at the very end may be the first half of CRLF: drop a leading LF next.
          if (carry[e] === 0x0d && e + 1 === carry.length) skipLF = true;
          carry = carry.slice(skipLineEnd(carry, e, carry.length));
          line++;
        } else {
          carry = new Uint8Array(0);
          skippingLine = true;
        }
      }
    };

    // One block buffer, reused: the carry moves to its front and the next chunk
    // is copied after it. Nothing allocates per chunk.
    let blockBuf = new Uint8Array(2 * READ_CHUNK_BYTES + 4096);
    for await (const chunk of this.inputChunks()) {
      const need = carry.length + chunk.length;
      if (need > blockBuf.length) {
        const nb = new Uint8Array(Math.max(need, blockBuf.length * 2));
        nb.set(carry);
        blockBuf = nb;
      } else if (carry.length > 0) {
        if (carry.buffer === blockBuf.buffer) blockBuf.copyWithin(0, carry.byteOffset - blockBuf.byteOffset, carry.byteOffset - blockBuf.byteOffset + carry.length);
        else blockBuf.set(carry);
      }
      blockBuf.set(chunk, carry.length);
      processBlock(blockBuf.subarray(0, need), false);
      // Process what a resync left complete in the carry before reading on.
      for (const o of out.splice(0)) yield o;
      if (this.pendingRejects.length > 64 && this.widenings.length === 0) yield { rejects: this.takeRejects() };
    }
    if (carry.length > 0 || headerPending) processBlock(carry, true);
    yield* finish();
  }

  private textBytes(builders: ColumnBuilder[]): number {
    let n = 0;
    for (const b of builders) n += b.byteLen;
    return n;
  }

  /**
   * Returns a batch's buffers for reuse by a later batch. Call it only when
   * nothing reads the batch any more (e.g. after the Parquet writer has encoded
   * it): recycled buffers keep RSS flat instead of leaving the GC to free a
   * few MB of typed arrays per batch whenever it gets round to it.
   */
  release(batch: RecordBatch): void {
    const b = this.lent.get(batch);
    if (!b) return;
    this.lent.delete(batch);
    if (this.spare.length < 2) this.spare.push(b);
  }

  private readonly lent = new WeakMap<RecordBatch, ColumnBuilder[]>();
  private spare: ColumnBuilder[][] = [];

  private newBuilders(): ColumnBuilder[] {
    const reuse = this.spare.pop();
    if (reuse) {
      for (const b of reuse) b.reset();
      return reuse;
    }
    return this.plan.columns.map((c, i) => new ColumnBuilder(c.type, this.batchRows, Math.min(this.textHints[i]! * this.batchRows, this.batchBytes)));
  }

  private takeRejects(): Reject[] {
    if (this.widenings.length > 0) {
      this.pendingRejects = [];
      return [];
    }
    const r = this.pendingRejects;
    this.pendingRejects = [];
    return r;
  }

  private reject(buf: Uint8Array, start: number, end: number, line: number, code: Reject['code'], message: string, truncated = false): void {
    this.stats.rowsRejected++;
    const tooLong = end - start > RAW_LIMIT;
    const raw = utf8.decode(buf.subarray(start, tooLong ? start + RAW_LIMIT : end));
    const rej: Reject = { line, code, message, raw };
    if (tooLong || truncated) rej.raw_truncated = true;
    this.pendingRejects.push(rej);
  }

  private rejectText(line: number, code: Reject['code'], message: string, raw: string): void {
    this.stats.rowsRejected++;
    const rej: Reject = { line, code, message, raw: raw.length > RAW_LIMIT ? raw.slice(0, RAW_LIMIT) : raw };
    if (raw.length > RAW_LIMIT) rej.raw_truncated = true;
    this.pendingRejects.push(rej);
  }

  /** @internal called by the column casts. */
  castFailed(r: number, col: number, k: number): void {
    const bit = 1 << (k & 7);
    if (this.drop[k >> 3]! & bit) return;
    this.drop[k >> 3]! |= bit;
    this.dropCount++;
    const grid = this.curGrid!;
    const buf = this.curBuf;
    const spec = this.plan.columns[col]!;
    const i = r * grid.ncols + col;
    const s = grid.start[i]!;
    const e = grid.end[i]!;
    const value = fieldText(buf, s, e, grid.flags[i]!);
    const line = grid.rowLine[r]!;
    if (!spec.pinned && isReReadable(this.source)) {
      const to = joinTypes(spec.type, grid.flags[i] === FIELD_ESCAPED ? 'text' : typeOfValue(buf, s, e));
      const prev = this.widenings.find((w) => w.column === spec.name);
      if (!prev) this.widenings.push({ column: spec.name, from: spec.type, to, line, value });
      else prev.to = joinTypes(prev.to, to);
      return;
    }
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    this.reject(
      buf,
      grid.rowStart[r]!,
      grid.rowEnd[r]!,
      line,
      'CAST_FAILED',
      spec.pinned
        ? `column "${spec.name}" is ${spec.type} (pinned) but line ${line} holds ${JSON.stringify(shown)}; fix the value or change the type in --schema`
        : `column "${spec.name}" looked ${spec.type} in the sample but line ${line} holds ${JSON.stringify(shown)}; pass --schema to pin it as text, or fix the value`,
    );
    void k;
  }
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Reads `count` windows spread evenly over the file and tokenizes the complete
 * rows in each (starting after the first line end). A window that starts inside
 * a quoted field yields misaligned rows; those mostly fail the field count and
 * are dropped, and any that slip through can only widen a type, never narrow it.
 */
async function sampleWindows(
  path: string,
  size: number,
  skip: number,
  count: number,
  delim: number,
  ncols: number,
  maxRecordBytes: number,
  encoding: string,
  markers: Uint8Array[],
): Promise<{ types: PartialTypes; rows: number }> {
  const fh = await open(path, 'r');
  // One buffer and one grid for every window; types are joined as we go.
  const rawBuf = Buffer.allocUnsafe(SAMPLE_WINDOW_BYTES);
  const grid = new Grid(ncols, 1024);
  let types: PartialTypes = new Array(ncols).fill(undefined);
  let rows = 0;
  try {
    for (let w = 1; w <= count; w++) {
      const at = Math.floor(skip + ((size - skip) * w) / (count + 1));
      const raw = rawBuf.subarray(0, Math.min(SAMPLE_WINDOW_BYTES, size - at));
      const { bytesRead } = await fh.read(raw, 0, raw.length, at);
      let buf: Uint8Array = plain(raw.subarray(0, bytesRead));
      const nl = buf.indexOf(0x0a);
      if (nl < 0) continue;
      buf = buf.subarray(nl + 1);
      if (encoding !== 'utf-8') {
        buf = plain(Buffer.from(iconvLite().decode(Buffer.from(buf), encoding), 'utf8'));
      }
      sampleRows(buf, 0, buf.length, at + bytesRead >= size, delim, ncols, maxRecordBytes, grid);
      rows += grid.rows;
      types = inferTypes([{ buf, grid }], ncols, markers, types).partial;
    }
  } finally {
    await fh.close();
  }
  return { types, rows };
}
