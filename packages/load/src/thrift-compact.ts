/**
 * A minimal Thrift *compact protocol* encoder: just what the Parquet footer
 * (FileMetaData) and page headers need. Writing only — sluice never parses
 * Parquet metadata itself; DuckDB is the independent reader in the tests.
 *
 * Compact protocol recap (thrift/doc/specs/thrift-compact-protocol.md):
 * - field header: one byte `(delta << 4) | type` when the field id grows by
 *   1..15 over the previous field of the same struct, else the type byte then
 *   the zigzag varint i16 id;
 * - i16/i32/i64: zigzag ULEB128 varints; binary/string: varint length + bytes;
 * - booleans live in the field header type (1 = true, 2 = false);
 * - list: one byte `(size << 4) | elemType` for size < 15, else `0xF0 | elemType`
 *   then a varint size; struct: fields then a 0 stop byte.
 */

export const CType = {
  BOOL_TRUE: 1,
  BOOL_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;
export type CType = (typeof CType)[keyof typeof CType];

const utf8 = new TextEncoder();

export class CompactWriter {
  private buf: Uint8Array;
  private pos = 0;
  private lastField = 0;
  private readonly fieldStack: number[] = [];

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  /** The encoded bytes (a view; copy it if the writer is reused). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b & 0xff;
  }

  /** Unsigned LEB128 of a non-negative safe integer (up to 2^53). */
  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private varintBig(n: bigint): void {
    this.ensure(10);
    while (n >= 0x80n) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  private zigzag32(n: number): void {
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  private zigzag64(n: number | bigint): void {
    if (typeof n === 'bigint') {
      this.varintBig(n >= 0n ? n << 1n : (-n << 1n) - 1n);
      return;
    }
    if (!Number.isSafeInteger(n)) throw new RangeError(`thrift i64 out of safe range: ${n}`);
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) {
      this.byte((delta << 4) | type);
    } else {
      this.byte(type);
      this.zigzag32(id);
    }
    this.lastField = id;
  }

  i32(id: number, v: number): this {
    this.fieldHeader(id, CType.I32);
    this.zigzag32(v);
    return this;
  }

  i16(id: number, v: number): this {
    this.fieldHeader(id, CType.I16);
    this.zigzag32(v);
    return this;
  }

  i8(id: number, v: number): this {
    this.fieldHeader(id, CType.BYTE);
    this.byte(v);
    return this;
  }

  i64(id: number, v: number | bigint): this {
    this.fieldHeader(id, CType.I64);
    this.zigzag64(v);
    return this;
  }

  bool(id: number, v: boolean): this {
    this.fieldHeader(id, v ? CType.BOOL_TRUE : CType.BOOL_FALSE);
    return this;
  }

  binary(id: number, bytes: Uint8Array): this {
    this.fieldHeader(id, CType.BINARY);
    this.rawBinary(bytes);
    return this;
  }

  string(id: number, s: string): this {
    return this.binary(id, utf8.encode(s));
  }

  /** Opens a struct-typed field; close it with {@link structEnd}. */
  structBegin(id: number): this {
    this.fieldHeader(id, CType.STRUCT);
    this.fieldStack.push(this.lastField);
    this.lastField = 0;
    return this;
  }

  /** Opens a struct that is a list element (no field header). */
  elementStructBegin(): this {
    this.fieldStack.push(this.lastField);
    this.lastField = 0;
    return this;
  }

  structEnd(): this {
    this.byte(0);
    this.lastField = this.fieldStack.pop() ?? 0;
    return this;
  }

  /** An empty struct field, e.g. a LogicalType union member like StringType. */
  emptyStruct(id: number): this {
    return this.structBegin(id).structEnd();
  }

  listBegin(id: number, elemType: CType, size: number): this {
    this.fieldHeader(id, CType.LIST);
    if (size < 15) {
      this.byte((size << 4) | elemType);
    } else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
    return this;
  }

  /** A list element of type I32 (also used for enums). */
  elementI32(v: number): this {
    this.zigzag32(v);
    return this;
  }

  elementString(s: string): this {
    this.rawBinary(utf8.encode(s));
    return this;
  }

  /** Terminates the top-level struct. */
  stop(): this {
    this.byte(0);
    return this;
  }

  private rawBinary(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}
