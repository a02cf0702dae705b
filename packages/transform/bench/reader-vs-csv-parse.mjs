#!/usr/bin/env node
// Reader-only comparison on one CSV (no Parquet): csv-parse (strings only) vs
// sluice's CsvReader (typed Arrow batches). Each run is its own process.
//   node packages/transform/bench/reader-vs-csv-parse.mjs <file.csv> [runs=3]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [file, runsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: reader-vs-csv-parse.mjs <file.csv> [runs]');
  process.exit(2);
}
const runs = Number(runsArg ?? 3);
const here = fileURLToPath(new URL('.', import.meta.url));

const child = {
  'csv-parse (strings)': `
    import { createReadStream } from 'node:fs';
    import { parse } from 'csv-parse';
    let n = 0;
    for await (const rec of createReadStream(process.argv[1]).pipe(parse({ bom: true }))) n++;
    console.log(n - 1, process.resourceUsage().maxRSS);`,
  'sluice CsvReader (typed Arrow)': `
    import { CsvReader } from '@sluice/transform';
    let n = 0;
    const r = await CsvReader.open({ kind: 'file', path: process.argv[1] });
    for await (const ch of r.batches()) if (ch.batch) n += ch.batch.numRows;
    console.log(n, process.resourceUsage().maxRSS);`,
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| reader | rows | median wall (s) | peak RSS (MB) |\n|---|---|---|---|');
for (const [name, code] of Object.entries(child)) {
  const walls = [];
  const rss = [];
  let rows = '';
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, file], { cwd: here, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    walls.push((performance.now() - t0) / 1000);
    const [n, maxRssKiB] = r.stdout.trim().split(' ');
    rows = n;
    rss.push(Number(maxRssKiB) / 1024);
  }
  console.log(`| ${name} | ${rows} | ${median(walls).toFixed(2)} | ${median(rss).toFixed(0)} |`);
}
