#!/usr/bin/env node
/**
 * Parquet writer benchmark: sluice's writer vs parquet-wasm, encoding the same
 * deterministic ~1M-row × 11-column Arrow batches (64k rows each).
 *
 *   npm run build && npm run bench -w @sluice/load [-- --rows 1000000 --runs 3 --variants a,b]
 *
 * Variants are impl[:codec[:parse]]: impl = gen (no writer: baseline),
 * sluice (defaults: zstd on the main thread's streams), sluice-worker
 * (compressionThreads: 2, zstd in a worker thread), wasm (parquet-wasm 0.8
 * transformParquetStream, every wasm object freed or consumed); ':parse' adds
 * a simulated CSV tokenizer that keeps the main thread busy 0.8 µs per row.
 *
 * Each variant runs in a fresh child process (so peak RSS is its own) and
 * reports: wall time, main-thread CPU (process.threadCpuUsage), total
 * process CPU (all threads), peak RSS (getrusage maxrss), output bytes.
 * Input: 4 distinct pre-generated 64k-row batches, cycled (the pool is built
 * before timing starts; the `gen` row shows the process baseline with it).
 * Output goes to os.tmpdir() and is deleted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  tableToIPC,
} from 'apache-arrow';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROWS = Number(arg('rows', '1000000'));
const BATCH = Number(arg('batch', '65536'));
const RUNS = Number(arg('runs', '3'));

// ---------------------------------------------------------------- data ----

const schema = new Schema([
  new Field('id', new Int32(), true),
  new Field('big', new Int64(), true),
  new Field('amount', new Float64(), true),
  new Field('price', new Float64(), true),
  new Field('ts', new TimestampMicrosecond('UTC'), true),
  new Field('day', new DateDay(), true),
  new Field('flag', new Bool(), true),
  new Field('qty', new Int32(), true),
  new Field('name', new Utf8(), true),
  new Field('city', new Utf8(), true),
  new Field('note', new Utf8(), true),
]);

const enc = new TextEncoder();
const CITIES = [
  '서울특별시', '부산광역시', '대구광역시', '인천광역시', '광주광역시', '대전광역시', '울산광역시', '세종특별자치시',
  '경기도 수원시', '경기도 성남시', '경기도 고양시', '경기도 용인시', '강원특별자치도 춘천시', '충청북도 청주시',
  '충청남도 천안시', '전북특별자치도 전주시', '전라남도 목포시', '경상북도 포항시', '경상남도 창원시', '제주특별자치도 제주시',
].map((s) => enc.encode(s));
const NOTES = [
  'ok', 'late delivery', 'paid, with card', 'said "thanks"', '반품 요청', 'gift wrap', 'call before 6pm',
  'fragile; handle with care', 'n/a', '주문 취소 후 재주문', 'repeat customer', 'address changed',
].map((s) => enc.encode(s));

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bitmap(n) {
  return new Uint8Array(((n + 63) >> 6) << 3);
}

function utf8Column(n, pick, nullRate, r) {
  const offsets = new Int32Array(n + 1);
  const valid = bitmap(n);
  let nulls = 0;
  let cap = n * 16;
  let data = new Uint8Array(cap);
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (nullRate > 0 && r() < nullRate) {
      nulls++;
    } else {
      valid[i >> 3] |= 1 << (i & 7);
      const b = pick(i);
      if (p + b.length > cap) {
        cap *= 2;
        const next = new Uint8Array(cap);
        next.set(data.subarray(0, p));
        data = next;
      }
      data.set(b, p);
      p += b.length;
    }
    offsets[i + 1] = p;
  }
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: nulls ? valid : undefined, valueOffsets: offsets, data: data.subarray(0, p) });
}

function makeBatch(start, n, seed) {
  const r = rng(seed);
  const id = new Int32Array(n);
  const big = new BigInt64Array(n);
  const amount = new Float64Array(n);
  const price = new Float64Array(n);
  const priceValid = bitmap(n);
  let priceNulls = 0;
  const ts = new BigInt64Array(n);
  const day = new Int32Array(n);
  const flag = bitmap(n);
  const flagValid = bitmap(n);
  let flagNulls = 0;
  const qty = new Int32Array(n);
  const qtyValid = bitmap(n);
  let qtyNulls = 0;
  const t0 = 1704067200000000n; // 2024-01-01T00:00:00Z in µs
  for (let i = 0; i < n; i++) {
    const row = start + i;
    id[i] = row + 1;
    big[i] = 3000000000n + BigInt(row) * 7919n;
    amount[i] = Math.round((r() - 0.3) * 1e6) / 100;
    if (r() < 0.05) priceNulls++;
    else {
      priceValid[i >> 3] |= 1 << (i & 7);
      price[i] = Math.round(r() * 1e5) / 100;
    }
    ts[i] = t0 + BigInt(row) * 1700000n + BigInt(Math.floor(r() * 1e6));
    day[i] = 19723 + Math.floor(row / 3000);
    if (r() < 0.1) flagNulls++;
    else {
      flagValid[i >> 3] |= 1 << (i & 7);
      if (r() < 0.5) flag[i >> 3] |= 1 << (i & 7);
    }
    if (r() < 0.05) qtyNulls++;
    else {
      qtyValid[i >> 3] |= 1 << (i & 7);
      qty[i] = Math.floor(r() * 100) - 10;
    }
  }
  const name = utf8Column(n, (i) => enc.encode(`user_${((start + i) * 2654435761 >>> 0).toString(36)}`), 0, r);
  const city = utf8Column(n, () => CITIES[Math.floor(r() * CITIES.length)], 0.02, r);
  const note = utf8Column(n, () => NOTES[Math.floor(r() * NOTES.length)], 0.3, r);
  const f = schema.fields;
  const children = [
    makeData({ type: f[0].type, length: n, nullCount: 0, data: id }),
    makeData({ type: f[1].type, length: n, nullCount: 0, data: big }),
    makeData({ type: f[2].type, length: n, nullCount: 0, data: amount }),
    makeData({ type: f[3].type, length: n, nullCount: priceNulls, nullBitmap: priceValid, data: price }),
    makeData({ type: f[4].type, length: n, nullCount: 0, data: ts }),
    makeData({ type: f[5].type, length: n, nullCount: 0, data: day }),
    makeData({ type: f[6].type, length: n, nullCount: flagNulls, nullBitmap: flagValid, data: flag }),
    makeData({ type: f[7].type, length: n, nullCount: qtyNulls, nullBitmap: qtyValid, data: qty }),
    name,
    city,
    note,
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(f), length: n, nullCount: 0, children }));
}

// ------------------------------------------------------------ variants ----

/**
 * Yields ROWS rows by cycling a pool of 4 distinct pre-generated batches, so
 * generation costs neither time nor garbage during the measurement.
 */
const POOL = [];
function generator(state) {
  return (async function* () {
    for (let at = 0, k = 0; at < ROWS; at += BATCH, k++) {
      const t = performance.now();
      let b = POOL[k % POOL.length];
      if (b.numRows > ROWS - at) b = b.slice(0, ROWS - at);
      state.genMs += performance.now() - t;
      if (state.parseMsPerRow > 0) {
        // Simulated CSV tokenizer: burn main-thread *CPU* time (not wall time, so the
        // figure holds when other processes share the cores).
        const cpuUs = () => { const u = process.threadCpuUsage(); return u.user + u.system; };
        const until = cpuUs() + state.parseMsPerRow * 1000 * b.numRows;
        while (cpuUs() < until);
        state.parseMs += state.parseMsPerRow * b.numRows;
      }
      yield b;
    }
  })();
}

async function runSluice(outDir, compression, state, worker) {
  const { writeParquetFiles } = await import('@sluice/load');
  const extra = process.env.SLUICE_BENCH_OPTS ? JSON.parse(process.env.SLUICE_BENCH_OPTS) : {};
  if (worker) extra.compressionThreads = 2;
  const res = await writeParquetFiles(generator(state), schema, { outDir, compression, ...extra });
  return { rows: res.rows, bytes: res.bytes };
}

async function runWasm(outDir, compression, state) {
  const pw = await import('parquet-wasm');
  const codec = { zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, none: pw.Compression.UNCOMPRESSED }[compression];
  const props = new pw.WriterPropertiesBuilder().setCompression(codec).setMaxRowGroupSize(BATCH).build();
  const it = generator(state);
  let rows = 0;
  const input = new ReadableStream({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) return controller.close();
      rows += value.numRows;
      // Arrow JS → IPC → wasm RecordBatch; every wasm object is freed or consumed.
      const table = pw.Table.fromIPCStream(tableToIPC(new Table([value]), 'stream'));
      const batch = table.recordBatch(0);
      table.free();
      controller.enqueue(batch);
    },
  });
  const out = await pw.transformParquetStream(input, props);
  const file = join(outDir, 'part-00000.parquet');
  const ws = createWriteStream(file);
  for await (const chunk of out) {
    if (!ws.write(chunk)) await new Promise((r) => ws.once('drain', r));
  }
  await new Promise((r, j) => ws.end((e) => (e ? j(e) : r())));
  return { rows, bytes: statSync(file).size, wasmMemory: pw.wasmMemory().buffer.byteLength };
}

async function child(variant) {
  const [impl, compression, sim] = variant.split(':');
  const outDir = mkdtempSync(join(tmpdir(), 'sluice-load-bench-'));
  const state = { genMs: 0, parseMs: 0, parseMsPerRow: sim === 'parse' ? 0.8 / 1000 : 0 };
  for (let k = 0; k < 4; k++) POOL.push(makeBatch(k * BATCH, BATCH, 1000 + k));
  globalThis.gc?.();
  const rssStart = process.memoryUsage().rss;
  let peak = rssStart;
  const trace = [];
  let tick = 0;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    if (process.env.SLUICE_BENCH_TRACE && ++tick % 100 === 0) trace.push(Math.round(rss / 1048576));
  }, 5);
  const main0 = process.threadCpuUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let res;
  if (impl === 'gen') {
    for await (const b of generator(state)) void b;
    res = { rows: ROWS, bytes: 0 };
  } else if (impl === 'sluice' || impl === 'sluice-worker') {
    res = await runSluice(outDir, compression, state, impl === 'sluice-worker');
  }
  else res = await runWasm(outDir, compression, state);
  const wall = performance.now() - t0;
  const main = process.threadCpuUsage(main0);
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  rmSync(outDir, { recursive: true, force: true });
  const out = {
    variant,
    rows: res.rows,
    bytes: res.bytes,
    wallMs: wall,
    genMs: state.genMs,
    parseMs: state.parseMs,
    // CPU time of the main thread alone (includes the simulated parser's busy-wait).
    mainMs: (main.user + main.system) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    sampledPeakRss: peak,
    rssStart,
    wasmMemory: res.wasmMemory,
  };
  if (trace.length > 0) process.stderr.write(`rss MB every ~0.5 s: ${trace.join(' ')}\n`);
  if (process.env.SLUICE_BENCH_TRACE) process.stderr.write(JSON.stringify(process.memoryUsage()) + '\n');
  process.stdout.write(JSON.stringify(out) + '\n');
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function parent() {
  const variants = (arg('variants', '') || [
    'gen',
    'sluice:zstd', 'sluice:snappy', 'sluice:none',
    'wasm:zstd', 'wasm:snappy', 'wasm:none',
    'sluice-worker:zstd',
    'gen::parse', 'sluice:zstd:parse', 'sluice-worker:zstd:parse', 'wasm:zstd:parse',
  ].join(',')).split(',');
  const self = fileURLToPath(import.meta.url);
  const nodeArgs = ['--expose-gc'];
  const results = [];
  for (const v of variants) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const p = spawnSync(process.execPath, [...nodeArgs, self, '--child', v, '--rows', String(ROWS), '--batch', String(BATCH)], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (p.status !== 0) throw new Error(`${v} failed: ${p.stderr}`);
      runs.push(JSON.parse(p.stdout.trim().split('\n').pop()));
    }
    const m = (k) => median(runs.map((r) => r[k]));
    results.push({
      variant: v,
      wall: m('wallMs'),
      gen: m('genMs'),
      parse: m('parseMs'),
      main: m('mainMs'),
      cpu: m('cpuMs'),
      rss: m('maxRssBytes'),
      peak: m('sampledPeakRss'),
      start: m('rssStart'),
      bytes: runs[0].bytes,
      wasm: runs[0].wasmMemory,
    });
    process.stderr.write(`${v}: ${JSON.stringify(results.at(-1))}\n`);
  }
  const mb = (b) => (b / 1048576).toFixed(1);
  const s = (ms) => (ms / 1000).toFixed(2);
  console.log(`\n${ROWS.toLocaleString('en')} rows × 11 columns, batches of ${BATCH}, median of ${RUNS} runs, Node ${process.version}\n`);
  console.log('| Variant | Writer wall (s) | Writer main-thread CPU (s) | Process CPU (s) | RSS before (MB) | Peak RSS while writing (MB) | Output (MB) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const pre = r.gen + r.parse;
    console.log(
      `| ${r.variant} | ${s(r.wall - pre)} | ${s(r.main - r.parse)} | ${s(r.cpu)} | ${mb(r.start)} | ${mb(r.peak)} | ${r.bytes ? mb(r.bytes) : '–'} |`,
    );
  }
  console.log('\nWriter wall/main-thread exclude batch generation (and, for ":parse" rows, the 0.8 µs/row simulated parser).');
  const gp = results.find((r) => r.variant === 'gen::parse');
  for (const r of results.filter((x) => x.variant.endsWith(':parse') && x.variant !== 'gen::parse')) {
    if (gp) console.log(`${r.variant}: total wall ${s(r.wall)} s vs generation+parse alone ${s(gp.wall)} s`);
  }
}

if (args.includes('--child')) await child(arg('child'));
else parent();
