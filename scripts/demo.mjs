#!/usr/bin/env node
// The README's demo, on local folders only (no cloud account):
//   1. generate a deterministic CSV (200,000 rows, ~22 MB: Korean text, quoted
//      commas and newlines, timestamps with offsets, int64s, decimals, nulls);
//   2. `sluice extract` it into a raw zone folder, byte for byte, with provenance;
//   3. `sluice transform` the raw copy into Parquet, printing the summary.
// Everything lands under ./demo-out (git-ignored). Re-running replaces it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv } from '../bench/lib/csv-gen.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'packages/cli/bin/sluice.js');
const out = join(repo, 'demo-out');
const rows = Number(process.env.DEMO_ROWS ?? 200_000);

rmSync(join(out, 'source'), { recursive: true, force: true });
mkdirSync(join(out, 'source'), { recursive: true });
const input = join(out, 'source', 'events.csv');
const gen = generateCsv(input, rows);
console.log(`1. generated ${input} (${rows.toLocaleString('en-US')} rows, ${(gen.bytes / 1e6).toFixed(1)} MB)`);

const sluice = (args) => {
  console.log(`\n$ sluice ${args.join(' ')}`);
  execFileSync(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: repo });
};

sluice(['extract', 'demo-out/source/events.csv', '--to', 'demo-out/raw', '--dataset', 'events', '--date', '2026-01-01']);
const rawDir = join(out, 'raw', 'events', 'dt=2026-01-01');
const raw = readdirSync(rawDir).find((f) => f.endsWith('.csv'));
if (!raw) throw new Error(`extract left no CSV in ${rawDir}`);

sluice(['transform', `demo-out/raw/events/dt=2026-01-01/${raw}`, '--out', 'demo-out/parquet/events']);
console.log('\nDone. Parquet is in demo-out/parquet/events/; query it with any Parquet reader, e.g. DuckDB:');
console.log("  SELECT city, count(*), avg(amount) FROM 'demo-out/parquet/events/*.parquet' GROUP BY city;");
