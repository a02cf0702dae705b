/**
 * The byte-level CSV tokenizer.
 *
 * It scans UTF-8 bytes and writes field boundaries straight into typed arrays
 * (a row-major grid of `start`/`end`/`flags`), creating no JS string per field.
 * Column conversion then walks the grid one column at a time.
 *
 * The tokenizer is resumable at record granularity: it only consumes complete
 * records and reports how far it got, so the caller carries the incomplete tail
 * into the next chunk. Multibyte UTF-8 split across chunks is therefore never a
 * problem: bytes are never decoded here, only delimiters, quotes and line ends
 * (all ASCII, which cannot occur inside a multibyte sequence) are looked at.
 */
import type { CsvErrorCode } from './errors.js';

export const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Field flag: plain bytes. */
export const FIELD_PLAIN = 0;
/** Field flag: the field was quoted (so empty means "" and not null). */
export const FIELD_QUOTED = 1;
/** Field flag: quoted and contains `""` escapes that must be collapsed. */
export const FIELD_ESCAPED = 2;

/** A record the tokenizer could not turn into a row. */
export interface TokenReject {
  line: number;
  start: number;
  end: number;
  code: CsvErrorCode;
  message: string;
  /** Number of fields found (RAGGED_ROW and quote errors). */
  fields?: number;
}

/**
 * Field boundaries of the complete rows of one block, row-major:
 * field `c` of row `r` is at index `r * ncols + c`.
 */
export class Grid {
  readonly ncols: number;
  rows = 0;
  start: Int32Array;
  end: Int32Array;
  flags: Uint8Array;
  /** Byte offset where each row's record starts. */
  rowStart: Int32Array;
  /** Byte offset where each row's record ends (line terminator excluded). */
  rowEnd: Int32Array;
  /** 1-based physical line where each row's record starts. */
  rowLine: Float64Array;
  private capRows: number;

  constructor(ncols: number, capRows = 4096) {
    this.ncols = ncols;
    this.capRows = capRows;
    this.start = new Int32Array(capRows * ncols);
    this.end = new Int32Array(capRows * ncols);
    this.flags = new Uint8Array(capRows * ncols);
    this.rowStart = new Int32Array(capRows);
    this.rowEnd = new Int32Array(capRows);
    this.rowLine = new Float64Array(capRows);
  }

  reset(): void {
    this.rows = 0;
  }

  /** Makes room for one more row. */
  ensureRow(): void {
    if (this.rows < this.capRows) return;
    const cap = this.capRows * 2;
    const n = this.ncols;
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.start = grow(this.start, cap * n);
    this.end = grow(this.end, cap * n);
    this.flags = grow(this.flags, cap * n);
    this.rowStart = grow(this.rowStart, cap);
    this.rowEnd = grow(this.rowEnd, cap);
    this.rowLine = grow(this.rowLine, cap);
    this.capRows = cap;
  }
}

export interface TokenizeResult {
  /** Offset just after the last complete record (where the carry begins). */
  consumed: number;
  /** Line number of the record that begins at `consumed`. */
  line: number;
}

/**
 * Tokenizes the complete records of `buf[pos..limit)` into `grid`.
 *
 * @param isLast  no more bytes follow `limit`: a trailing record without a line
 *                end is complete, and an open quote is an error.
 * @param line    1-based line number of the record that starts at `pos`.
 * @param maxRecordBytes  a complete record longer than this is rejected.
 */
export function tokenize(
  buf: Uint8Array,
  pos: number,
  limit: number,
  isLast: boolean,
  delim: number,
  line: number,
  grid: Grid,
  rejects: TokenReject[],
  maxRecordBytes: number,
  maxRecords = Infinity,
): TokenizeResult {
  let records = 0;
  const ncols = grid.ncols;
  const cls = classTable(delim);
  const maxSpecial = Math.max(delim, QUOTE, LF, CR);
  let p = pos;
  // Each iteration handles one record.
  record: while (p < limit && records < maxRecords) {
    records++;
    const recStart = p;
    const recLine = line;
    let nf = 0;
    let badCode: CsvErrorCode | undefined;
    let badMessage = '';
    grid.ensureRow();
    const base = grid.rows * ncols;
    const gStart = grid.start;
    const gEnd = grid.end;
    const gFlags = grid.flags;
    let recEnd = -1;

    for (;;) {
      let fs: number;
      let fe: number;
      let flag = FIELD_PLAIN;
      if (p < limit && buf[p] === QUOTE) {
        // Quoted field: jump from quote to quote with indexOf (native memchr).
        let q = p + 1;
        fs = q;
        for (;;) {
          let j = buf.indexOf(QUOTE, q);
          if (j === -1 || j >= limit) j = -1;
          // Count line ends inside the quoted part for physical line numbers.
          const scanEnd = j === -1 ? limit : j;
          for (let k = q; k < scanEnd; k++) {
            const c = buf[k];
            // CRLF counts once; a lone CR counts as a line end. A CR at the very end
            // of a non-final buffer may be counted wrongly, but then the record is
            // incomplete and will be rescanned with more data.
            if (c === LF) line++;
            else if (c === CR && buf[k + 1] !== LF) line++;
          }
          if (j === -1) {
            if (!isLast) {
              line = recLine;
              return { consumed: recStart, line };
            }
            // Open quote at end of input: reject the record's first physical line
            // and resume after it, so one stray quote costs one line, not the file.
            const eol = findLineEnd(buf, recStart, limit);
            rejects.push({
              line: recLine,
              start: recStart,
              end: eol,
              code: 'UNCLOSED_QUOTE',
              message: `quoted field opened at line ${recLine} is never closed; close the quote or escape it as ""`,
            });
            line = recLine + 1;
            p = skipLineEnd(buf, eol, limit);
            continue record;
          }
          if (j + 1 >= limit && !isLast) {
            // Cannot tell `"` from `""` yet.
            line = recLine;
            return { consumed: recStart, line };
          }
          if (buf[j + 1] === QUOTE) {
            flag = FIELD_ESCAPED;
            q = j + 2;
            continue;
          }
          fe = j;
          if (flag === FIELD_PLAIN) flag = FIELD_QUOTED;
          p = j + 1;
          break;
        }
        if (p < limit) {
          const c = buf[p];
          if (c !== delim && c !== LF && c !== CR) {
            if (badCode === undefined) {
              badCode = 'INVALID_CLOSING_QUOTE';
              badMessage = `unexpected character after the closing quote of field ${nf + 1}; quote the whole field and double any quote inside it ("")`;
            }
            // Skip the rest of this field as plain bytes.
            while (p < limit) {
              const d = buf[p];
              if (d === delim || d === LF || d === CR) break;
              p++;
            }
          }
        }
      } else {
        fs = p;
        // Most bytes are above every special byte (digits, letters, UTF-8
        // sequences for a comma delimiter): one compare, then the table.
        for (;;) {
          while (p < limit) {
            const c = buf[p]!;
            if (c > maxSpecial || cls[c] === 0) p++;
            else break;
          }
          if (p < limit && buf[p] === QUOTE) {
            if (badCode === undefined) {
              badCode = 'INVALID_OPENING_QUOTE';
              badMessage = `a quote appears inside unquoted field ${nf + 1}; quote the whole field and double the inner quote ("")`;
            }
            p++;
            continue;
          }
          break;
        }
        fe = p;
      }
      if (nf < ncols) {
        gStart[base + nf] = fs;
        gEnd[base + nf] = fe;
        gFlags[base + nf] = flag;
      }
      nf++;
      if (p >= limit) {
        if (!isLast) {
          line = recLine;
          return { consumed: recStart, line };
        }
        recEnd = p;
        break;
      }
      const c = buf[p];
      if (c === delim) {
        p++;
        continue;
      }
      recEnd = p;
      if (c === LF) {
        p++;
      } else {
        // CR or CRLF
        if (p + 1 >= limit && !isLast) {
          line = recLine;
          return { consumed: recStart, line };
        }
        p++;
        if (p < limit && buf[p] === LF) p++;
      }
      line++;
      break;
    }

    // A blank line in a multi-column file is not a record.
    if (nf === 1 && ncols > 1 && recEnd === recStart) {
      records--;
      continue;
    }
    if (recEnd - recStart > maxRecordBytes) {
      // Reject the record's first physical line and resume after it: the same
      // outcome a streaming reader reaches when the record overflows its carry,
      // so the result does not depend on where chunks happen to split.
      const eol = line - recLine > 1 ? findLineEnd(buf, recStart, limit) : recEnd;
      rejects.push({
        line: recLine,
        start: recStart,
        end: eol,
        code: 'RECORD_TOO_LARGE',
        message: `record starting at line ${recLine} is over the ${maxRecordBytes}-byte limit (an unclosed quote?); fix the quoting or raise --max-record-bytes`,
      });
      if (eol !== recEnd) {
        line = recLine + 1;
        p = skipLineEnd(buf, eol, limit);
      }
      continue;
    }
    if (badCode !== undefined) {
      rejects.push({ line: recLine, start: recStart, end: recEnd, code: badCode, message: badMessage, fields: nf });
      continue;
    }
    if (nf !== ncols) {
      rejects.push({
        line: recLine,
        start: recStart,
        end: recEnd,
        code: 'RAGGED_ROW',
        message: `expected ${ncols} fields, found ${nf}; fix the row or check the delimiter`,
        fields: nf,
      });
      continue;
    }
    const r = grid.rows++;
    grid.rowStart[r] = recStart;
    grid.rowEnd[r] = recEnd;
    grid.rowLine[r] = recLine;
  }
  return { consumed: p, line };
}

const CLASS_TABLES = new Map<number, Uint8Array>();
function classTable(delim: number): Uint8Array {
  let t = CLASS_TABLES.get(delim);
  if (!t) {
    t = new Uint8Array(256);
    t[delim] = 1;
    t[LF] = 1;
    t[CR] = 1;
    t[QUOTE] = 2;
    CLASS_TABLES.set(delim, t);
  }
  return t;
}

/** Offset of the first CR or LF at or after `from` (or `limit`). */
export function findLineEnd(buf: Uint8Array, from: number, limit: number): number {
  for (let k = from; k < limit; k++) {
    const c = buf[k];
    if (c === LF || c === CR) return k;
  }
  return limit;
}

/** Offset just past the line terminator at `at` (CR, LF or CRLF). */
export function skipLineEnd(buf: Uint8Array, at: number, limit: number): number {
  if (at >= limit) return limit;
  if (buf[at] === CR) return at + 1 < limit && buf[at + 1] === LF ? at + 2 : at + 1;
  return at + 1;
}

/** The most columns a file may have. */
export const MAX_COLUMNS = 16384;
let firstRecordGrid: Grid | undefined;

export interface FirstRecord {
  /** Byte ranges and flags of the fields. */
  fields: { start: number; end: number; flag: number }[];
  /** Offset just after the record's line terminator. */
  next: number;
  /** Line number of the record that follows. */
  line: number;
}

/**
 * Tokenizes the first record of `buf[0..limit)` without knowing the column
 * count (for the header and for sniffing). Undefined when the record is not
 * complete within `limit` (and `isLast` is false) or there is no record.
 */
export function tokenizeFirstRecord(
  buf: Uint8Array,
  from: number,
  limit: number,
  isLast: boolean,
  delim: number,
  line = 1,
): FirstRecord | undefined {
  // One wide grid for all calls: sniffing calls this often, and a fresh
  // MAX_COLUMNS-wide grid each time is 150 KB of garbage.
  const grid = (firstRecordGrid ??= new Grid(MAX_COLUMNS, 1));
  grid.reset();
  const rejects: TokenReject[] = [];
  const res = tokenize(buf, from, limit, isLast, delim, line, grid, rejects, Number.MAX_SAFE_INTEGER, 1);
  // Nothing complete yet, or only blank lines so far: the caller reads on.
  if (res.consumed === from || (rejects.length === 0 && grid.rows === 0)) return undefined;
  const rej = rejects[0];
  // With MAX_COLUMNS expected, a normal record comes back as a RAGGED_ROW reject
  // that still carries its field count and boundaries.
  // A malformed first record still tells the column count (its quote error is
  // reported when the record is read as data).
  const nf = rej?.fields ?? (grid.rows === 1 ? MAX_COLUMNS : 0);
  if (rej && rej.fields === undefined) return undefined;
  const fields = [];
  for (let i = 0; i < Math.min(nf, MAX_COLUMNS); i++) {
    fields.push({ start: grid.start[i]!, end: grid.end[i]!, flag: grid.flags[i]! });
  }
  return { fields, next: res.consumed, line: res.line };
}
