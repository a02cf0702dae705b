import { existsSync } from 'node:fs';
import { readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  Decimal,
  Field,
  Float32,
  Int16,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  TimestampNanosecond,
  Uint8,
  makeData,
} from 'apache-arrow';
import { tableFromArrays, tableFromIPC } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import { openParquetDataset, writeParquetFiles } from '@sluice/load';
import type { ParquetCompression } from '@sluice/load';
import {
  closeDuck,
  makeBatch,
  query,
  readBack,
  removeDir,
  schemaOf,
  sqlPath,
  tempDir,
} from './helpers.js';
import type { ColumnDef, Kind, Value } from './helpers.js';

afterAll(() => closeDuck());

const dirs: string[] = [];
async function newDir(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

async function* iter<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

/** Every supported kind, with nulls, edge values, multibyte text and pre-1970 instants. */
function edgeColumns(): ColumnDef[] {
  return [
    { name: 'i32', kind: 'int32', values: [0, -1, 2147483647, -2147483648, null, 42, null, 7, -99] },
    {
      name: 'i64',
      kind: 'int64',
      values: [9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, null, 0n, 1n, null, -2n],
    },
    { name: 'f64', kind: 'float64', values: [0.1, -0, 1e308, -1e-308, null, -12345.678, 5e-324, null, 3] },
    { name: 'flag', kind: 'bool', values: [true, false, null, true, true, false, null, false, true] },
    { name: 'day', kind: 'date', values: [0, -1, -719162, 2932896, null, 19000, 1, null, -25567] },
    {
      name: 'ts',
      kind: 'timestamp',
      values: [0n, -1n, -62135596800000000n, 253402300799999999n, null, 1700000000123456n, -1000000n, null, 86400000000n],
    },
    { name: 'txt', kind: 'utf8', values: ['', 'a', '서울특별시 강남구', null, 'x'.repeat(100), '😀 emoji', null, '', 'comma, "quote"\nnewline'] },
  ];
}

describe('types and values', () => {
  for (const compression of ['zstd', 'snappy', 'none'] as ParquetCompression[]) {
    test(`every type round-trips through DuckDB exactly (${compression})`, async () => {
      const dir = await newDir();
      const defs = edgeColumns();
      const batch = makeBatch(defs);
      const res = await writeParquetFiles(iter([batch]), batch.schema, { outDir: dir, compression });
      expect(res.rows).toBe(9);
      expect(res.files).toEqual([join(dir, 'part-00000.parquet')]);
      expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));

      const types = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(res.files[0]!)})`);
      expect(types.map((t) => [t.column_name, t.column_type])).toEqual([
        ['i32', 'INTEGER'],
        ['i64', 'BIGINT'],
        ['f64', 'DOUBLE'],
        ['flag', 'BOOLEAN'],
        ['day', 'DATE'],
        ['ts', 'TIMESTAMP WITH TIME ZONE'],
        ['txt', 'VARCHAR'],
      ]);
      const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata(${sqlPath(res.files[0]!)})`);
      const expected = { zstd: 'ZSTD', snappy: 'SNAPPY', none: 'UNCOMPRESSED' }[compression];
      expect(codecs.map((c) => c.compression)).toEqual([expected]);
    });
  }

  test('zstd in the worker thread (compressionThreads: 2) round-trips too', async () => {
    const dir = await newDir();
    const defs = randomColumns(3000, rng(12), 0.2);
    const batch = makeBatch(defs);
    const res = await writeParquetFiles(iter([batch]), batch.schema, {
      outDir: dir,
      compressionThreads: 2,
      rowGroupRows: 500,
      pageSizeBytes: 3000,
    });
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata(${sqlPath(res.files[0]!)})`);
    expect(codecs.map((c) => c.compression)).toEqual(['ZSTD']);
  });

  test('negative zero and extreme doubles keep their bits', async () => {
    const dir = await newDir();
    const defs: ColumnDef[] = [{ name: 'f', kind: 'float64', values: [-0, Infinity, -Infinity, Number.MIN_VALUE] }];
    const batch = makeBatch(defs);
    const res = await writeParquetFiles(iter([batch]), batch.schema, { outDir: dir });
    const rows = await query(`SELECT f, f::VARCHAR AS s, isnan(f) AS n FROM read_parquet(${sqlPath(res.files[0]!)})`);
    expect(Object.is(rows[0]!.f, -0)).toBe(true);
    expect(rows.map((r) => r.f)).toEqual([-0, Infinity, -Infinity, Number.MIN_VALUE]);
    // NaN: written verbatim, excluded from statistics
    const nanDefs: ColumnDef[] = [{ name: 'f', kind: 'float64', values: [NaN, 1, null] }];
    const b2 = makeBatch(nanDefs);
    const dir2 = await newDir();
    const r2 = await writeParquetFiles(iter([b2]), b2.schema, { outDir: dir2 });
    const rows2 = await query(`SELECT isnan(f) AS n, f FROM read_parquet(${sqlPath(r2.files[0]!)})`);
    expect(rows2.map((r) => r.n)).toEqual([true, false, null]);
    const stats = await query(`SELECT stats_min_value AS stats_min, stats_max_value AS stats_max, stats_null_count FROM parquet_metadata(${sqlPath(r2.files[0]!)})`);
    expect(stats[0]).toMatchObject({ stats_min: '1.0', stats_max: '1.0', stats_null_count: 1n });
  });

  test('columns without nulls, with and without a validity bitmap, and all-null columns', async () => {
    for (const bitmapAlways of [false, true]) {
      const dir = await newDir();
      const defs: ColumnDef[] = [
        { name: 'a', kind: 'int32', values: Array.from({ length: 100 }, (_, i) => i - 50) },
        { name: 'b', kind: 'utf8', values: Array.from({ length: 100 }, (_, i) => `v${i}`) },
        { name: 'c', kind: 'bool', values: Array.from({ length: 100 }, (_, i) => i % 3 === 0) },
        { name: 'n', kind: 'int64', values: Array.from({ length: 100 }, () => null) },
        { name: 'ns', kind: 'utf8', values: Array.from({ length: 100 }, () => null) },
      ];
      const batch = makeBatch(defs, { bitmapAlways });
      const res = await writeParquetFiles(iter([batch]), batch.schema, { outDir: dir });
      expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
    }
  });

  test('column statistics: null counts and numeric min/max', async () => {
    const dir = await newDir();
    const defs = edgeColumns();
    const batch = makeBatch(defs);
    const res = await writeParquetFiles(iter([batch]), batch.schema, { outDir: dir });
    const stats = await query(
      `SELECT path_in_schema AS col, stats_min_value AS stats_min, stats_max_value AS stats_max, stats_min AS legacy_min, stats_null_count FROM parquet_metadata(${sqlPath(res.files[0]!)}) ORDER BY column_id`,
    );
    const byCol = Object.fromEntries(stats.map((s) => [s.col, s]));
    expect(byCol.i32).toMatchObject({
      stats_min: '-2147483648',
      stats_max: '2147483647',
      legacy_min: '-2147483648',
      stats_null_count: 2n,
    });
    expect(byCol.f64).toMatchObject({ stats_min: '-12345.678', stats_max: '1e+308', stats_null_count: 2n });
    expect(byCol.i64).toMatchObject({
      stats_min: '-9223372036854775808',
      stats_max: '9223372036854775807',
      stats_null_count: 2n,
    });
    expect(byCol.day).toMatchObject({ stats_min: '0001-01-01', stats_max: '9999-12-31' });
    expect(byCol.txt).toMatchObject({ stats_null_count: 2n });
    // DuckDB prunes row groups with the stats: a filter outside the range still answers correctly.
    const hit = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlPath(res.files[0]!)}) WHERE i32 = 42`);
    expect(hit[0]!.n).toBe(1);
  });

  test('other integer, float and timestamp flavours map to sensible Parquet types', async () => {
    const dir = await newDir();
    const fields = [
      new Field('i8', new Int8(), true),
      new Field('i16', new Int16(), true),
      new Field('u8', new Uint8(), true),
      new Field('f32', new Float32(), true),
      new Field('tms', new TimestampMillisecond('UTC'), true),
      new Field('tns', new TimestampNanosecond(null), true),
    ];
    const schema = new Schema(fields);
    const valid = new Uint8Array(8);
    valid[0] = 0b101;
    const children = [
      makeData({ type: new Int8(), length: 3, nullCount: 1, nullBitmap: valid, data: Int8Array.from([-128, 0, 127]) }),
      makeData({ type: new Int16(), length: 3, nullCount: 1, nullBitmap: valid, data: Int16Array.from([-32768, 0, 32767]) }),
      makeData({ type: new Uint8(), length: 3, nullCount: 1, nullBitmap: valid, data: Uint8Array.from([0, 1, 255]) }),
      makeData({ type: new Float32(), length: 3, nullCount: 1, nullBitmap: valid, data: Float32Array.from([1.5, 0, -2.25]) }),
      makeData({ type: new TimestampMillisecond('UTC'), length: 3, nullCount: 1, nullBitmap: valid, data: BigInt64Array.from([-1n, 0n, 1700000000123n]) }),
      makeData({ type: new TimestampNanosecond(null), length: 3, nullCount: 1, nullBitmap: valid, data: BigInt64Array.from([1n, 0n, 1700000000123456789n]) }),
    ];
    const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: 3, nullCount: 0, children }));
    const res = await writeParquetFiles(iter([batch]), schema, { outDir: dir });
    const f = sqlPath(res.files[0]!);
    const types = await query(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    expect(types.map((t) => t.column_type)).toEqual(['TINYINT', 'SMALLINT', 'UTINYINT', 'FLOAT', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_NS']);
    const rows = await query(`SELECT i8, i16, u8, f32, epoch_ms(tms) AS tms, epoch_ns(tns) AS tns FROM read_parquet(${f})`);
    expect(rows).toEqual([
      { i8: -128, i16: -32768, u8: 0, f32: 1.5, tms: -1n, tns: 1n },
      { i8: null, i16: null, u8: null, f32: null, tms: null, tns: null },
      { i8: 127, i16: 32767, u8: 255, f32: -2.25, tms: 1700000000123n, tns: 1700000000123456789n },
    ]);
  });

  test('Arrow Dictionary<Int32, Utf8> columns (as tableFromArrays makes them) are written as strings', async () => {
    const dir = await newDir();
    const words = ['서울', 'Busan', '', 'x'.repeat(50), null];
    const values = Array.from({ length: 3000 }, (_, i) => words[(i * 7) % words.length]!);
    const table = tableFromArrays({ id: Int32Array.from(values, (_, i) => i), city: values });
    expect(String(table.schema.fields[1]!.type)).toMatch(/^Dictionary</);
    const batches = [table.batches[0]!.slice(0, 1001), table.batches[0]!.slice(1001)];
    const res = await writeParquetFiles(iter(batches), table.schema, { outDir: dir, rowGroupRows: 700, pageSizeBytes: 2000 });
    const f = sqlPath(res.files[0]!);
    const types = await query(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    expect(types.map((t) => t.column_type)).toEqual(['INTEGER', 'VARCHAR']);
    const rows = await query(`SELECT city FROM read_parquet(${f})`);
    expect(rows.map((r) => r.city)).toEqual(values);
  });

  test('unsupported types and mismatched batches fail with clear errors', async () => {
    const dir = await newDir();
    const bad = new Schema([new Field('d', new Decimal(2, 10, 128), true)]);
    await expect(openParquetDataset(bad, { outDir: dir })).rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE' });
    const w = await openParquetDataset(schemaOf([{ name: 'a', kind: 'int32' }]), { outDir: dir });
    const other = makeBatch([{ name: 'a', kind: 'utf8', values: ['x'] }]);
    await expect(w.write(other)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    await w.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['', 'a', 'Seoul', '서울', '부산광역시 해운대구', 'naïve café', '😀', 'x'.repeat(40), 'line\nbreak'];
function randomColumns(n: number, r: () => number, nullRate: number): ColumnDef[] {
  const maybe = <T>(f: () => T): T | null => (r() < nullRate ? null : f());
  const kinds: Kind[] = ['int32', 'int64', 'float64', 'bool', 'date', 'timestamp', 'utf8'];
  return kinds.map((kind) => {
    const values: Value[] = [];
    for (let i = 0; i < n; i++) {
      values.push(
        maybe((): Value => {
          switch (kind) {
            case 'int32':
              return ((r() * 2 ** 32) | 0);
            case 'int64':
              return BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) * 4294967296n + BigInt(Math.floor(r() * 2 ** 32)));
            case 'float64':
              return (r() - 0.5) * 10 ** Math.floor(r() * 20 - 10);
            case 'bool':
              return r() < 0.5;
            case 'date':
              return Math.floor((r() - 0.5) * 200000);
            case 'timestamp':
              return BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1000n + BigInt(Math.floor(r() * 1000));
            case 'utf8':
              return WORDS[Math.floor(r() * WORDS.length)]! + (r() < 0.5 ? String(i) : '');
          }
        }),
      );
    }
    return { name: `c_${kind}`, kind, values };
  });
}

/** Reads a file with a second, independent implementation: arrow-rs (parquet-wasm). */
async function readWithArrowRs(file: string): Promise<{ types: string[]; columns: Value[][] }> {
  const wasmTable = parquetWasm.readParquet(new Uint8Array(await readFile(file)));
  const table = tableFromIPC(wasmTable.intoIPCStream()); // consumes (frees) the wasm table
  const columns = table.schema.fields.map((_, c) => {
    const out: Value[] = [];
    for (const batch of table.batches) {
      const d = batch.data.children[c] as Data;
      const vec = batch.getChildAt(c)!;
      for (let i = 0; i < d.length; i++) {
        if (!vec.isValid(i)) out.push(null);
        else if (ArrayBuffer.isView(d.values) && !(d.values instanceof Uint8Array)) {
          out.push((d.values as unknown as ArrayLike<number | bigint>)[i]!);
        } else out.push(vec.get(i) as Value);
      }
    }
    return out;
  });
  return { types: table.schema.fields.map((f) => String(f.type)), columns };
}

describe('a second reader (arrow-rs via parquet-wasm)', () => {
  for (const compression of ['zstd', 'snappy', 'none'] as ParquetCompression[]) {
    test(`reads every type back exactly (${compression})`, async () => {
      const dir = await newDir();
      const defs = [...edgeColumns(), ...randomColumns(3000, rng(21), 0.2).map((d) => ({ ...d, values: d.values.slice(0, 9) }))];
      const batch = makeBatch(defs);
      const res = await writeParquetFiles(iter([batch.slice(0, 4), batch.slice(4)]), batch.schema, {
        outDir: dir,
        compression,
        rowGroupRows: 5,
      });
      const got = await readWithArrowRs(res.files[0]!);
      expect(got.types.slice(0, 7)).toEqual([
        'Int32',
        'Int64',
        'Float64',
        'Bool',
        'Date32<DAY>',
        'Timestamp<MICROSECOND, UTC>',
        'Utf8',
      ]);
      expect(got.columns).toEqual(defs.map((d) => d.values));
    });
  }
});

describe('batch shapes, row groups and pages', () => {
  test('sliced batches (unaligned offsets) round-trip', async () => {
    const dir = await newDir();
    const r = rng(7);
    const defs = randomColumns(1000, r, 0.3);
    const whole = makeBatch(defs);
    const cuts = [0, 3, 11, 64, 65, 200, 333, 334, 999, 1000];
    const slices: RecordBatch[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) slices.push(whole.slice(cuts[i]!, cuts[i + 1]!));
    // also a slice of a slice
    const nested = whole.slice(5, 900).slice(17, 400);
    const res = await writeParquetFiles(iter([...slices, nested]), whole.schema, {
      outDir: dir,
      rowGroupRows: 100,
    });
    expect(res.rows).toBe(1000 + 383);
    const expected = defs.map((d) => [...d.values, ...d.values.slice(22, 405)]);
    expect(await readBack(res.files, defs)).toEqual(expected);
  });

  test('row groups are cut at rowGroupRows across coalesced and split batches', async () => {
    const dir = await newDir();
    const r = rng(11);
    const defs = randomColumns(3500, r, 0.1);
    const whole = makeBatch(defs);
    const batches = [whole.slice(0, 777), whole.slice(777, 1554), whole.slice(1554, 3500)];
    const res = await writeParquetFiles(iter(batches), whole.schema, { outDir: dir, rowGroupRows: 1000 });
    const groups = await query(
      `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata(${sqlPath(res.files[0]!)}) GROUP BY ALL ORDER BY 1`,
    );
    expect(groups.map((g) => Number(g.n))).toEqual([1000, 1000, 1000, 500]);
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
  });

  test('small pages: many pages per column chunk, oversized values get their own page', async () => {
    const dir = await newDir();
    const r = rng(3);
    const defs = randomColumns(2000, r, 0.2);
    defs.push({ name: 'big', kind: 'utf8', values: Array.from({ length: 2000 }, (_, i) => (i % 500 === 0 ? 'y'.repeat(5000) : `s${i}`)) });
    const batch = makeBatch(defs);
    const res = await writeParquetFiles(iter([batch]), batch.schema, { outDir: dir, pageSizeBytes: 1000 });
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
  });

  test('randomised shapes agree with DuckDB', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const dir = await newDir();
      const r = rng(seed * 101);
      const n = 1 + Math.floor(r() * 3000);
      const defs = randomColumns(n, r, [0, 0.05, 0.5, 0.95][seed % 4]!);
      const whole = makeBatch(defs, { bitmapAlways: seed % 2 === 0 });
      const batches: RecordBatch[] = [];
      for (let at = 0; at < n; ) {
        const len = Math.min(n - at, 1 + Math.floor(r() * 700));
        batches.push(whole.slice(at, at + len));
        at += len;
      }
      const res = await writeParquetFiles(iter(batches), whole.schema, {
        outDir: dir,
        rowGroupRows: 1 + Math.floor(r() * 1500),
        maxRowsPerFile: 500 + Math.floor(r() * 3000),
        pageSizeBytes: 200 + Math.floor(r() * 5000),
        compression: (['zstd', 'snappy', 'none'] as const)[seed % 3]!,
        compressionThreads: seed % 2 === 0 ? 2 : 0,
      });
      expect(res.rows).toBe(n);
      expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
    }
  });

  test('backpressure: a tiny in-flight bound still writes everything in order', async () => {
    const dir = await newDir();
    const r = rng(5);
    const defs = randomColumns(5000, r, 0.1);
    const whole = makeBatch(defs);
    const batches = Array.from({ length: 10 }, (_, i) => whole.slice(i * 500, i * 500 + 500));
    const res = await writeParquetFiles(iter(batches), whole.schema, {
      outDir: dir,
      rowGroupRows: 700,
      pageSizeBytes: 2000,
      maxInFlightBytes: 1,
    });
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
  });
});

describe('files, rotation and the commit protocol', () => {
  test('rotation by maxRowsPerFile', async () => {
    const dir = await newDir();
    const defs = randomColumns(2600, rng(9), 0.1);
    const whole = makeBatch(defs);
    const res = await writeParquetFiles(iter([whole.slice(0, 1300), whole.slice(1300)]), whole.schema, {
      outDir: dir,
      maxRowsPerFile: 1000,
      rowGroupRows: 400,
    });
    expect(res.files).toEqual([0, 1, 2].map((i) => join(dir, `part-0000${i}.parquet`)));
    const counts = await query(
      `SELECT parse_filename(filename) AS f, count(*)::INTEGER AS n FROM read_parquet(${sqlPath(join(dir, '*.parquet'))}, filename = true) GROUP BY ALL ORDER BY 1`,
    );
    expect(counts).toEqual([
      { f: 'part-00000.parquet', n: 1000 },
      { f: 'part-00001.parquet', n: 1000 },
      { f: 'part-00002.parquet', n: 600 },
    ]);
    const groups = await query(
      `SELECT parse_filename(file_name) AS f, row_group_id AS g, any_value(row_group_num_rows)::INTEGER AS n FROM parquet_metadata(${sqlPath(join(dir, '*.parquet'))}) GROUP BY ALL ORDER BY 1, 2`,
    );
    expect(groups.map((g) => g.n)).toEqual([400, 400, 200, 400, 400, 200, 400, 200]);
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
    const { statSync } = await import('node:fs');
    expect(res.bytes).toBe(res.files.reduce((a, f) => a + statSync(f).size, 0));
  });

  test('onBatchEncoded: a batch is reported once fully encoded, and recycling it then is safe', async () => {
    const dir = await newDir();
    const defs = randomColumns(2000, rng(14), 0.2);
    const batches = Array.from({ length: 4 }, (_, i) => makeBatch(defs.map((d) => ({ ...d, values: d.values.slice(i * 500, i * 500 + 500) }))));
    const done: number[] = [];
    const w = await openParquetDataset(batches[0]!.schema, {
      outDir: dir,
      rowGroupRows: 1200,
      onBatchEncoded: (b) => {
        done.push(batches.indexOf(b));
        // Recycle as a reader would: scribble over every buffer of the batch.
        for (const d of b.data.children) {
          const v = d.values as ArrayBufferView;
          new Uint8Array(v.buffer, v.byteOffset, v.byteLength).fill(0x5a);
          d.nullBitmap?.fill(0);
        }
      },
    });
    await w.write(batches[0]!);
    await w.write(batches[1]!);
    expect(done).toEqual([]); // 1000 rows pending, row group not full
    await w.write(batches[2]!);
    expect(done).toEqual([0, 1]); // first row group (1200 rows) used up batches 0 and 1
    await w.write(batches[3]!);
    expect(done).toEqual([0, 1]);
    const res = await w.commit();
    expect(done).toEqual([0, 1, 2, 3]);
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
  });

  test('writes issued without awaiting each one are applied in order', async () => {
    const dir = await newDir();
    const defs = randomColumns(2000, rng(13), 0.1);
    const whole = makeBatch(defs);
    const w = await openParquetDataset(whole.schema, { outDir: dir, rowGroupRows: 300 });
    await Promise.all([0, 1, 2, 3].map((i) => w.write(whole.slice(i * 500, i * 500 + 500))));
    const res = await w.commit();
    expect(await readBack(res.files, defs)).toEqual(defs.map((d) => d.values));
    await expect(w.commit()).rejects.toMatchObject({ code: 'WRITER_CLOSED' });
  });

  test('zero rows still publishes one readable file with the schema', async () => {
    const dir = await newDir();
    const schema = schemaOf(edgeColumns());
    const res = await writeParquetFiles(iter<RecordBatch>([]), schema, { outDir: dir });
    expect(res).toEqual({ files: [join(dir, 'part-00000.parquet')], rows: 0, bytes: expect.any(Number) });
    const f = sqlPath(res.files[0]!);
    const types = await query(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    expect(types.map((t) => t.column_type)).toEqual([
      'INTEGER', 'BIGINT', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR',
    ]);
    expect((await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${f})`))[0]!.n).toBe(0);
    // empty batches change nothing
    const dir2 = await newDir();
    const empty = makeBatch(edgeColumns().map((d) => ({ ...d, values: [] })));
    const res2 = await writeParquetFiles(iter([empty, empty]), schema, { outDir: dir2 });
    expect(res2.rows).toBe(0);
    expect(res2.files).toHaveLength(1);
  });

  test('commit replaces the previous run, keeps unrelated files, leaves no staging', async () => {
    const dir = await newDir();
    const defs = randomColumns(3000, rng(1), 0.1);
    const whole = makeBatch(defs);
    const first = await writeParquetFiles(iter([whole]), whole.schema, { outDir: dir, maxRowsPerFile: 1000 });
    expect(first.files).toHaveLength(3);
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await writeFile(join(dir, 'other-00000.parquet'), 'another prefix: not ours');
    const small = whole.slice(0, 10);
    const second = await writeParquetFiles(iter([small]), whole.schema, { outDir: dir, maxRowsPerFile: 1000 });
    expect(second.files).toEqual([join(dir, 'part-00000.parquet')]);
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'other-00000.parquet', 'part-00000.parquet']);
    expect(await readBack(second.files, defs)).toEqual(defs.map((d) => d.values.slice(0, 10)));
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  test('abort leaves the previous output intact and removes staging', async () => {
    const dir = await newDir();
    const defs = randomColumns(500, rng(2), 0.1);
    const whole = makeBatch(defs);
    const first = await writeParquetFiles(iter([whole]), whole.schema, { outDir: dir });
    const before = await readFile(first.files[0]!);

    const w = await openParquetDataset(whole.schema, { outDir: dir, rowGroupRows: 50, maxRowsPerFile: 100 });
    await w.write(whole.slice(0, 300));
    const during = await readdir(dir);
    expect(during.filter((f) => f.startsWith('_staging-'))).toHaveLength(1);
    expect(during.filter((f) => f.endsWith('.parquet'))).toEqual(['part-00000.parquet']);
    const staged = await readdir(join(dir, during.find((f) => f.startsWith('_staging-'))!));
    expect(staged.length).toBeGreaterThan(0);
    expect(staged.every((f) => f.endsWith('.parquet.tmp'))).toBe(true);
    await w.abort();
    expect(await readdir(dir)).toEqual(['part-00000.parquet']);
    expect((await readFile(first.files[0]!)).equals(before)).toBe(true);
    await expect(w.write(whole)).rejects.toMatchObject({ code: 'WRITER_CLOSED' });
  });

  test('writeParquetFiles aborts when the source fails', async () => {
    const dir = await newDir();
    const defs = randomColumns(100, rng(4), 0.1);
    const whole = makeBatch(defs);
    await writeParquetFiles(iter([whole]), whole.schema, { outDir: dir });
    async function* failing(): AsyncGenerator<RecordBatch> {
      yield whole;
      yield whole;
      throw new Error('source broke');
    }
    await expect(writeParquetFiles(failing(), whole.schema, { outDir: dir, rowGroupRows: 10 })).rejects.toThrow('source broke');
    expect(await readdir(dir)).toEqual(['part-00000.parquet']);
    expect(await readBack([join(dir, 'part-00000.parquet')], defs)).toEqual(defs.map((d) => d.values));
  });

  test('custom prefix, created outDir, and bad options', async () => {
    const base = await newDir();
    const dir = join(base, 'nested', 'out');
    const defs = randomColumns(10, rng(8), 0);
    const whole = makeBatch(defs);
    const res = await writeParquetFiles(iter([whole]), whole.schema, { outDir: dir, filePrefix: 'cities' });
    expect(res.files).toEqual([join(dir, 'cities-00000.parquet')]);
    expect(existsSync(res.files[0]!)).toBe(true);
    await expect(openParquetDataset(whole.schema, { outDir: dir, rowGroupRows: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(openParquetDataset(whole.schema, { outDir: dir, filePrefix: '../x' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(
      openParquetDataset(whole.schema, { outDir: dir, compression: 'lz4' as ParquetCompression }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
