/**
 * The `sluice transform` contract: flags, exit codes, the --json summary,
 * rejects, policies, output layout — run as the built binary, output read back
 * with DuckDB.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { query, readParquet } from './support/duckdb.js';
import { BIN, FIXTURES, runCli } from './support/run-cli.js';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const work = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(work, `out-${++n}`);
const csv = (name: string) => join(FIXTURES, 'csv', name);

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

function readRejects(out: string): Record<string, unknown>[] {
  const dir = join(out, '_rejects');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function expectAccounting(s: Record<string, unknown>) {
  expect(s.rows_in).toBe((s.rows_out as number) + (s.rows_rejected as number));
}

describe('usage', () => {
  it('prints help with exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('transform');
    const t = await runCli(['transform', '--help']);
    expect(t.code).toBe(0);
    for (const flag of ['--out', '--json', '--all-text', '--delimiter', '--encoding', '--schema', '--on-error', '--max-reject-ratio', '--batch-rows', '--max-rows-per-file']) {
      expect(t.stdout).toContain(flag);
    }
  });

  it.each([
    [['transform', 'x.csv']],
    [['transform', 'x.csv', '--out', 'o', '--on-error', 'explode']],
    [['transform', 'x.csv', '--out', 'o', '--max-reject-ratio', '2']],
    [['transform', 'x.csv', '--out', 'o', '--batch-rows', '0']],
    [['transform', 'x.csv', '--out', 'o', '--bogus']],
    [['transform', 'x.csv', '--out', 'o', '--delimiter', ',,']],
    [['transform', 'x.csv', '--out', 'o', '--encoding', 'klingon']],
    [['nope']],
  ])('exits 2 on bad usage: %j', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
  });

  it('re-executes itself with its memory settings (MALLOC_ARENA_MAX, small V8 young generation), same PID, exit codes kept', async () => {
    // Read the running process from /proc while it waits on stdin.
    const inspect = async (env: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, [BIN, 'transform', '-', '--out', outDir(), '--json'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      // After the re-exec the same PID shows the new command line; without it, give up after ~1.5 s.
      let cmdline = '';
      for (let i = 0; i < 60 && !cmdline.includes('--max-semi-space-size'); i++) {
        await new Promise((r) => setTimeout(r, 25));
        try {
          cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
        } catch {
          /* not yet */
        }
      }
      const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
      child.stdin.end('a\n1\n');
      const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
      return { code, args: cmdline.split('\0'), environ };
    };
    const on = await inspect({ SLUICE_NO_REEXEC: '' });
    expect(on.code).toBe(0);
    expect(on.args).toContain('--max-semi-space-size=1');
    expect(on.environ).toContain('MALLOC_ARENA_MAX=2');
    const off = await inspect({ SLUICE_NO_REEXEC: '1' });
    expect(off.code).toBe(0);
    expect(off.args).not.toContain('--max-semi-space-size=1');
    expect((await runCli(['transform', '-'])).code).toBe(2);
  });

  it('exits 1 with a one-line error for a missing input', async () => {
    const r = await runCli(['transform', join(work, 'missing.csv'), '--out', outDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/missing\.csv/);
  });
});

describe('summary and layout', () => {
  it('prints the --json summary as the last stdout line', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('basic.csv'), '--out', out, '--json']);
    expect(r.code).toBe(0);
    const s = r.json!;
    for (const k of ['rows_in', 'rows_out', 'rows_rejected', 'files', 'bytes_in', 'peak_rss_bytes', 'duration_ms']) expect(s).toHaveProperty(k);
    expect(s.rows_in).toBe(4);
    expect(s.bytes_in).toBe(readFileSync(csv('basic.csv')).length);
    expect(s.peak_rss_bytes).toBeGreaterThan(10 << 20);
    expectAccounting(s);
    const files = s.files as string[];
    expect(files).toHaveLength(1);
    expect(existsSync(files[0]!)).toBe(true);
    // Nothing but the published data ends in .parquet.
    expect(walk(out).filter((f) => f.endsWith('.parquet'))).toEqual(['part-00000.parquet']);
  });

  it('prints a human summary without --json and no progress bar when stderr is not a TTY', async () => {
    const r = await runCli(['transform', csv('basic.csv'), '--out', outDir()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 rows written/);
    expect(r.stderr).toBe('');
  });

  it('draws a progress bar on stderr when it is a terminal, and none with --json', async () => {
    const big = join(work, 'progress.csv');
    writeFileSync(big, 'id,v\n' + Array.from({ length: 300_000 }, (_, i) => `${i},${i % 97}`).join('\n') + '\n');
    // `script` runs the command under a pseudo-terminal, as an interactive shell would.
    const tty = async (extra: string) => {
      const cmd = `"${process.execPath}" "${BIN}" transform "${big}" --out "${outDir()}" ${extra}`;
      const { stdout } = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], { maxBuffer: 16 << 20 });
      return stdout;
    };
    const withBar = await tty('');
    expect(withBar).toMatch(/\d+% \| [\d.]+ (KiB|MiB)\/[\d.]+ (KiB|MiB) \| [\d,]+ rows\/s/);
    expect(withBar).toMatch(/300000 rows written/);
    const json = await tty('--json');
    expect(json).not.toMatch(/rows\/s/);
  });

  it('rotates files with --max-rows-per-file and a re-run replaces its own output', async () => {
    const out = outDir();
    const big = join(work, 'rows2500.csv');
    writeFileSync(big, 'id,v\n' + Array.from({ length: 2500 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n');
    const r1 = await runCli(['transform', big, '--out', out, '--json', '--max-rows-per-file', '1000', '--batch-rows', '500']);
    expect(r1.code).toBe(0);
    expect(r1.json!.files).toHaveLength(3);
    const r2 = await runCli(['transform', big, '--out', out, '--json']);
    expect(r2.code).toBe(0);
    expect(r2.json!.files).toHaveLength(1);
    expect(walk(out).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    const [c] = await query(`SELECT count(*)::INTEGER AS n, sum(v)::BIGINT AS s FROM read_parquet('${join(out, '**/*.parquet')}')`);
    expect(c).toEqual({ n: 2500, s: String(2499 * 2500) });
  });

  it('reads stdin (-) and gzip input', async () => {
    const data = readFileSync(csv('basic.csv'));
    const out1 = outDir();
    const r1 = await runCli(['transform', '-', '--out', out1, '--json'], { stdin: data });
    expect(r1.code).toBe(0);
    expect(r1.json!.rows_out).toBe(4);
    const gz = join(work, 'basic.csv.gz');
    writeFileSync(gz, gzipSync(data));
    const out2 = outDir();
    const r2 = await runCli(['transform', gz, '--out', out2, '--json']);
    expect(r2.code).toBe(0);
    expect(r2.json!.bytes_in).toBe(readFileSync(gz).length);
    expect(await readParquet(join(out2, '*.parquet'))).toEqual(await readParquet(join(out1, '*.parquet')));
  });

  it('keeps every column as text with --all-text', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('basic.csv'), '--out', out, '--json', '--all-text']);
    expect(r.code).toBe(0);
    expect((r.json!.columns as { type: string }[]).every((c) => c.type === 'text')).toBe(true);
    const rows = await readParquet(join(out, '*.parquet'));
    expect(rows[0]).toMatchObject({ id: '1', price: '12.50', seen_at: '2024-03-01T09:00:00Z' });
  });
});

describe('bad input', () => {
  it('quarantines ragged rows with line, code, message and raw', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('bad-ragged.csv'), '--out', out, '--json', '--max-reject-ratio', '0.6']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 4, rows_out: 2, rows_rejected: 2 });
    expect(readRejects(out)).toEqual([
      expect.objectContaining({ line: 3, code: 'RAGGED_ROW', raw: '4,5', message: expect.stringContaining('expected 3 fields, found 2') }),
      expect.objectContaining({ line: 4, code: 'RAGGED_ROW', raw: '6,7,8,9' }),
    ]);
    expect(await readParquet(join(out, '*.parquet'))).toEqual([
      { a: 1, b: 2, c: 3 },
      { a: 10, b: 11, c: 12 },
    ]);
  });

  it('fails over --max-reject-ratio: exit 1, no Parquet, rejects kept, summary still printed', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('bad-ragged.csv'), '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/max-reject-ratio/);
    expect(walk(out).filter((f) => f.endsWith('.parquet'))).toEqual([]);
    expect(readRejects(out)).toHaveLength(2);
    expectAccounting(r.json!);
  });

  it('--on-error fail stops at the first bad record and leaves no Parquet', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('bad-ragged.csv'), '--out', out, '--on-error', 'fail']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 3/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(walk(out).filter((f) => f.endsWith('.parquet'))).toEqual([]);
  });

  it('--on-error skip counts bad rows but writes no reject file', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('bad-ragged.csv'), '--out', out, '--json', '--on-error', 'skip', '--max-reject-ratio', '1']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 4, rows_out: 2, rows_rejected: 2 });
    expect(existsSync(join(out, '_rejects'))).toBe(false);
  });

  it('rejects the line of an unclosed quote and keeps the rows after it', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('bad-unclosed-quote.csv'), '--out', out, '--json', '--max-reject-ratio', '0.5']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 4, rows_out: 3, rows_rejected: 1 });
    expect(readRejects(out)).toEqual([expect.objectContaining({ line: 3, code: 'UNCLOSED_QUOTE', raw: '2,"never closed' })]);
    expect(await readParquet(join(out, '*.parquet'), 'a')).toEqual([
      { a: 1, b: 'ok' },
      { a: 3, b: 'fine' },
      { a: 4, b: 'also fine' },
    ]);
  });

  it('rejects an uncastable value in a pinned column with its line', async () => {
    const out = outDir();
    const r = await runCli([
      'transform', csv('bad-uncastable.csv'), '--out', out, '--json', '--max-reject-ratio', '0.5',
      '--schema', join(FIXTURES, 'schemas', 'uncastable-pinned.json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 4, rows_out: 3, rows_rejected: 1 });
    const [rej] = readRejects(out);
    expect(rej).toMatchObject({ line: 4, code: 'CAST_FAILED', raw: '3,n/a-ish' });
    expect(rej!.message).toMatch(/amount/);
    expect(await readParquet(join(out, '*.parquet'), 'id')).toEqual([
      { id: '1', amount: 10 },
      { id: '2', amount: 12.5 },
      { id: '4', amount: 14 },
    ]);
  });

  it('rejects a record over --max-record-bytes and goes on', async () => {
    const out = outDir();
    const f = join(work, 'long-record.csv');
    writeFileSync(f, `a,b\n1,short\n2,${'x'.repeat(500)}\n3,short\n`);
    const r = await runCli(['transform', f, '--out', out, '--json', '--max-record-bytes', '256', '--max-reject-ratio', '0.5']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 3, rows_out: 2, rows_rejected: 1 });
    expect(readRejects(out)[0]).toMatchObject({ line: 3, code: 'RECORD_TOO_LARGE' });
  });

  it('an unterminated quote cannot swallow a large file into memory', async () => {
    const out = outDir();
    const f = join(work, 'runaway-quote.csv');
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i},row ${i} with some text`);
    rows[10] = '10,"runaway';
    writeFileSync(f, 'id,text\n' + rows.join('\n') + '\n');
    const r = await runCli(['transform', f, '--out', out, '--json', '--max-record-bytes', '1MiB']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 200_000, rows_out: 199_999, rows_rejected: 1 });
    expect(readRejects(out)[0]).toMatchObject({ line: 12, code: 'RECORD_TOO_LARGE', raw_truncated: true });
    expect(r.json!.peak_rss_bytes as number).toBeLessThan(400 << 20);
  });

  it('reads a headerless file whose first record is malformed, rejecting that record', async () => {
    const out = outDir();
    const r = await runCli(['transform', '-', '--out', out, '--json', '--no-header', '--max-reject-ratio', '0.5'], { stdin: 'a"b,c\n1,2\n3,4\n' });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 3, rows_out: 2, rows_rejected: 1 });
    expect(readRejects(out)).toEqual([expect.objectContaining({ line: 1, code: 'INVALID_OPENING_QUOTE', raw: 'a"b,c' })]);
  });

  it('fails clearly on an empty file', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('empty.csv'), '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/empty/);
    expect(walk(out).filter((f) => f.endsWith('.parquet'))).toEqual([]);
  });

  it('writes a readable zero-row file for a header-only CSV', async () => {
    const out = outDir();
    const r = await runCli(['transform', csv('header-only.csv'), '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 0, rows_out: 0, rows_rejected: 0 });
    expect(await readParquet(join(out, '*.parquet'))).toEqual([]);
  });

  it('fails with advice when UTF-8 input is really CP949', async () => {
    const r = await runCli(['transform', csv('cp949.csv'), '--out', outDir(), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--encoding/);
  });
});

describe('csv-parse fallback for other dialects', () => {
  it('reads single quotes and comment lines through csv-parse, with rejects and line numbers', async () => {
    const out = outDir();
    const r = await runCli([
      'transform', join(FIXTURES, 'csv-dialects', 'single-quote-comments.csv'), '--out', out, '--json',
      '--quote', "'", '--comment', '#', '--max-reject-ratio', '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: 4, rows_out: 2, rows_rejected: 2, delimiter: ';' });
    expect(await readParquet(join(out, '*.parquet'), 'id')).toEqual([
      { id: 1, name: "O'Brien; Pat", amount: 10.5 },
      { id: 2, name: 'multi\nline', amount: 11 },
    ]);
    expect(readRejects(out)).toEqual([
      expect.objectContaining({ line: 7, code: 'RAGGED_ROW', raw: '3;x' }),
      expect.objectContaining({ line: 8, code: 'UNCLOSED_QUOTE' }),
    ]);
  });

  it('reads backslash escapes with --escape', async () => {
    const out = outDir();
    const r = await runCli(['transform', join(FIXTURES, 'csv-dialects', 'backslash-escape.csv'), '--out', out, '--json', '--escape', '\\']);
    expect(r.code).toBe(0);
    expect(await readParquet(join(out, '*.parquet'), 'id')).toEqual([
      { id: 1, name: 'say "hi"' },
      { id: 2, name: 'back\\slash' },
    ]);
  });
});

describe('late surprises', () => {
  // Fixed-width rows, so the line of a byte offset is known: 1,000,000 rows of
  // "1234,0000001" (13 bytes with LF). The odd value sits between the reader's
  // sample windows (24 windows of 64 KiB spread after a 1 MiB head), as in
  // GeoNames' admin codes that look numeric for thousands of rows.
  const header = 'code,n\n';
  const rowCount = 1_000_000;
  const size = header.length + rowCount * 13;
  const head = 1 << 20;
  const target = head + Math.floor(((size - head) * 12) / 25) + (64 << 10) + 100_000;
  const oddRow = Math.floor((target - header.length) / 13);
  const parts: string[] = [header];
  for (let i = 0; i < rowCount; i++) {
    const code = i === oddRow ? 'BRCX' : String(1000 + (i % 9000));
    parts.push(`${code},${String(i).padStart(7, '0')}\n`);
  }
  const text = parts.join('');
  const oddLine = oddRow + 2;

  it('widens a column the sample got wrong instead of losing the row (seekable file)', async () => {
    const f = join(work, 'late.csv');
    writeFileSync(f, text);
    const out = outDir();
    const r = await runCli(['transform', f, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: rowCount, rows_out: rowCount, rows_rejected: 0 });
    expect((r.json!.columns as { name: string; type: string }[])[0]).toEqual({ name: 'code', type: 'text' });
    expect(r.stderr).toContain(`line ${oddLine} holds "BRCX"`);
    const [row] = await query(`SELECT code FROM read_parquet('${join(out, '*.parquet')}') WHERE n = ${oddRow}`);
    expect(row).toEqual({ code: 'BRCX' });
    // No leftovers from the abandoned first pass.
    expect(walk(out).filter((p) => p.endsWith('.parquet'))).toHaveLength(1);
    expect(existsSync(join(out, '_rejects'))).toBe(false);
  });

  it('rejects the value with its line when the input cannot be re-read (stdin)', async () => {
    const out = outDir();
    const r = await runCli(['transform', '-', '--out', out, '--json'], { stdin: text });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ rows_in: rowCount, rows_out: rowCount - 1, rows_rejected: 1 });
    const [rej] = readRejects(out);
    expect(rej).toMatchObject({ line: oddLine, code: 'CAST_FAILED', raw: `BRCX,${String(oddRow).padStart(7, '0')}` });
    expect(rej!.message).toMatch(/--schema/);
  });
});
