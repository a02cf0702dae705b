#!/usr/bin/env node
// npm run bench:extract
//
// A local HTTP server streams a deterministic 1 GiB body; `extractToRawZone`
// lands it in s3rver. For comparison, a plain lib-storage `Upload` of a 1 GiB
// local file goes to the same s3rver in the same run. Each runs in its own
// child process so its peak RSS is its own; s3rver runs in a third process.
// Reports the median of SLUICE_BENCH_RUNS runs (default 3) as a markdown table,
// plus the Lambda bundle's cold start (import + one tiny handler call).
//
// Run it alone: flock /tmp/sluice-bench.lock npm run bench:extract
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleTree } from './lib/rss-sampler.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIZE = Number(process.env.SLUICE_BENCH_BYTES ?? 1024 ** 3);
const RUNS = Number(process.env.SLUICE_BENCH_RUNS ?? 3);
const COLD_RUNS = Number(process.env.SLUICE_BENCH_COLD_RUNS ?? 7);
const node = process.execPath;
const MiB = 1024 * 1024;

// Deterministic body: one 1 MiB xorshift block, each repetition stamped with its index.
const block = Buffer.allocUnsafe(MiB);
{
  let x = 2463534242;
  for (let i = 0; i < MiB; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
}
function chunkAt(i, len) {
  const b = Buffer.from(block.subarray(0, len));
  b.writeUInt32BE(i >>> 0, 0);
  return b;
}

/** Always rebuild (incremental, a few seconds) so the bench never measures stale code. */
function build() {
  execFileSync(node, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/extract', 'packages/cli'], { cwd: root, stdio: 'inherit' });
  execFileSync(node, [join(root, 'lambda/build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function startS3rverProcess(dir) {
  const code = `
    const S3rver = require('s3rver');
    const s = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: 'bench' }] });
    s.run().then(({ port }) => process.send({ port }));
    process.on('disconnect', () => process.exit(0));`;
  const p = spawn(node, ['-e', code], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((res, rej) => {
    p.once('message', res);
    p.once('exit', (c) => rej(new Error(`s3rver exited ${c}`)));
  });
  return { port, stop: () => p.kill() };
}

function startHttpSource() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': SIZE, 'content-type': 'application/octet-stream', etag: '"bench-1"' });
    let i = 0;
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        const len = Math.min(MiB, SIZE - sent);
        const ok = res.write(chunkAt(i++, len));
        sent += len;
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ port: server.address().port, close: () => server.close() })));
}

async function writeLocalFile(path) {
  const out = createWriteStream(path);
  let i = 0;
  for (let sent = 0; sent < SIZE; ) {
    const len = Math.min(MiB, SIZE - sent);
    if (!out.write(chunkAt(i++, len))) await new Promise((r) => out.once('drain', r));
    sent += len;
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

/**
 * Runs a child script that prints one JSON line. Peak RSS is sampled over the
 * child's whole process tree (bench/lib/rss-sampler.mjs: VmRSS sums and the
 * kernel's VmHWM), not self-reported.
 */
function runChild(script, env) {
  return runProcess(['--input-type=module', '-e', script], env);
}

/** `sluice extract` exactly as a user runs it: the CLI binary, --json summary on stdout. */
function runSluiceExtract(env) {
  const args = [join(root, 'packages/cli/bin/sluice.js'), 'extract', env.SRC, '--to', 's3://bench/raw', '--dataset', env.DATASET, '--date', '2024-01-01', '--allow-private-network', '--json'];
  return runProcess(args, env).then((r) => {
    if (r.status !== 'written' || r.bytes !== Number(env.SIZE)) throw new Error('unexpected summary ' + JSON.stringify(r));
    return { ...r, ms: r.duration_ms, rss: r.peak_rss_bytes, timings: r.timings_ms };
  });
}

function runProcess(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile(node, args, { cwd: root, env: { ...process.env, ...env }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const rss = sampler.stop();
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop());
      resolve({ ...r, tree_rss: rss.peak, at_peak: rss.atPeak, wall_ms: performance.now() - t0 });
    });
    const sampler = sampleTree(child.pid, { intervalMs: 10 });
    child.stdout.on('end', () => sampler.tick());
  });
}


const PLAIN = `
  import { createReadStream } from 'node:fs';
  import { S3Client } from '@aws-sdk/client-s3';
  import { Upload } from '@aws-sdk/lib-storage';
  const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: 'us-east-1' });
  const t0 = performance.now();
  // Same part size and queue size as sluice's defaults, so the comparison is like for like.
  await new Upload({ client, params: { Bucket: 'bench', Key: process.env.KEY, Body: createReadStream(process.env.FILE) }, partSize: 5 * 1024 * 1024, queueSize: 2 }).done();
  const ms = performance.now() - t0;
  client.destroy();
  console.log(JSON.stringify({ ms, rss: process.resourceUsage().maxRSS * 1024 }));`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function deleteAll(env) {
  await runChild(
    `import { S3Client, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3';
     const c = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: 'us-east-1' });
     for (;;) { const l = await c.send(new ListObjectsV2Command({ Bucket: 'bench' })); if (!l.Contents?.length) break;
       for (const o of l.Contents) await c.send(new DeleteObjectCommand({ Bucket: 'bench', Key: o.Key })); }
     console.log('{}');`,
    env,
  );
}

async function coldStart(env, httpPort) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cold-'));
  const tiny = createServer((_q, r) => {
    r.writeHead(200, { 'content-length': 12 });
    r.end('id,n\n1,2\n3,4');
  });
  await new Promise((r) => tiny.listen(0, '127.0.0.1', r));
  const ev = join(dir, 'event.json');
  const times = [];
  const imports = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    await writeFile(ev, JSON.stringify({ source: `http://127.0.0.1:${tiny.address().port}/tiny.csv`, to: 's3://bench/cold', dataset: `cold${i}`, date: '2024-01-01', allowPrivateNetwork: true }));
    const { stderr } = await new Promise((res, rej) =>
      execFile(node, [join(root, 'lambda/scripts/invoke-local.mjs'), ev], { cwd: root, env: { ...process.env, ...env } }, (e, stdout, stderr) => (e ? rej(new Error(stdout + stderr)) : res({ stderr }))),
    );
    const t = JSON.parse(stderr.trim().split('\n').find((l) => l.includes('cold_start_ms')));
    times.push(t.cold_start_ms);
    imports.push(t.import_ms);
  }
  tiny.close();
  await rm(dir, { recursive: true, force: true });
  return { cold: median(times), imp: median(imports), all: times };
}

async function main() {
  build();
  const work = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const s3dir = join(work, 's3rver');
  const file = join(work, 'plain-1g.bin');
  const s3 = await startS3rverProcess(s3dir);
  const http = await startHttpSource();
  const env = { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3.port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  const rows = { extract: [], plain: [] };
  try {
    console.error(`generating ${SIZE} bytes at ${file} …`);
    await writeLocalFile(file);
    for (let run = 1; run <= RUNS; run++) {
      const e = await runSluiceExtract({ ...env, SRC: `http://127.0.0.1:${http.port}/big/data.bin`, DATASET: `run${run}`, SIZE: String(SIZE) });
      rows.extract.push(e);
      await deleteAll(env);
      const p = await runChild(PLAIN, { ...env, FILE: file, KEY: `plain/run${run}.bin` });
      rows.plain.push(p);
      await deleteAll(env);
      console.error(`run ${run}: extract phases ${JSON.stringify(e.timings)}`);
      console.error(`run ${run}: extract ${(SIZE / MiB / (e.ms / 1000)).toFixed(1)} MiB/s, ${(e.rss / MiB).toFixed(0)}/${(e.tree_rss / MiB).toFixed(0)} MiB RSS (self/tree); plain ${(SIZE / MiB / (p.ms / 1000)).toFixed(1)} MiB/s, ${(p.rss / MiB).toFixed(0)}/${(p.tree_rss / MiB).toFixed(0)} MiB RSS (self/tree)`);
    }
    const cold = await coldStart(env, http.port);
    const zip = readFileSync(join(root, 'lambda/dist/extract.zip')).length;
    const bundle = readFileSync(join(root, 'lambda/dist/extract/index.mjs')).length;
    const mbps = (r) => SIZE / MiB / (r.ms / 1000);
    const eT = median(rows.extract.map(mbps));
    const pT = median(rows.plain.map(mbps));
    const eR = median(rows.extract.map((r) => Math.max(r.rss, r.tree_rss))) / MiB;
    const pR = median(rows.plain.map((r) => Math.max(r.rss, r.tree_rss))) / MiB;
    const split = (rs) => {
      const a = median(rs.map((r) => r.at_peak?.anon ?? 0)) / MiB;
      const f = median(rs.map((r) => r.at_peak?.file ?? 0)) / MiB;
      return `${a.toFixed(0)} + ${f.toFixed(0)}`;
    };
    const lines = [
      `Extract benchmark: ${(SIZE / MiB).toFixed(0)} MiB, median of ${RUNS} runs, s3rver on loopback, part 5 MiB × queue 2 (sluice defaults) for both, Node ${process.versions.node}`,
      '',
      '| run | throughput (MiB/s) | peak RSS (MiB) | anon + file-backed at peak (MiB) | target |',
      '|---|---:|---:|---:|---|',
      `| sluice extract (HTTP → S3) | ${eT.toFixed(1)} | ${eR.toFixed(0)} | ${split(rows.extract)} | RSS ≤ 100 MiB ${eR <= 100 ? '✅' : '❌'}; ≥ 0.8 × plain: ${(eT / pT).toFixed(2)}× ${eT >= 0.8 * pT ? '✅' : '❌'} |`,
      `| plain lib-storage Upload (local file → S3) | ${pT.toFixed(1)} | ${pR.toFixed(0)} | ${split(rows.plain)} | baseline |`,
      `| Lambda bundle: cold import + tiny handler call | ${cold.cold} ms (import ${cold.imp} ms) | – | – | ≤ 300 ms ${cold.cold <= 300 ? '✅' : '❌'} |`,
      `| Lambda bundle size | index.mjs ${(bundle / MiB).toFixed(2)} MiB, zip ${(zip / MiB).toFixed(2)} MiB | – | – | zip ≤ 2 MiB ${zip <= 2 * MiB ? '✅' : '❌'} |`,
      '',
      `Per run (MiB/s): extract ${rows.extract.map((r) => mbps(r).toFixed(1)).join(', ')}; plain ${rows.plain.map((r) => mbps(r).toFixed(1)).join(', ')}. Cold starts (ms): ${cold.all.join(', ')}. Load average at end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    ];
    console.log(lines.join('\n'));
  } finally {
    http.close();
    s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
