import { Bool, DateDay, Field, Float64, Int32, Int64, Schema, TimestampMicrosecond, Utf8, type DataType } from 'apache-arrow';
import { parseBigInt, parseBool, parseDate, parseFloatBytes, parseSmallInt, parseTimestampLocal } from './parse-bytes.js';

/** The column types sluice infers and casts to. */
export type ColumnType = 'int32' | 'int64' | 'float64' | 'boolean' | 'date' | 'timestamp' | 'text';
export const COLUMN_TYPES: readonly ColumnType[] = ['int32', 'int64', 'float64', 'boolean', 'date', 'timestamp', 'text'];

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Pinned by `--schema` (or `--all-text`): never widened, and lenient casts (leading zeros) allowed. */
  pinned: boolean;
}

const NUMERIC_RANK: Partial<Record<ColumnType, number>> = { int32: 1, int64: 2, float64: 3 };

/**
 * The narrowest type that holds values of both types without loss:
 * int32 ⊂ int64 ⊂ float64, date ⊂ timestamp, and everything ⊂ text.
 */
export function joinTypes(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) return ra > rb ? a : b;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return 'text';
}

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

function isIntegerLiteral(buf: Uint8Array, s: number, e: number): boolean {
  let p = s;
  if (buf[p] === 0x2d || buf[p] === 0x2b) p++;
  if (p >= e) return false;
  for (; p < e; p++) {
    const d = buf[p]! - 0x30;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** The narrowest type of one non-null value. */
export function typeOfValue(buf: Uint8Array, s: number, e: number): ColumnType {
  const c = buf[s]!;
  // Cheap dispatch on the first byte keeps inference fast.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e) {
    const i = parseSmallInt(buf, s, e, false);
    if (i === i) return i >= I32_MIN && i <= I32_MAX ? 'int32' : 'int64';
    if (e - s <= 20 && parseBigInt(buf, s, e, false) !== undefined) return 'int64';
    // An integer beyond int64 (a long identifier) would be rounded as a double: keep it as text.
    if (isIntegerLiteral(buf, s, e)) return 'text';
    if (e - s === 10 && !Number.isNaN(parseDate(buf, s, e))) return 'date';
    if (!Number.isNaN(parseTimestampLocal(buf, s, e))) return 'timestamp';
    const f = parseFloatBytes(buf, s, e, false);
    if (f === f && Number.isFinite(f)) return 'float64';
    return 'text';
  }
  if (!Number.isNaN(parseBool(buf, s, e))) return 'boolean';
  return 'text';
}

/** Does one non-null value fit type `t` as inferred (strict: no leading zeros)? The cheap test that usually passes. */
export function fitsType(t: ColumnType, buf: Uint8Array, s: number, e: number): boolean {
  switch (t) {
    case 'int32': {
      const v = parseSmallInt(buf, s, e, false);
      return v >= I32_MIN && v <= I32_MAX;
    }
    case 'int64':
      return !Number.isNaN(parseSmallInt(buf, s, e, false)) || parseBigInt(buf, s, e, false) !== undefined;
    case 'float64': {
      const v = parseFloatBytes(buf, s, e, false);
      return Number.isFinite(v);
    }
    case 'boolean':
      return !Number.isNaN(parseBool(buf, s, e));
    case 'date':
      return !Number.isNaN(parseDate(buf, s, e));
    case 'timestamp':
      return !Number.isNaN(parseTimestampLocal(buf, s, e)) || !Number.isNaN(parseDate(buf, s, e));
    case 'text':
      return true;
  }
}

export function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'text':
      return new Utf8();
  }
}

export function arrowSchema(cols: readonly ColumnSpec[]): Schema {
  return new Schema(cols.map((c) => new Field(c.name, arrowType(c.type), true)));
}

export function isColumnType(s: string): s is ColumnType {
  return (COLUMN_TYPES as readonly string[]).includes(s);
}
