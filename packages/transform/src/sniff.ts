/**
 * Dialect sniffing (delimiter, header) and type inference from a sample.
 */
import { fitsType, joinTypes, typeOfValue, type ColumnType } from './column-types.js';
import { isNullMarker } from './parse-bytes.js';
import { FIELD_PLAIN, Grid, tokenize, tokenizeFirstRecord, type TokenReject } from './tokenizer.js';

export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;

/** Field byte ranges of up to `max` leading records of `buf`. */
export function leadingRecords(
  buf: Uint8Array,
  limit: number,
  isLast: boolean,
  delim: number,
  max: number,
): { fields: { start: number; end: number; flag: number }[] }[] {
  const out = [];
  let pos = 0;
  let line = 1;
  while (out.length < max && pos < limit) {
    const rec = tokenizeFirstRecord(buf, pos, limit, isLast, delim, line);
    if (!rec) break;
    out.push(rec);
    pos = rec.next;
    line = rec.line;
  }
  return out;
}

/**
 * Picks the delimiter that splits the leading records into the same number of
 * fields (more than one) most consistently. Quotes are respected, so a comma
 * inside a quoted field does not count.
 */
export function sniffDelimiter(buf: Uint8Array, limit: number, isLast: boolean): string {
  let best: string = ',';
  let bestScore = -1;
  for (const d of DELIMITER_CANDIDATES) {
    const recs = leadingRecords(buf, limit, isLast, d.charCodeAt(0), 30);
    if (recs.length === 0) continue;
    const counts = new Map<number, number>();
    for (const r of recs) counts.set(r.fields.length, (counts.get(r.fields.length) ?? 0) + 1);
    let modal = 1;
    let modalFreq = 0;
    for (const [n, f] of counts) {
      if (f > modalFreq || (f === modalFreq && n > modal)) {
        modal = n;
        modalFreq = f;
      }
    }
    if (modal < 2) continue;
    // Consistency first, then the number of fields.
    const score = (modalFreq / recs.length) * 1000 + Math.min(modal, 999);
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

export interface SampleView {
  buf: Uint8Array;
  grid: Grid;
}

/** Is the field null (unquoted empty, or an unquoted null marker) for inference purposes? */
export function isNullField(buf: Uint8Array, s: number, e: number, flag: number, markers: readonly Uint8Array[]): boolean {
  if (s === e) return true;
  return flag === FIELD_PLAIN && isNullMarker(buf, s, e, markers);
}

/** Per-column type seen so far; undefined where only nulls were seen. */
export type PartialTypes = (ColumnType | undefined)[];

/** Joins two partial inferences column by column. */
export function joinPartial(a: PartialTypes, b: PartialTypes): PartialTypes {
  return a.map((t, i) => {
    const u = b[i];
    return t === undefined ? u : u === undefined ? t : joinTypes(t, u);
  });
}

/** Infers one type per column from sampled rows: the join of every non-null value's type. */
export function inferTypes(samples: SampleView[], ncols: number, markers: Uint8Array[], start?: PartialTypes): { types: ColumnType[]; partial: PartialTypes } {
  const types: PartialTypes = start ? [...start] : new Array(ncols).fill(undefined);
  for (let c = 0; c < ncols; c++) {
    let t: ColumnType | undefined = types[c];
    let nn = 0;
    for (const { buf, grid } of samples) {
      for (let r = 0; r < grid.rows; r++) {
        const i = r * ncols + c;
        const s = grid.start[i]!;
        const e = grid.end[i]!;
        if (isNullField(buf, s, e, grid.flags[i]!, markers)) continue;
        nn++;
        if (t !== undefined && grid.flags[i] !== 2 && fitsType(t, buf, s, e)) continue;
        const vt = grid.flags[i] === 2 ? 'text' : typeOfValue(buf, s, e);
        t = t === undefined ? vt : joinTypes(t, vt);
        if (t === 'text') break;
      }
      if (t === 'text') break;
    }
    types[c] = t;
    void nn;
  }
  return { types: types.map((t) => t ?? 'text'), partial: types };
}

/**
 * Header or not: a header row does not look like the body. If some column is
 * typed (numbers, dates, …) in the body and the first row's value there is not,
 * the first row is a header. If every column is text, a first row of distinct,
 * non-empty names is taken as a header (the common case).
 */
export function sniffHeader(
  first: { buf: Uint8Array; fields: { start: number; end: number; flag: number }[] },
  bodyTypes: ColumnType[] | undefined,
  markers: Uint8Array[],
): boolean {
  const { buf, fields } = first;
  if (bodyTypes) {
    let typed = 0;
    for (let c = 0; c < fields.length && c < bodyTypes.length; c++) {
      const bt = bodyTypes[c]!;
      if (bt === 'text') continue;
      typed++;
      const f = fields[c]!;
      if (isNullField(buf, f.start, f.end, f.flag, markers)) continue;
      const ft = typeOfValue(buf, f.start, f.end);
      if (joinTypes(bt, ft) === 'text') return true;
    }
    if (typed > 0) return false;
  }
  const seen = new Set<string>();
  const dec = new TextDecoder();
  for (const f of fields) {
    if (f.start === f.end) return false;
    const name = dec.decode(buf.subarray(f.start, f.end));
    if (seen.has(name)) return false;
    seen.add(name);
    // A header made only of typed values (numbers, dates) is unlikely.
  }
  if (!bodyTypes) {
    // Single record: a header-only file has names, not numbers.
    return fields.every((f) => typeOfValue(buf, f.start, f.end) === 'text');
  }
  return true;
}

/** Tokenizes complete rows of `buf[from..limit)` for sampling (rejects dropped). */
export function sampleRows(buf: Uint8Array, from: number, limit: number, isLast: boolean, delim: number, ncols: number, maxRecordBytes: number, reuse?: Grid): Grid {
  const grid = reuse ?? new Grid(ncols, 1024);
  grid.reset();
  const rejects: TokenReject[] = [];
  tokenize(buf, from, limit, isLast, delim, 1, grid, rejects, maxRecordBytes);
  return grid;
}
