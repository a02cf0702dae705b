/**
 * sluice and DuckDB, reading the same generated CSV (the benchmark's generator:
 * Korean text, quoted commas/quotes/newlines, timestamps with Z and +09:00,
 * int64s, decimals, nulls), must produce the same table, row for row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain ESM benchmark helper without type declarations
import { generateCsv } from '../../../bench/lib/csv-gen.mjs';
import { describeParquet, query } from './support/duckdb.js';
import { runCli } from './support/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'sluice-agree-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('agreement with DuckDB read_csv', () => {
  it('writes exactly the rows DuckDB reads from the same CSV', async () => {
    const csv = join(work, 'gen.csv');
    (generateCsv as (path: string, rows: number) => unknown)(csv, 30_000);
    const out = join(work, 'out');
    const r = await runCli(['transform', csv, '--out', out, '--json', '--batch-rows', '4096']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 30_000, rows_out: 30_000, rows_rejected: 0 });
    expect(await describeParquet(join(out, '*.parquet'))).toEqual({
      id: 'INTEGER', created_at: 'TIMESTAMP WITH TIME ZONE', event_date: 'DATE', city: 'VARCHAR', qty: 'INTEGER',
      big_value: 'BIGINT', amount: 'DOUBLE', score: 'DOUBLE', is_active: 'BOOLEAN', note: 'VARCHAR', code: 'VARCHAR',
    });
    const ours = `read_parquet('${join(out, '*.parquet')}')`;
    const theirs = `read_csv('${csv}')`;
    const cols = 'id, created_at, event_date, city, qty, big_value, amount, score, is_active, note, code';
    const [a] = await query(`SELECT count(*)::INTEGER AS n FROM (SELECT ${cols} FROM ${ours} EXCEPT ALL SELECT ${cols} FROM ${theirs})`);
    const [b] = await query(`SELECT count(*)::INTEGER AS n FROM (SELECT ${cols} FROM ${theirs} EXCEPT ALL SELECT ${cols} FROM ${ours})`);
    expect(a).toEqual({ n: 0 });
    expect(b).toEqual({ n: 0 });
  });
});
