/**
 * Golden tests: fixtures/csv/* → `sluice transform` (the built binary) →
 * Parquet → read back by DuckDB → compared with fixtures/expected/*.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeParquet, readParquet } from './support/duckdb.js';
import { FIXTURES, runCli } from './support/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'sluice-golden-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Expected {
  input: string;
  args: string[];
  types: Record<string, string>;
  rows: Record<string, unknown>[];
}

const cases = readdirSync(join(FIXTURES, 'expected'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f.replace(/\.json$/, ''), expected: JSON.parse(readFileSync(join(FIXTURES, 'expected', f), 'utf8')) as Expected }));

describe('golden fixtures read back by DuckDB', () => {
  it('has golden cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const { name, expected } of cases) {
    it(`${name} (${expected.input} ${expected.args.join(' ')})`, async () => {
      const out = join(work, name);
      const res = await runCli(['transform', join(FIXTURES, 'csv', expected.input), '--out', out, '--json', ...expected.args]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const s = res.json!;
      expect(s.rows_in).toBe(expected.rows.length);
      expect(s.rows_out).toBe(expected.rows.length);
      expect(s.rows_rejected).toBe(0);
      expect((s.files as string[]).length).toBeGreaterThan(0);
      expect(await describeParquet(join(out, '**/*.parquet'))).toEqual(expected.types);
      expect(await readParquet(join(out, '**/*.parquet'))).toEqual(expected.rows);
    });
  }
});
