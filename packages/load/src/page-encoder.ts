/**
 * Encodes one column's rows into the uncompressed body of a Parquet v1 data
 * page: `[u32 def-levels length][RLE/bit-packed def levels][PLAIN values]`
 * (the def-level part only for OPTIONAL columns).
 *
 * The hot loops copy typed arrays rather than values: a column without nulls
 * is one `set()` of the Arrow value buffer; a column with nulls compacts the
 * non-null values through an Int32 view, and its definition levels are the
 * Arrow validity bitmap itself (bit width 1, LSB first, is the same layout as
 * a Parquet bit-packed run).
 */
import type { Data } from 'apache-arrow';
import type { ColumnSpec } from './column-spec.js';

/** A run of rows `[start, end)` of one Arrow column chunk (indices relative to `data`). */
export interface Segment {
  data: Data;
  start: number;
  end: number;
}

export interface PageStats {
  nullCount: number;
  /** i32/f32/f64 stats as numbers, i64 as bigint; undefined when no non-null value (or only NaN). */
  min?: number | bigint;
  max?: number | bigint;
}

export interface EncodedPage {
  body: Uint8Array;
  /** The (pooled) backing buffer of `body`; hand it back to the pool once the page is written. */
  buffer: SharedArrayBuffer;
  numValues: number;
  stats: PageStats;
}

/**
 * Recycles page buffers by size class. They are SharedArrayBuffers so the
 * compression worker can read pages and write frames without transfers. Fresh ArrayBuffers are
 * zero-filled and page-faulted in by the kernel, and dead ones linger until
 * V8 notices the external memory: both showed up as CPU and as RSS far above
 * the in-flight bound. Pooled bytes are capped at `maxPooledBytes`.
 */
export class PageBufferPool {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private pooled = 0;

  constructor(private readonly maxPooledBytes: number) {}

  acquire(minBytes: number): SharedArrayBuffer {
    const size = PageBufferPool.sizeClass(minBytes);
    const list = this.free.get(size);
    const ab = list?.pop();
    if (ab !== undefined) {
      this.pooled -= size;
      return ab;
    }
    return new SharedArrayBuffer(size);
  }

  release(ab: SharedArrayBuffer): void {
    const size = ab.byteLength;
    if (size !== PageBufferPool.sizeClass(size) || this.pooled + size > this.maxPooledBytes) return;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(ab);
    this.pooled += size;
  }

  /** Quarter steps between powers of two: at most 25% slack per buffer. */
  static sizeClass(n: number): number {
    if (n <= 4096) return 4096;
    const base = 2 ** Math.floor(Math.log2(n - 1));
    const step = base / 4;
    return base + Math.ceil((n - base) / step) * step;
  }
}

const POPCOUNT = new Uint8Array(256);
for (let i = 0; i < 256; i++) POPCOUNT[i] = (i & 1) + (POPCOUNT[i >> 1] ?? 0);

function hasNulls(data: Data): boolean {
  const bm = data.nullBitmap;
  return bm !== undefined && bm !== null && bm.length > 0 && data.nullCount > 0;
}

/** Copies `n` bits from `src` at bit `sBit` into zero-initialised `dst` at bit `dBit`. */
export function copyBits(src: Uint8Array, sBit: number, dst: Uint8Array, dBit: number, n: number): void {
  if (n <= 0) return;
  let done = 0;
  if ((dBit & 7) === 0 && n >= 8) {
    const full = n >> 3;
    let d = dBit >> 3;
    let s = sBit >> 3;
    const shift = sBit & 7;
    if (shift === 0) {
      dst.set(src.subarray(s, s + full), d);
    } else {
      const back = 8 - shift;
      const last = src.length - 1;
      for (let k = 0; k < full; k++, s++) {
        dst[d++] = ((src[s]! >>> shift) | ((s < last ? src[s + 1]! : 0) << back)) & 0xff;
      }
    }
    done = full << 3;
  }
  for (let k = done; k < n; k++) {
    const b = sBit + k;
    if ((src[b >> 3]! >> (b & 7)) & 1) {
      const o = dBit + k;
      dst[o >> 3]! |= 1 << (o & 7);
    }
  }
}

/** Sets `n` bits to 1 in `dst` starting at bit `dBit`. */
function setBits(dst: Uint8Array, dBit: number, n: number): void {
  let k = 0;
  while (k < n && ((dBit + k) & 7) !== 0) {
    const o = dBit + k++;
    dst[o >> 3]! |= 1 << (o & 7);
  }
  const fullBytes = (n - k) >> 3;
  if (fullBytes > 0) {
    const from = (dBit + k) >> 3;
    dst.fill(0xff, from, from + fullBytes);
    k += fullBytes << 3;
  }
  for (; k < n; k++) {
    const o = dBit + k;
    dst[o >> 3]! |= 1 << (o & 7);
  }
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

let scratch = new Uint8Array(1 << 16);
function scratchBitmap(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
  const s = scratch.subarray(0, bytes);
  s.fill(0);
  return s;
}

interface StringDict {
  off: Int32Array;
  bytes: Uint8Array;
}

const dictCache = new WeakMap<object, StringDict>();

/** The Utf8 dictionary of a Dictionary<int, Utf8> column as one offsets/bytes pair. */
function stringDict(data: Data): StringDict {
  const vec = data.dictionary as unknown as { data: Data[] } | undefined;
  if (vec === undefined) throw new Error('dictionary-encoded column without a dictionary');
  const cached = dictCache.get(vec);
  if (cached !== undefined) return cached;
  let result: StringDict;
  const chunks = vec.data;
  if (chunks.length === 1 && chunks[0]!.offset === 0) {
    const c = chunks[0]!;
    result = { off: c.valueOffsets as Int32Array, bytes: c.values as Uint8Array };
  } else {
    // Delta dictionaries / slices: flatten once.
    let n = 0;
    let total = 0;
    for (const c of chunks) {
      const o = c.valueOffsets as Int32Array;
      n += c.length;
      total += o[c.length]! - o[0]!;
    }
    const off = new Int32Array(n + 1);
    const bytes = new Uint8Array(total);
    let k = 0;
    let at = 0;
    for (const c of chunks) {
      const o = c.valueOffsets as Int32Array;
      const v = c.values as Uint8Array;
      bytes.set(v.subarray(o[0]!, o[c.length]!), at);
      for (let i = 0; i < c.length; i++) off[++k] = at + o[i + 1]! - o[0]!;
      at += o[c.length]! - o[0]!;
    }
    result = { off, bytes };
  }
  dictCache.set(vec, result);
  return result;
}

/** Bytes of rows [start, end) of a Dictionary<int, Utf8> column in a PLAIN page (nulls counted as empty). */
function dictBytes(data: Data, start: number, end: number): number {
  const { off } = stringDict(data);
  const idx = data.values as Int32Array;
  let bytes = 4 * (end - start);
  for (let i = start; i < end; i++) {
    const k = idx[i]!;
    bytes += off[k + 1]! - off[k]! || 0; // a null slot may hold any index, even out of range
  }
  return bytes;
}

/** Upper bound of a page's values section, in bytes. */
function valuesUpperBound(spec: ColumnSpec, segs: readonly Segment[], rows: number): number {
  switch (spec.kind) {
    case 'fixed':
    case 'widen':
      return rows * spec.width;
    case 'bool':
      return (rows + 7) >> 3;
    case 'utf8': {
      let bytes = 4 * rows;
      for (const s of segs) {
        const off = s.data.valueOffsets as Int32Array;
        bytes += off[s.end]! - off[s.start]!;
      }
      return bytes;
    }
    case 'dict-utf8': {
      let bytes = 0;
      for (const s of segs) bytes += dictBytes(s.data, s.start, s.end);
      return bytes;
    }
  }
}

/** Int32 view over an Arrow fixed-width value buffer (4 or 8 bytes a row; already sliced by Arrow). */
function int32View(values: ArrayBufferView): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.byteLength >> 2);
}

/**
 * Encodes rows of `segs` (in order) as one data page body.
 * `rows` must equal the sum of the segment lengths.
 */
export function encodePage(
  spec: ColumnSpec,
  segs: readonly Segment[],
  rows: number,
  pool: PageBufferPool,
): EncodedPage {
  // 1. Validity of the page as one bitmap (only if some row may be null).
  let nullCount = 0;
  let validity: Uint8Array | undefined;
  const anyNulls = segs.some((s) => hasNulls(s.data));
  if (anyNulls) {
    const bm = scratchBitmap((rows + 7) >> 3);
    let at = 0;
    for (const s of segs) {
      const n = s.end - s.start;
      if (hasNulls(s.data)) copyBits(s.data.nullBitmap!, s.data.offset + s.start, bm, at, n);
      else setBits(bm, at, n);
      at += n;
    }
    let set = 0;
    for (let i = 0; i < bm.length; i++) set += POPCOUNT[bm[i]!]!;
    nullCount = rows - set;
    if (nullCount > 0) validity = bm;
  }
  if (nullCount > 0 && !spec.nullable) {
    throw new Error(`column "${spec.name}" is declared non-nullable but holds ${nullCount} null(s)`);
  }

  // 2. Definition levels (OPTIONAL columns only), RLE/bit-packed hybrid with bit width 1.
  let defLen = 0;
  if (spec.nullable) {
    if (validity === undefined || nullCount === rows) defLen = varintLength(rows * 2) + 1;
    else defLen = varintLength(validity.length * 2 + 1) + validity.length;
  }
  const prefix = spec.nullable ? 4 + defLen : 0;
  // +8: the string copier may write up to 7 bytes past the last value.
  const total = prefix + valuesUpperBound(spec, segs, rows) + 8;
  // Align the values section to 8 bytes so it can be viewed as Int32/Float64 arrays.
  const pad = (8 - (prefix & 7)) & 7;
  const ab = pool.acquire(pad + total);
  const out = new Uint8Array(ab, pad, total);
  if (spec.nullable) {
    out[0] = defLen & 0xff;
    out[1] = (defLen >>> 8) & 0xff;
    out[2] = (defLen >>> 16) & 0xff;
    out[3] = defLen >>> 24;
    if (validity === undefined || nullCount === rows) {
      const p = writeVarint(out, 4, rows * 2);
      out[p] = validity === undefined ? 1 : 0;
    } else {
      const p = writeVarint(out, 4, validity.length * 2 + 1);
      out.set(validity, p);
    }
  }

  // 3. Values: only the non-null ones.
  const valuesAt = prefix; // byte offset inside `out`; (pad + prefix) is 8-aligned in `ab`
  let end: number;
  switch (spec.kind) {
    case 'fixed':
      end = encodeFixed(spec.width, segs, validity, out, valuesAt);
      break;
    case 'widen':
      end = encodeWiden(segs, validity, out, valuesAt);
      break;
    case 'bool':
      end = encodeBool(segs, validity, out, valuesAt);
      break;
    case 'utf8':
      end = encodeUtf8(segs, validity, out, valuesAt);
      break;
    case 'dict-utf8':
      end = encodeDictUtf8(segs, validity, out, valuesAt);
      break;
  }
  const nonNull = rows - nullCount;
  const stats: PageStats = { nullCount };
  if (nonNull > 0 && spec.stat !== 'none') computeStats(spec, ab, pad + valuesAt, nonNull, stats);
  return { body: out.subarray(0, end), buffer: ab, numValues: rows, stats };
}

function encodeFixed(
  width: number,
  segs: readonly Segment[],
  validity: Uint8Array | undefined,
  out: Uint8Array,
  at: number,
): number {
  if (validity === undefined) {
    for (const s of segs) {
      const v = s.data.values as ArrayBufferView;
      const bytes = (s.end - s.start) * width;
      out.set(new Uint8Array(v.buffer, v.byteOffset + s.start * width, bytes), at);
      at += bytes;
    }
    return at;
  }
  const out32 = new Int32Array(out.buffer, out.byteOffset + at, (out.length - at) >> 2);
  let k = 0;
  let r = 0;
  if (width === 4) {
    for (const s of segs) {
      const src = int32View(s.data.values as ArrayBufferView);
      for (let i = s.start; i < s.end; i++, r++) {
        if ((validity[r >> 3]! >> (r & 7)) & 1) out32[k++] = src[i]!;
      }
    }
  } else {
    for (const s of segs) {
      const src = int32View(s.data.values as ArrayBufferView);
      for (let i = s.start; i < s.end; i++, r++) {
        if ((validity[r >> 3]! >> (r & 7)) & 1) {
          out32[k] = src[2 * i]!;
          out32[k + 1] = src[2 * i + 1]!;
          k += 2;
        }
      }
    }
  }
  return at + k * 4;
}

function encodeWiden(
  segs: readonly Segment[],
  validity: Uint8Array | undefined,
  out: Uint8Array,
  at: number,
): number {
  const out32 = new Int32Array(out.buffer, out.byteOffset + at, (out.length - at) >> 2);
  let k = 0;
  let r = 0;
  for (const s of segs) {
    const src = s.data.values as Int8Array | Int16Array | Uint8Array | Uint16Array;
    for (let i = s.start; i < s.end; i++, r++) {
      if (validity === undefined || (validity[r >> 3]! >> (r & 7)) & 1) out32[k++] = src[i]!;
    }
  }
  return at + k * 4;
}

function encodeBool(
  segs: readonly Segment[],
  validity: Uint8Array | undefined,
  out: Uint8Array,
  at: number,
): number {
  const dst = out.subarray(at);
  dst.fill(0); // pooled buffers are not zeroed; bits are OR-ed in
  let bit = 0;
  if (validity === undefined) {
    for (const s of segs) {
      const n = s.end - s.start;
      copyBits(s.data.values as Uint8Array, s.data.offset + s.start, dst, bit, n);
      bit += n;
    }
  } else {
    let r = 0;
    for (const s of segs) {
      const src = s.data.values as Uint8Array;
      const base = s.data.offset;
      for (let i = s.start; i < s.end; i++, r++) {
        if ((validity[r >> 3]! >> (r & 7)) & 1) {
          const b = base + i;
          if ((src[b >> 3]! >> (b & 7)) & 1) dst[bit >> 3]! |= 1 << (bit & 7);
          bit++;
        }
      }
    }
  }
  return at + ((bit + 7) >> 3);
}

function encodeUtf8(
  segs: readonly Segment[],
  validity: Uint8Array | undefined,
  out: Uint8Array,
  p: number,
): number {
  const dvo = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let r = 0;
  for (const s of segs) {
    p =
      validity === undefined
        ? copyStrings(s, out, dvo, p)
        : copyValidStrings(s, validity, r, out, dvo, p);
    r += s.end - s.start;
  }
  return p;
}

/**
 * PLAIN byte arrays: `u32 length` + bytes per value. Short values are copied
 * 8 bytes at a time through Int32 DataView reads/writes (about 2x a byte loop);
 * the copy may run up to 7 bytes past a value's end, which the next value
 * overwrites and `out`'s 8 bytes of slack absorb. Int32 rather than Float64
 * moves, so no NaN canonicalisation can touch the bytes.
 */
function copyStrings(s: Segment, out: Uint8Array, dvo: DataView, p: number): number {
  const off = s.data.valueOffsets as Int32Array;
  const bytes = s.data.values as Uint8Array;
  const dvi = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const safeEnd = bytes.length - 8;
  let a = off[s.start]!;
  for (let i = s.start; i < s.end; i++) {
    const b = off[i + 1]!;
    const len = b - a;
    dvo.setInt32(p, len, true);
    p += 4;
    const stop = p + len;
    if (len > 256) {
      out.set(bytes.subarray(a, b), p);
    } else if (b <= safeEnd) {
      for (let x = a; p < stop; p += 8, x += 8) {
        dvo.setInt32(p, dvi.getInt32(x, true), true);
        dvo.setInt32(p + 4, dvi.getInt32(x + 4, true), true);
      }
    } else {
      for (let x = a; p < stop; ) out[p++] = bytes[x++]!;
    }
    p = stop;
    a = b;
  }
  return p;
}

function copyValidStrings(
  s: Segment,
  validity: Uint8Array,
  r: number,
  out: Uint8Array,
  dvo: DataView,
  p: number,
): number {
  const off = s.data.valueOffsets as Int32Array;
  const bytes = s.data.values as Uint8Array;
  const dvi = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const safeEnd = bytes.length - 8;
  for (let i = s.start; i < s.end; i++, r++) {
    if (((validity[r >> 3]! >> (r & 7)) & 1) === 0) continue;
    const a = off[i]!;
    const b = off[i + 1]!;
    const len = b - a;
    dvo.setInt32(p, len, true);
    p += 4;
    const stop = p + len;
    if (len > 256) {
      out.set(bytes.subarray(a, b), p);
    } else if (b <= safeEnd) {
      for (let x = a; p < stop; p += 8, x += 8) {
        dvo.setInt32(p, dvi.getInt32(x, true), true);
        dvo.setInt32(p + 4, dvi.getInt32(x + 4, true), true);
      }
    } else {
      for (let x = a; p < stop; ) out[p++] = bytes[x++]!;
    }
    p = stop;
  }
  return p;
}

function encodeDictUtf8(
  segs: readonly Segment[],
  validity: Uint8Array | undefined,
  out: Uint8Array,
  p: number,
): number {
  const dvo = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let r = 0;
  for (const s of segs) {
    const { off, bytes } = stringDict(s.data);
    const idx = s.data.values as Int32Array;
    for (let i = s.start; i < s.end; i++, r++) {
      if (validity !== undefined && ((validity[r >> 3]! >> (r & 7)) & 1) === 0) continue;
      const k = idx[i]!;
      const a = off[k]!;
      const len = off[k + 1]! - a;
      dvo.setInt32(p, len, true);
      p += 4;
      if (len > 32) out.set(bytes.subarray(a, a + len), p);
      else for (let x = 0; x < len; x++) out[p + x] = bytes[a + x]!;
      p += len;
    }
  }
  return p;
}

function computeStats(spec: ColumnSpec, ab: SharedArrayBuffer, abAt: number, n: number, stats: PageStats): void {
  switch (spec.stat) {
    case 'i32': {
      const v = new Int32Array(ab, abAt, n);
      let min = v[0]!;
      let max = min;
      for (let i = 1; i < n; i++) {
        const x = v[i]!;
        if (x < min) min = x;
        else if (x > max) max = x;
      }
      stats.min = min;
      stats.max = max;
      return;
    }
    case 'i64': {
      const v = new Int32Array(ab, abAt, n * 2);
      let minHi = v[1]!;
      let minLo = v[0]! >>> 0;
      let maxHi = minHi;
      let maxLo = minLo;
      for (let i = 1; i < n; i++) {
        const hi = v[2 * i + 1]!;
        const lo = v[2 * i]! >>> 0;
        if (hi < minHi || (hi === minHi && lo < minLo)) {
          minHi = hi;
          minLo = lo;
        }
        if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
          maxHi = hi;
          maxLo = lo;
        }
      }
      stats.min = (BigInt(minHi) << 32n) | BigInt(minLo);
      stats.max = (BigInt(maxHi) << 32n) | BigInt(maxLo);
      return;
    }
    case 'f32':
    case 'f64': {
      const v = spec.stat === 'f64' ? new Float64Array(ab, abAt, n) : new Float32Array(ab, abAt, n);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = v[i]!;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (min > max) return; // only NaNs
      // Parquet: write -0.0 as min and +0.0 as max when the bound is a zero.
      stats.min = min === 0 ? -0 : min;
      stats.max = max === 0 ? 0 : max;
      return;
    }
    case 'none':
      return;
  }
}

/** Merges page stats into column-chunk stats. */
export function mergeStats(into: PageStats, page: PageStats): void {
  into.nullCount += page.nullCount;
  if (page.min === undefined || page.max === undefined) return;
  if (into.min === undefined || page.min < into.min) into.min = page.min;
  if (into.max === undefined || page.max > into.max) into.max = page.max;
}

/** PLAIN bytes of a statistic value. */
export function statBytes(spec: ColumnSpec, v: number | bigint): Uint8Array {
  switch (spec.stat) {
    case 'i32': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, Number(v), true);
      return b;
    }
    case 'i64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
      return b;
    }
    case 'f32': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, Number(v), true);
      return b;
    }
    case 'f64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, Number(v), true);
      return b;
    }
    case 'none':
      return new Uint8Array(0);
  }
}

/**
 * Splits a column's row-group segments into pages of about `pageBytes`
 * uncompressed bytes (at least one row per page).
 */
export function planPages(spec: ColumnSpec, segs: readonly Segment[], pageBytes: number): Segment[][] {
  const pages: Segment[][] = [];
  let cur: Segment[] = [];
  let curBytes = 0;
  const flush = (): void => {
    if (cur.length > 0) pages.push(cur);
    cur = [];
    curBytes = 0;
  };
  if (spec.kind === 'dict-utf8') {
    for (const s of segs) {
      const { off } = stringDict(s.data);
      const idx = s.data.values as Int32Array;
      let from = s.start;
      for (let i = s.start; i < s.end; i++) {
        const k = idx[i]!;
        curBytes += 4 + (off[k + 1]! - off[k]! || 0);
        if (curBytes >= pageBytes) {
          cur.push({ data: s.data, start: from, end: i + 1 });
          from = i + 1;
          flush();
        }
      }
      if (from < s.end) cur.push({ data: s.data, start: from, end: s.end });
    }
    flush();
    return pages;
  }
  if (spec.kind !== 'utf8') {
    const perRow = spec.kind === 'bool' ? 1 / 8 : spec.width;
    const rowsPerPage = Math.max(1, Math.floor(pageBytes / perRow));
    let curRows = 0;
    for (const s of segs) {
      let i = s.start;
      while (i < s.end) {
        const take = Math.min(s.end - i, rowsPerPage - curRows);
        cur.push({ data: s.data, start: i, end: i + take });
        curRows += take;
        i += take;
        if (curRows >= rowsPerPage) {
          flush();
          curRows = 0;
        }
      }
    }
    flush();
    return pages;
  }
  for (const s of segs) {
    const off = s.data.valueOffsets as Int32Array;
    let i = s.start;
    while (i < s.end) {
      const budget = pageBytes - curBytes;
      // Largest e in (i, s.end] with bytes(i, e) <= budget; binary search (bytes grow with e).
      const bytesTo = (e: number): number => off[e]! - off[i]! + 4 * (e - i);
      let e: number;
      if (bytesTo(s.end) <= budget) e = s.end;
      else {
        let lo = i;
        let hi = s.end;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (bytesTo(mid) <= budget) lo = mid;
          else hi = mid - 1;
        }
        e = lo;
      }
      if (e === i) {
        if (cur.length > 0) {
          flush();
          continue;
        }
        e = i + 1; // one oversized value gets a page of its own
      }
      cur.push({ data: s.data, start: i, end: e });
      curBytes += bytesTo(e);
      i = e;
      if (curBytes >= pageBytes || i < s.end) flush();
    }
  }
  flush();
  return pages;
}
