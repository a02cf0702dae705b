import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  makeData,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';

export type Kind = 'int32' | 'int64' | 'float64' | 'bool' | 'date' | 'timestamp' | 'utf8';
export type Value = number | bigint | boolean | string | null;

export interface ColumnDef {
  name: string;
  kind: Kind;
  values: Value[];
}

export function arrowType(kind: Kind): DataType {
  switch (kind) {
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'utf8':
      return new Utf8();
  }
}

export function schemaOf(defs: Array<Pick<ColumnDef, 'name' | 'kind'>>): Schema {
  return new Schema(defs.map((d) => new Field(d.name, arrowType(d.kind), true)));
}

/** Builds Arrow Data by hand (typed arrays + validity bitmap), so tests control the exact buffers. */
export function columnData(kind: Kind, values: Value[], withBitmap = values.some((v) => v === null)): Data {
  const n = values.length;
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (withBitmap) {
    nullBitmap = new Uint8Array(((n + 63) >> 6) << 3);
    values.forEach((v, i) => {
      if (v !== null) nullBitmap![i >> 3]! |= 1 << (i & 7);
      else nullCount++;
    });
  }
  const base = { type: arrowType(kind) as never, length: n, nullCount, nullBitmap };
  switch (kind) {
    case 'int32':
    case 'date':
      return makeData({ ...base, data: Int32Array.from(values, (v) => (v === null ? 0 : Number(v))) });
    case 'int64':
    case 'timestamp':
      return makeData({ ...base, data: BigInt64Array.from(values, (v) => (v === null ? 0n : BigInt(v as bigint))) });
    case 'float64':
      return makeData({ ...base, data: Float64Array.from(values, (v) => (v === null ? 0 : Number(v))) });
    case 'bool': {
      const bits = new Uint8Array(((n + 63) >> 6) << 3);
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ ...base, data: bits });
    }
    case 'utf8': {
      const enc = new TextEncoder();
      const parts = values.map((v) => (v === null ? new Uint8Array(0) : enc.encode(v as string)));
      const offsets = new Int32Array(n + 1);
      let total = 0;
      parts.forEach((p, i) => {
        total += p.length;
        offsets[i + 1] = total;
      });
      const bytes = new Uint8Array(total);
      parts.forEach((p, i) => bytes.set(p, offsets[i]));
      return makeData({ ...base, valueOffsets: offsets, data: bytes });
    }
  }
}

export function makeBatch(defs: ColumnDef[], opts: { bitmapAlways?: boolean } = {}): RecordBatch {
  const schema = schemaOf(defs);
  const n = defs[0]?.values.length ?? 0;
  const children = defs.map((d) =>
    columnData(d.kind, d.values, opts.bitmapAlways === true || d.values.some((v) => v === null)),
  );
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-load-test-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

let instance: DuckDBInstance | undefined;
let conn: DuckDBConnection | undefined;

export async function duck(): Promise<DuckDBConnection> {
  if (conn === undefined) {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  }
  return conn;
}

export function closeDuck(): void {
  conn?.closeSync();
  instance?.closeSync();
  conn = undefined;
  instance = undefined;
}

export async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const c = await duck();
  const r = await c.runAndReadAll(sql);
  return r.getRowObjectsJS() as Array<Record<string, unknown>>;
}

export const sqlPath = (p: string): string => `'${p.replaceAll("'", "''")}'`;

/**
 * Reads `files` with DuckDB, mapping every column to a value comparable with the
 * test input: DATE → days since epoch, TIMESTAMPTZ → epoch microseconds (bigint).
 */
export async function readBack(files: string[], defs: Array<Pick<ColumnDef, 'name' | 'kind'>>): Promise<Value[][]> {
  const cols = defs
    .map((d) => {
      const q = `"${d.name.replaceAll('"', '""')}"`;
      if (d.kind === 'date') return `(${q} - DATE '1970-01-01')::INTEGER AS ${q}`;
      if (d.kind === 'timestamp') return `epoch_us(${q}) AS ${q}`;
      return q;
    })
    .join(', ');
  const list = `[${files.map(sqlPath).join(', ')}]`;
  const rows = await query(
    `SELECT ${cols} FROM read_parquet(${list}, filename = true, file_row_number = true) ORDER BY filename, file_row_number`,
  );
  return defs.map((d) => rows.map((r) => r[d.name] as Value));
}
