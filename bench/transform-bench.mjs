#!/usr/bin/env node
// sluice transform benchmark: `npm run bench` (= node bench/transform-bench.mjs).
//
// Generates a deterministic ~80 MB CSV (see bench/lib/csv-gen.mjs for the exact
// columns) and a 10x one into a fresh temp dir, then runs, each as its own child
// process and N times per file (alternating the tools):
//   sluice: node packages/cli/bin/sluice.js transform <csv> --out <dir> --json
//   DuckDB: node bench/lib/duckdb-copy.mjs <csv> <out.parquet>
//           (threads=1, COPY (SELECT * FROM read_csv(..)) TO .. (FORMAT parquet, COMPRESSION zstd))
// Wall time = parent's hrtime from spawn() to the child's 'exit'.
// Peak RSS  = whole process tree, sampled from /proc (see bench/lib/rss-sampler.mjs).
// It prints a markdown table of medians plus the target ratios. It exits 0 when
// every run worked (even if a target is missed - this is a report) and 1 when a
// tool failed or produced the wrong row count.
//
// Two benchmarks must not share the 2 cores; run it as
//   flock /tmp/sluice-bench.lock npm run bench
//
// Flags:
//   --runs N        runs per tool and file, median reported (default 3; 0 = only generate/describe)
//   --quick         only the base (~80 MB) file, no 10x file
//   --rows N        rows in the base file (default 720000 = ~80 MB); the big file has 10x
//   --only T        only one tool: sluice | duckdb
//   --describe      print DuckDB's DESCRIBE of each generated file and check DuckDB's
//                   counts/sums against the generator's (fails loudly on a mismatch)
//   --out-md PATH   also write the markdown report to PATH
//   --keep          keep the temp dir and the generated CSVs (path printed) instead of deleting them
//   --interval MS   RSS sampling interval (default 10)
//   --timeout S     kill a run after S seconds (default 1800)
//   --seed N        PRNG seed (default 20260422)
//   --sluice-arg A  extra argument appended to the sluice command (repeatable), e.g.
//                   --sluice-arg --batch-rows --sluice-arg 65536
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv, COLUMNS, EXPECTED_TYPES } from './lib/csv-gen.mjs';
import { sampleTree } from './lib/rss-sampler.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SLUICE_BIN = path.join(ROOT, 'packages/cli/bin/sluice.js');
const DUCKDB_CHILD = path.join(HERE, 'lib/duckdb-copy.mjs');

const DEFAULT_ROWS = 720_000; // ~112 bytes/row -> ~80.5 MB

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const LOAD_START = loadavg();

function parseArgs(argv) {
  const o = {
    runs: 3, quick: false, rows: DEFAULT_ROWS, only: null, describe: false, outMd: null,
    keep: false, interval: 10, timeout: 1800, seed: 20260422, sluiceArgs: [],
  };
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) usage(`${name} needs a non-negative number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--runs': o.runs = Math.floor(num(a, next())); break;
      case '--quick': o.quick = true; break;
      case '--rows': o.rows = Math.floor(num(a, next())); if (o.rows < 1) usage('--rows must be >= 1'); break;
      case '--only': o.only = next(); if (!['sluice', 'duckdb'].includes(o.only)) usage('--only takes sluice or duckdb'); break;
      case '--describe': o.describe = true; break;
      case '--out-md': o.outMd = next(); break;
      case '--keep': o.keep = true; break;
      case '--interval': o.interval = Math.max(1, num(a, next())); break;
      case '--timeout': o.timeout = num(a, next()); break;
      case '--seed': o.seed = Math.floor(num(a, next())); break;
      case '--sluice-arg': o.sluiceArgs.push(next()); break;
      case '-h': case '--help': usage(null); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  return o;
}

function usage(err) {
  const text = 'usage: node bench/transform-bench.mjs [--runs N] [--quick] [--rows N] [--only sluice|duckdb]\n' +
    '       [--describe] [--out-md PATH] [--keep] [--interval MS] [--timeout S] [--seed N] [--sluice-arg A]...\n' +
    'run it under `flock /tmp/sluice-bench.lock ...` so two benchmarks never overlap.';
  if (err) { console.error(`bench: ${err}\n${text}`); process.exit(2); }
  console.log(text); process.exit(0);
}

const log = (...a) => console.error('[bench]', ...a);
const mib = (b) => b / 1048576;
const fmt = (x, d = 2) => (x == null || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Spawn one child, measure wall + tree peak RSS, collect the tail of stdout/stderr. */
function runChild(args, { cwd, interval, timeoutS }) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    // detached: the child leads its own process group, so a timeout can kill
    // exactly the tree we started (process.kill(-pid)).
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const sampler = sampleTree(child.pid, { intervalMs: interval });
    const keep = (buf, chunk) => (buf + chunk).slice(-65536);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { out = keep(out, c); });
    child.stderr.setEncoding('utf8').on('data', (c) => { err = keep(err, c); });
    let timedOut = false;
    const timer = timeoutS > 0 ? setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutS * 1000) : null;
    let spawnError = null;
    child.on('error', (e) => { spawnError = e; });
    child.on('exit', (code, signal) => {
      const wallNs = process.hrtime.bigint() - t0;
      const rss = sampler.stop();
      if (timer) clearTimeout(timer);
      // let the pipes drain before resolving
      const done = () => resolve({ code, signal, timedOut, spawnError, wallS: Number(wallNs) / 1e9, rss, stdout: out, stderr: err });
      // (a grandchild that inherited the pipes could keep them open: give up after 5 s)
      let pending = 2;
      const guard = setTimeout(() => { pending = -1; done(); }, 5000);
      const fin = () => { if (--pending === 0) { clearTimeout(guard); done(); } };
      if (child.stdout.readableEnded) fin(); else child.stdout.once('close', fin);
      if (child.stderr.readableEnded) fin(); else child.stderr.once('close', fin);
    });
  });
}

function lastJsonLine(stdout) {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return null;
  try { return JSON.parse(lines[lines.length - 1]); } catch { return null; }
}

function firstLine(s) {
  const l = s.trim().split('\n').filter(Boolean);
  return l.length ? l[l.length - 1].slice(0, 400) : '';
}

const TOOLS = {
  sluice: {
    label: 'sluice',
    args: (csv, work, opt) => [SLUICE_BIN, 'transform', csv, '--out', work, '--json', ...opt.sluiceArgs],
    work: (tmp, i) => path.join(tmp, `sluice-out-${i}`),
    /** non-fatal remarks */
    notes(summary, f) {
      const n = [];
      if (summary && typeof summary.bytes_in === 'number' && summary.bytes_in !== f.bytes) {
        n.push(`bytes_in=${summary.bytes_in} but the file has ${f.bytes} bytes`);
      }
      return n;
    },
    check(summary, rows) {
      const problems = [];
      if (!summary) return ['no JSON summary on the last stdout line'];
      for (const k of ['rows_in', 'rows_out', 'rows_rejected', 'files', 'bytes_in', 'peak_rss_bytes', 'duration_ms']) {
        if (!(k in summary)) problems.push(`summary lacks ${k}`);
      }
      if (summary.rows_out !== rows) problems.push(`rows_out=${summary.rows_out} but the file has ${rows} rows`);
      if (summary.rows_in !== summary.rows_out + summary.rows_rejected) {
        problems.push(`rows_in=${summary.rows_in} != rows_out=${summary.rows_out} + rows_rejected=${summary.rows_rejected}`);
      }
      if (summary.rows_rejected) problems.push(`${summary.rows_rejected} rows rejected (the generated file is clean)`);
      return problems;
    },
  },
  duckdb: {
    label: 'DuckDB',
    args: (csv, work) => [DUCKDB_CHILD, csv, work],
    work: (tmp, i) => path.join(tmp, `duckdb-out-${i}.parquet`),
    check(summary, rows) {
      if (!summary) return ['no JSON summary on the last stdout line'];
      return summary.rows_out === rows ? [] : [`rows_out=${summary.rows_out} but the file has ${rows} rows`];
    },
  },
};

async function describeAndCheck(csv, stats) {
  const r = await runChild([DUCKDB_CHILD, '--describe', csv], { cwd: ROOT, interval: 1000, timeoutS: 0 });
  const j = lastJsonLine(r.stdout);
  if (r.code !== 0 || !j) {
    log(`DuckDB --describe failed (exit ${r.code}): ${firstLine(r.stderr)}`);
    return false;
  }
  console.log(`\nDuckDB DESCRIBE of ${path.basename(csv)}:\n`);
  console.log('| column | DuckDB type | intended type |');
  console.log('|---|---|---|');
  for (const c of j.describe) console.log(`| ${c.column_name} | ${c.column_type} | ${EXPECTED_TYPES[c.column_name] ?? '?'} |`);
  const c = j.check;
  const expect = {
    rows: stats.rows, qty_nonnull: stats.nonNull.qty, sum_qty: stats.sumQty, score_nonnull: stats.nonNull.score,
    is_active_nonnull: stats.nonNull.is_active, true_count: stats.trueCount, note_nonnull: stats.nonNull.note,
    notes_with_newline: stats.notesWithNewline, sum_big_value: stats.sumBigValue, sum_created_at_ms: stats.sumCreatedAtMs,
    sum_event_date_days: stats.sumEventDateDays, sum_amount_cents: stats.sumAmountCents, max_id: stats.rows,
  };
  let ok = true;
  console.log('\n| check | generator | DuckDB | |');
  console.log('|---|---|---|---|');
  for (const [k, v] of Object.entries(expect)) {
    const same = String(v) === String(c[k]);
    ok &&= same;
    console.log(`| ${k} | ${v} | ${c[k]} | ${same ? 'ok' : '**MISMATCH**'} |`);
  }
  const names = j.describe.map((d) => d.column_name).join(',');
  if (names !== COLUMNS.join(',')) { ok = false; console.log(`\n**MISMATCH** columns: ${names}`); }
  console.log('');
  if (!ok) log('!!! DuckDB does not read the generated CSV as generated - see the table above');
  return ok;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const tools = opt.only ? [opt.only] : ['sluice', 'duckdb'];
  if (tools.includes('sluice') && opt.runs > 0 && !fs.existsSync(SLUICE_BIN)) {
    console.error(`bench: ${path.relative(ROOT, SLUICE_BIN)} does not exist; run \`npm run build\` first, or use --only duckdb`);
    process.exit(1);
  }
  if (process.platform !== 'linux') log('warning: RSS sampling needs Linux /proc; peak RSS will be 0');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const cleanup = () => { if (!opt.keep) fs.rmSync(tmp, { recursive: true, force: true }); };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });
  log(`temp dir ${tmp}${opt.keep ? ' (kept)' : ''}`);

  const files = [{ key: 'base', rows: opt.rows }];
  if (!opt.quick) files.push({ key: 'x10', rows: opt.rows * 10 });

  let failed = false;
  const dead = new Set(); // tools that failed: not run again
  const results = []; // {file, tool, runs:[{wallS, peak, self}], problems:[]}
  try {
    for (const f of files) {
      f.path = path.join(tmp, `bench-${f.rows}.csv`);
      const g0 = process.hrtime.bigint();
      f.stats = generateCsv(f.path, f.rows, { seed: opt.seed });
      f.bytes = f.stats.bytes;
      log(`generated ${path.basename(f.path)}: ${fmt(f.bytes / 1e6, 1)} MB, ${f.rows} rows, ` +
        `${f.stats.physicalLines} physical lines, ${f.stats.notesWithNewline} quoted newlines, ` +
        `in ${fmt(Number(process.hrtime.bigint() - g0) / 1e9, 1)} s`);
      if (opt.describe && !(await describeAndCheck(f.path, f.stats))) failed = true;

      const per = Object.fromEntries(tools.map((t) => [t, { file: f, tool: t, runs: [], problems: [], notes: [] }]));
      for (let i = 0; i < opt.runs; i++) {
        const order = i % 2 === 0 ? tools : [...tools].reverse();
        for (const t of order) {
          if (dead.has(t)) continue;
          const tool = TOOLS[t];
          const work = tool.work(tmp, i);
          const r = await runChild(tool.args(f.path, work, opt), { cwd: ROOT, interval: opt.interval, timeoutS: opt.timeout });
          const summary = lastJsonLine(r.stdout);
          fs.rmSync(work, { recursive: true, force: true });
          const rec = per[t];
          if (r.spawnError || r.code !== 0 || r.timedOut) {
            const why = r.timedOut ? `timed out after ${opt.timeout} s` : r.spawnError ? String(r.spawnError) : `exit ${r.code ?? r.signal}`;
            rec.problems.push(`run ${i + 1}: ${why}: ${firstLine(r.stderr) || firstLine(r.stdout)}`);
            log(`!!! ${tool.label} FAILED on ${path.basename(f.path)} run ${i + 1}: ${why}\n${r.stderr.slice(-2000)}`);
            failed = true;
            dead.add(t);
            continue;
          }
          const problems = tool.check(summary, f.rows);
          if (problems.length) {
            failed = true;
            for (const p of problems) rec.problems.push(`run ${i + 1}: ${p}`);
            log(`!!! ${tool.label} on ${path.basename(f.path)} run ${i + 1}: ${problems.join('; ')}`);
          }
          for (const n of tool.notes?.(summary, f) ?? []) {
            if (!rec.notes.includes(n)) { rec.notes.push(n); log(`note: ${tool.label}: ${n}`); }
          }
          rec.runs.push({ wallS: r.wallS, peak: r.rss.peak, rss: r.rss, self: summary?.peak_rss_bytes ?? null, summary });
          log(`${tool.label.padEnd(6)} ${f.key} run ${i + 1}/${opt.runs}: ${fmt(r.wallS)} s (CPU ${fmt(r.rss.cpuS)} s), peak RSS ${fmt(mib(r.rss.peak), 1)} MiB ` +
            `(sum ${fmt(mib(r.rss.peakSum), 1)}, root HWM ${fmt(mib(r.rss.rootHwm), 1)}, ${r.rss.maxProcs} proc, ${r.rss.samples} samples` +
            (r.rss.atPeak ? `; at peak anon ${fmt(mib(r.rss.atPeak.anon), 1)} file ${fmt(mib(r.rss.atPeak.file), 1)} shmem ${fmt(mib(r.rss.atPeak.shmem), 1)}, ${r.rss.atPeak.threads} threads` : '') +
            `${summary?.peak_rss_bytes ? `, self-reported ${fmt(mib(summary.peak_rss_bytes), 1)}` : ''})`);
        }
      }
      results.push(...Object.values(per));
      if (!opt.keep) fs.rmSync(f.path, { force: true });
    }
  } finally {
    cleanup();
  }

  if (opt.runs > 0) {
    const md = report(results, files, opt, tools);
    console.log(md);
    if (opt.outMd) { fs.writeFileSync(opt.outMd, md); log(`wrote ${opt.outMd}`); }
  }
  if (failed) log('!!! at least one tool failed or produced wrong counts: exit 1');
  process.exit(failed ? 1 : 0);
}

function report(results, files, opt, tools) {
  const get = (key, tool) => results.find((r) => r.file.key === key && r.tool === tool);
  const med = (r) => (r && r.runs.length ? {
    wall: median(r.runs.map((x) => x.wallS)), cpu: median(r.runs.map((x) => x.rss.cpuS)), peak: Math.max(...r.runs.map((x) => x.peak)),
  } : null);
  const cpu = os.cpus();
  const L = [];
  L.push(`### sluice transform vs DuckDB`);
  L.push('');
  L.push(`Machine: ${cpu.length} CPU (${cpu[0]?.model?.trim() ?? '?'}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ` +
    `Node ${process.version}, ${os.type()} ${os.release()}. Median of ${opt.runs} run(s) per cell, each a fresh child process; ` +
    `peak RSS = max over runs of the process tree's peak (sampled /proc VmRSS sum every ${opt.interval} ms, or VmHWM if higher).` +
    ` CPU = user+sys seconds of the tree. Load average before/after: ${LOAD_START} / ${loadavg()}` +
    ' (the cores are shared; wall times move with other load, CPU times much less).' +
    (opt.sluiceArgs.length ? ` sluice extra args: \`${opt.sluiceArgs.join(' ')}\`.` : ''));
  const busy = Math.max(Number(LOAD_START.split(' ')[0]), os.loadavg()[0]);
  if (busy > cpu.length * 0.75) {
    L.push('');
    L.push(`**Warning:** the 1-minute load average reached ${busy.toFixed(2)} on ${cpu.length} CPUs; other work shared ` +
      'the cores, so wall times (and the wall ratio) are unreliable in this run. Compare CPU seconds, or rerun on an idle machine.');
  }
  L.push('');
  L.push('| File | Rows | Tool | Median wall (s) | Peak RSS (MiB) | MB/s | Median CPU (s) | All runs, wall (s) |');
  L.push('|---|---:|---|---:|---:|---:|---:|---|');
  for (const f of files) {
    for (const t of tools) {
      const r = get(f.key, t);
      const m = med(r);
      const name = `${f.key === 'base' ? '' : '10× '}${fmt(f.bytes / 1e6, 1)} MB`;
      const runs = r?.runs.map((x) => fmt(x.wallS)).join(', ') ?? '';
      const flag = r?.problems.length ? ' **(failed)**' : r && r.runs.length < opt.runs ? ' (skipped: failed earlier)' : '';
      L.push(`| ${name} | ${f.rows.toLocaleString('en-US')} | ${TOOLS[t].label}${flag} | ` +
        `${m ? fmt(m.wall) : 'n/a'} | ${m ? fmt(mib(m.peak), 1) : 'n/a'} | ${m ? fmt(f.bytes / 1e6 / m.wall, 1) : 'n/a'} | ` +
        `${m ? fmt(m.cpu) : 'n/a'} | ${runs} |`);
    }
  }
  L.push('');
  const bad = (key, tool) => (get(key, tool)?.problems.length ?? 0) > 0;
  const sB = med(get('base', 'sluice'));
  const dB = med(get('base', 'duckdb'));
  const sX = med(get('x10', 'sluice'));
  const dX = med(get('x10', 'duckdb'));
  const baseName = `${fmt(files[0].bytes / 1e6, files[0].bytes < 1e7 ? 1 : 0)} MB`;
  // a target computed from runs with wrong counts is not trustworthy
  const row = (name, value, goal, pass, invalid = false) => L.push(`| ${name} | ${value} | ${goal} | ` +
    `${pass == null ? 'n/a' : invalid ? '**INVALID** (wrong counts)' : pass ? 'PASS' : '**FAIL**'} |`);
  L.push('| Target | Value | Goal | Result |');
  L.push('|---|---:|---:|---|');
  const wr = sB && dB ? sB.wall / dB.wall : null;
  row(`wall(sluice) / wall(DuckDB), ${baseName} file`, fmt(wr), '≤ 2.0', wr == null ? null : wr <= 2.0, bad('base', 'sluice') || bad('base', 'duckdb'));
  const rssMB = sB ? mib(sB.peak) : null;
  row(`sluice peak RSS, ${baseName} file`, rssMB == null ? 'n/a' : `${fmt(rssMB, 1)} MiB`, '≤ 128 MiB', rssMB == null ? null : rssMB <= 128, bad('base', 'sluice'));
  const rr = sB && sX ? sX.peak / sB.peak : null;
  row(`sluice peak RSS(10×) / RSS(${baseName})`, fmt(rr), '≤ 1.10', rr == null ? null : rr <= 1.10, bad('base', 'sluice') || bad('x10', 'sluice'));
  const wrX = sX && dX ? sX.wall / dX.wall : null;
  if (wrX != null) row('wall(sluice) / wall(DuckDB), 10× file (info)', fmt(wrX), '-', null);
  const drr = dB && dX ? dX.peak / dB.peak : null;
  if (drr != null) row(`DuckDB peak RSS(10×) / RSS(${baseName}) (info)`, fmt(drr), '-', null);
  const problems = results.flatMap((r) => r.problems.map((p) => `- ${TOOLS[r.tool].label}, ${r.file.key === 'base' ? '' : '10× '}${fmt(r.file.bytes / 1e6, 1)} MB file, ${p}`));
  if (problems.length) { L.push(''); L.push('**Problems:**'); L.push(...problems); }
  const notes = results.flatMap((r) => r.notes.map((p) => `- ${TOOLS[r.tool].label}, ${r.file.key === 'base' ? '' : '10× '}${fmt(r.file.bytes / 1e6, 1)} MB file: ${p}`));
  if (notes.length) { L.push(''); L.push('Notes (not failures):'); L.push(...notes); }
  L.push('');
  return L.join('\n');
}

main().catch((e) => {
  console.error(`bench: ${e?.stack ?? e}`);
  process.exit(1);
});
