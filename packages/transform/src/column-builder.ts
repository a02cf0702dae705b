/**
 * Column builders: typed arrays for one batch, filled a column at a time from
 * the tokenizer's grid. Every loop here runs over typed arrays; no JS string
 * or object is made per field on the happy path.
 */
import { makeData, RecordBatch, Struct, type Data, type Schema } from 'apache-arrow';
import type { ColumnType } from './column-types.js';
import {
  MAX_SAFE_MICROS,
  NO_OFFSET,
  isNullMarker,
  lastDayMicros,
  lastDays,
  lastOffsetMinutes,
  parseBigInt,
  parseBool,
  parseDate,
  parseFloatBytes,
  parseSmallInt,
  parseTimestampLocal,
} from './parse-bytes.js';
import { FIELD_ESCAPED, FIELD_PLAIN, QUOTE, type Grid } from './tokenizer.js';

const TWO32 = 4294967296;
const MICROS_PER_MINUTE = 60_000_000;

/** One column of one batch under construction. */
export class ColumnBuilder {
  readonly type: ColumnType;
  readonly cap: number;
  readonly validity: Uint8Array;
  nullCount = 0;
  i32?: Int32Array;
  i64?: BigInt64Array;
  f64?: Float64Array;
  bits?: Uint8Array;
  offsets?: Int32Array;
  bytes?: Uint8Array;
  byteLen = 0;

  constructor(type: ColumnType, cap: number, textBytesHint: number) {
    this.type = type;
    this.cap = cap;
    this.validity = new Uint8Array((cap + 7) >> 3);
    switch (type) {
      case 'int32':
      case 'date':
        this.i32 = new Int32Array(cap);
        break;
      case 'int64':
      case 'timestamp':
        this.i64 = new BigInt64Array(cap);
        this.i32 = new Int32Array(this.i64.buffer);
        break;
      case 'float64':
        this.f64 = new Float64Array(cap);
        break;
      case 'boolean':
        this.bits = new Uint8Array((cap + 7) >> 3);
        break;
      case 'text':
        this.offsets = new Int32Array(cap + 1);
        this.bytes = new Uint8Array(Math.max(1024, textBytesHint));
        break;
    }
  }

  /** Makes the builder empty again so its buffers can hold another batch. */
  reset(): void {
    this.validity.fill(0);
    this.bits?.fill(0);
    this.nullCount = 0;
    this.byteLen = 0;
    // Value slots of numeric columns need no clearing: every valid slot is
    // written, and null slots are masked by the validity bitmap.
  }

  /** Grows the text buffer to hold `extra` more bytes. */
  reserveBytes(extra: number): Uint8Array {
    const need = this.byteLen + extra;
    let b = this.bytes!;
    if (need > b.length) {
      const nb = new Uint8Array(Math.max(need, b.length * 2));
      nb.set(b.subarray(0, this.byteLen));
      this.bytes = b = nb;
    }
    return b;
  }

  /** The Arrow data of the first `length` rows. */
  toData(length: number, arrowType: Data['type']): Data {
    const nullBitmap = this.nullCount > 0 ? this.validity.subarray(0, (length + 7) >> 3) : undefined;
    const common = { type: arrowType, length, nullCount: this.nullCount, nullBitmap };
    switch (this.type) {
      case 'int32':
      case 'date':
        return makeData({ ...common, data: this.i32!.subarray(0, length) } as never);
      case 'int64':
      case 'timestamp':
        return makeData({ ...common, data: this.i64!.subarray(0, length) } as never);
      case 'float64':
        return makeData({ ...common, data: this.f64!.subarray(0, length) } as never);
      case 'boolean':
        return makeData({ ...common, data: this.bits!.subarray(0, (length + 7) >> 3) } as never);
      case 'text':
        return makeData({
          ...common,
          valueOffsets: this.offsets!.subarray(0, length + 1),
          data: this.bytes!.subarray(0, this.byteLen),
        } as never);
    }
  }
}

/** Receives values that do not fit their column. */
export interface CastFailureSink {
  /** Row `r` of the grid (batch slot `k`) has a value in column `col` that does not fit. */
  castFailed(r: number, col: number, k: number): void;
}

export interface FillContext {
  buf: Uint8Array;
  grid: Grid;
  /** Null markers (UTF-8) treated as null in typed columns. */
  nullMarkers: Uint8Array[];
  /** Null markers applied to text columns too (when the user gave them). */
  textNullMarkers: boolean;
  /** Offset (micros) of a local wall-clock time in `--timezone`. */
  localOffset: (localMicros: number) => number;
  sink: CastFailureSink;
}

function isMarker(ctx: FillContext, s: number, e: number): boolean {
  return isNullMarker(ctx.buf, s, e, ctx.nullMarkers);
}

/**
 * Casts column `col` of grid rows [r0, r1) into `b` at slots [k0, …).
 * Unquoted empty fields are null; so are null markers in typed columns.
 */
export function fillColumn(ctx: FillContext, col: number, r0: number, r1: number, b: ColumnBuilder, k0: number, lenient: boolean): void {
  // One loop per type, on purpose: a shared loop calling a per-type parser
  // through a function value would stop V8 from inlining the parse.
  const buf = ctx.buf;
  const grid = ctx.grid;
  const n = grid.ncols;
  const S = grid.start;
  const E = grid.end;
  const F = grid.flags;
  const valid = b.validity;
  let nulls = 0;
  const hasMarkers = ctx.nullMarkers.length > 0;
  switch (b.type) {
    case 'int32': {
      const out = b.i32!;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          const v = parseSmallInt(buf, s, e, lenient);
          if (v >= -2147483648 && v <= 2147483647) {
            out[k] = v;
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'int64': {
      const out = b.i32!;
      const big = b.i64!;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          const v = parseSmallInt(buf, s, e, lenient);
          if (v === v) {
            const hi = Math.floor(v / TWO32);
            out[2 * k] = (v - hi * TWO32) | 0;
            out[2 * k + 1] = hi;
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          const bv = parseBigInt(buf, s, e, lenient);
          if (bv !== undefined) {
            big[k] = bv;
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'float64': {
      const out = b.f64!;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          const v = parseFloatBytes(buf, s, e, lenient);
          if (v === v && v !== Infinity && v !== -Infinity) {
            out[k] = v;
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'boolean': {
      const out = b.bits!;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          const v = parseBool(buf, s, e);
          if (v === v) {
            if (v === 1) out[k >> 3]! |= 1 << (k & 7);
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'date': {
      const out = b.i32!;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          const v = parseDate(buf, s, e);
          if (v === v && v >= -2147483648 && v <= 2147483647) {
            out[k] = v;
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'timestamp': {
      const out = b.i32!;
      const big = b.i64!;
      const localOffset = ctx.localOffset;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        if (s !== e) {
          // Wall-clock micros, then the offset: written in the text, or --timezone's.
          let local = parseTimestampLocal(buf, s, e);
          let days = lastDays;
          let dayMicros = lastDayMicros;
          let offMicros = lastOffsetMinutes === NO_OFFSET ? NaN : lastOffsetMinutes * MICROS_PER_MINUTE;
          if (local !== local && e - s === 10) {
            // A bare date in a timestamp column is midnight.
            days = parseDate(buf, s, e);
            dayMicros = 0;
            local = days * 86_400_000_000;
          }
          if (local === local) {
            if (offMicros !== offMicros) offMicros = localOffset(local);
            writeMicros(out, big, k, local - offMicros, days, dayMicros - offMicros);
            valid[k >> 3]! |= 1 << (k & 7);
            continue;
          }
          if (!(hasMarkers && isMarker(ctx, s, e))) {
            ctx.sink.castFailed(r, col, k);
            continue;
          }
        }
        nulls++;
      }
      break;
    }
    case 'text': {
      const offs = b.offsets!;
      const textMarkers = hasMarkers && ctx.textNullMarkers;
      for (let r = r0, k = k0; r < r1; r++, k++) {
        const i = r * n + col;
        const s = S[i]!;
        const e = E[i]!;
        const f = F[i]!;
        if ((s === e && f === FIELD_PLAIN) || (textMarkers && f === FIELD_PLAIN && isMarker(ctx, s, e))) {
          nulls++;
          offs[k + 1] = b.byteLen;
          continue;
        }
        const len = e - s;
        const out = b.byteLen + len > b.bytes!.length ? b.reserveBytes(len) : b.bytes!;
        let w = b.byteLen;
        if (f === FIELD_ESCAPED) {
          // Collapse "" to ".
          for (let p = s; p < e; p++) {
            const c = buf[p]!;
            out[w++] = c;
            if (c === QUOTE) p++;
          }
        } else if (len < 32) {
          for (let p = s; p < e; p++) out[w++] = buf[p]!;
        } else {
          out.set(buf.subarray(s, e), w);
          w += len;
        }
        b.byteLen = w;
        offs[k + 1] = w;
        valid[k >> 3]! |= 1 << (k & 7);
      }
      break;
    }
  }
  b.nullCount += nulls;
}

/**
 * Writes a UTC instant (micros) into an Int64 slot through its two 32-bit
 * halves, which avoids a BigInt per value. Beyond 2^53 µs (before 1685 or after
 * 2255) the double is not exact, so the value is rebuilt from days + micros.
 */
function writeMicros(out: Int32Array, big: BigInt64Array, k: number, v: number, days: number, dayMicrosUtc: number): void {
  if (Math.abs(v) < MAX_SAFE_MICROS - 1e12) {
    const hi = Math.floor(v / TWO32);
    out[2 * k] = (v - hi * TWO32) | 0;
    out[2 * k + 1] = hi;
  } else {
    big[k] = BigInt(days) * 86_400_000_000n + BigInt(dayMicrosUtc);
  }
}

/**
 * Marks slot `k` as null after a failed cast, so the batch stays consistent
 * until the row is dropped. Text columns need their offset carried forward.
 */
export function clearSlot(b: ColumnBuilder, k: number): void {
  b.validity[k >> 3]! &= ~(1 << (k & 7));
  if (b.type === 'text') b.offsets![k + 1] = b.byteLen;
}

/**
 * Builds a RecordBatch from the first `length` slots, leaving out slots whose
 * bit is set in `drop` (rows rejected after some columns were filled).
 */
export function buildBatch(
  schema: Schema,
  cols: ColumnBuilder[],
  length: number,
  drop: Uint8Array | undefined,
  dropCount: number,
): RecordBatch {
  if (drop && dropCount > 0) {
    cols = cols.map((c) => compact(c, length, drop));
    length -= dropCount;
  }
  const children = cols.map((c, i) => c.toData(length, schema.fields[i]!.type));
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** A copy of the builder without the dropped slots. */
function compact(c: ColumnBuilder, length: number, drop: Uint8Array): ColumnBuilder {
  const out = new ColumnBuilder(c.type, c.cap, c.type === 'text' ? c.byteLen : 0);
  let w = 0;
  for (let k = 0; k < length; k++) {
    if (drop[k >> 3]! & (1 << (k & 7))) continue;
    const isValid = (c.validity[k >> 3]! & (1 << (k & 7))) !== 0;
    if (isValid) out.validity[w >> 3]! |= 1 << (w & 7);
    else out.nullCount++;
    switch (c.type) {
      case 'int32':
      case 'date':
        out.i32![w] = c.i32![k]!;
        break;
      case 'int64':
      case 'timestamp':
        out.i64![w] = c.i64![k]!;
        break;
      case 'float64':
        out.f64![w] = c.f64![k]!;
        break;
      case 'boolean':
        if (c.bits![k >> 3]! & (1 << (k & 7))) out.bits![w >> 3]! |= 1 << (w & 7);
        break;
      case 'text': {
        const s = c.offsets![k]!;
        const e = c.offsets![k + 1]!;
        out.bytes!.set(c.bytes!.subarray(s, e), out.byteLen);
        out.byteLen += e - s;
        out.offsets![w + 1] = out.byteLen;
        break;
      }
    }
    w++;
  }
  return out;
}
