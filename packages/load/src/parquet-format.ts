/**
 * The slice of parquet.thrift (apache/parquet-format) that the writer emits,
 * serialised with the compact protocol. Field ids are copied from the spec;
 * every struct below lists them in ascending order, as compact encoding needs
 * small positive deltas to stay one byte.
 */
import { CType, CompactWriter } from './thrift-compact.js';

export const PhysicalType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;
export type PhysicalType = (typeof PhysicalType)[keyof typeof PhysicalType];

export const ConvertedType = {
  UTF8: 0,
  DATE: 6,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
} as const;

export const Repetition = { REQUIRED: 0, OPTIONAL: 1 } as const;

export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;

export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, ZSTD: 6 } as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];

export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** The LogicalType union (parquet.thrift `union LogicalType`). */
export type LogicalType =
  | { kind: 'STRING' }
  | { kind: 'DATE' }
  | { kind: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: 'MILLIS' | 'MICROS' | 'NANOS' }
  | { kind: 'INTEGER'; bitWidth: 8 | 16 | 32 | 64; isSigned: boolean };

export interface SchemaLeaf {
  name: string;
  type: PhysicalType;
  repetition: 0 | 1;
  convertedType?: number;
  logicalType?: LogicalType;
}

export interface Statistics {
  nullCount: number;
  /** PLAIN-encoded bytes (no length prefix), in the column's type order. */
  min?: Uint8Array;
  max?: Uint8Array;
  /** Also write the deprecated min/max fields (only valid for signed-integer orderings). */
  legacy?: boolean;
}

export interface ColumnChunkMeta {
  type: PhysicalType;
  path: string;
  codec: CodecId;
  encodings: number[];
  numValues: number;
  totalUncompressed: number;
  totalCompressed: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  statistics?: Statistics;
}

export interface RowGroupMeta {
  columns: ColumnChunkMeta[];
  numRows: number;
  /** Sum of the chunks' uncompressed sizes (headers included). */
  totalByteSize: number;
  totalCompressedSize: number;
  fileOffset: number;
}

function writeLogicalType(w: CompactWriter, id: number, lt: LogicalType): void {
  w.structBegin(id);
  switch (lt.kind) {
    case 'STRING':
      w.emptyStruct(1);
      break;
    case 'DATE':
      w.emptyStruct(6);
      break;
    case 'TIMESTAMP':
      w.structBegin(8).bool(1, lt.isAdjustedToUTC);
      w.structBegin(2); // TimeUnit union
      w.emptyStruct(lt.unit === 'MILLIS' ? 1 : lt.unit === 'MICROS' ? 2 : 3);
      w.structEnd();
      w.structEnd();
      break;
    case 'INTEGER':
      w.structBegin(10).i8(1, lt.bitWidth).bool(2, lt.isSigned).structEnd();
      break;
  }
  w.structEnd();
}

function writeStatistics(w: CompactWriter, id: number, s: Statistics): void {
  w.structBegin(id);
  if (s.legacy === true && s.max !== undefined && s.min !== undefined) {
    w.binary(1, s.max);
    w.binary(2, s.min);
  }
  w.i64(3, s.nullCount);
  if (s.max !== undefined && s.min !== undefined) {
    w.binary(5, s.max);
    w.binary(6, s.min);
  }
  w.structEnd();
}

/** PageHeader{DATA_PAGE, DataPageHeader} for a v1 data page. */
export function encodeDataPageHeader(
  uncompressedSize: number,
  compressedSize: number,
  numValues: number,
  encoding: number,
): Uint8Array {
  const w = new CompactWriter(48);
  w.i32(1, PageType.DATA_PAGE).i32(2, uncompressedSize).i32(3, compressedSize);
  w.structBegin(5)
    .i32(1, numValues)
    .i32(2, encoding)
    .i32(3, Encoding.RLE)
    .i32(4, Encoding.RLE)
    .structEnd();
  w.stop();
  return w.bytes();
}

/** PageHeader{DICTIONARY_PAGE, DictionaryPageHeader(PLAIN)}. */
export function encodeDictionaryPageHeader(
  uncompressedSize: number,
  compressedSize: number,
  numValues: number,
): Uint8Array {
  const w = new CompactWriter(48);
  w.i32(1, PageType.DICTIONARY_PAGE).i32(2, uncompressedSize).i32(3, compressedSize);
  w.structBegin(7).i32(1, numValues).i32(2, Encoding.PLAIN).structEnd();
  w.stop();
  return w.bytes();
}

export interface FileMeta {
  leaves: SchemaLeaf[];
  numRows: number;
  rowGroups: RowGroupMeta[];
  createdBy: string;
  keyValue?: Array<[string, string]>;
}

export function encodeFileMetaData(meta: FileMeta): Uint8Array {
  const w = new CompactWriter(1024);
  w.i32(1, 1); // version

  // 2: schema — root group then one leaf per column (flat schema, depth-first).
  w.listBegin(2, CType.STRUCT, meta.leaves.length + 1);
  w.elementStructBegin().string(4, 'schema').i32(5, meta.leaves.length).structEnd();
  for (const leaf of meta.leaves) {
    w.elementStructBegin();
    w.i32(1, leaf.type);
    w.i32(3, leaf.repetition);
    w.string(4, leaf.name);
    if (leaf.convertedType !== undefined) w.i32(6, leaf.convertedType);
    if (leaf.logicalType !== undefined) writeLogicalType(w, 10, leaf.logicalType);
    w.structEnd();
  }

  w.i64(3, meta.numRows);

  w.listBegin(4, CType.STRUCT, meta.rowGroups.length);
  meta.rowGroups.forEach((rg, ordinal) => {
    w.elementStructBegin();
    w.listBegin(1, CType.STRUCT, rg.columns.length);
    for (const c of rg.columns) {
      w.elementStructBegin();
      // file_offset is deprecated; 0 means "no ColumnMetaData outside the footer".
      w.i64(2, 0);
      w.structBegin(3);
      w.i32(1, c.type);
      w.listBegin(2, CType.I32, c.encodings.length);
      for (const e of c.encodings) w.elementI32(e);
      w.listBegin(3, CType.BINARY, 1).elementString(c.path);
      w.i32(4, c.codec);
      w.i64(5, c.numValues);
      w.i64(6, c.totalUncompressed);
      w.i64(7, c.totalCompressed);
      w.i64(9, c.dataPageOffset);
      if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
      if (c.statistics !== undefined) writeStatistics(w, 12, c.statistics);
      w.structEnd(); // ColumnMetaData
      w.structEnd(); // ColumnChunk
    }
    w.i64(2, rg.totalByteSize);
    w.i64(3, rg.numRows);
    w.i64(5, rg.fileOffset);
    w.i64(6, rg.totalCompressedSize);
    if (ordinal <= 0x7fff) w.i16(7, ordinal); // i16 in the spec; omitted beyond
    w.structEnd();
  });

  if (meta.keyValue !== undefined && meta.keyValue.length > 0) {
    w.listBegin(5, CType.STRUCT, meta.keyValue.length);
    for (const [k, v] of meta.keyValue) w.elementStructBegin().string(1, k).string(2, v).structEnd();
  }
  w.string(6, meta.createdBy);

  // 7: column_orders — TypeDefinedOrder for every leaf, so readers trust min_value/max_value.
  w.listBegin(7, CType.STRUCT, meta.leaves.length);
  for (let i = 0; i < meta.leaves.length; i++) w.elementStructBegin().emptyStruct(1).structEnd();

  w.stop();
  return w.bytes();
}
