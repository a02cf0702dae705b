#!/usr/bin/env node
/**
 * Shows why zstd runs in a worker: submit 24 one-MiB pages, then keep the main
 * thread busy for 400 ms (as a CSV tokenizer does), then measure how long the
 * pages still take to finish. Streams owned by the main thread can only start
 * their next job after a main-thread callback; a worker's streams cannot stall.
 *   node packages/load/bench/stall-check.mjs   (after npm run build)
 */
import { ZstdWorker } from '../dist/zstd-worker.js';
import { ZstdLocal } from '../dist/zstd-local.js';

const PAGES = 24;
const pages = Array.from({ length: PAGES }, (_, k) => {
  const sab = new SharedArrayBuffer(1 << 20);
  const u = new Uint8Array(sab);
  for (let i = 0; i < u.length; i++) u[i] = (i * (k + 7)) % 251 < 120 ? (i * 31 + k) & 0xff : 65;
  return u;
});
const outs = pages.map(() => new SharedArrayBuffer(1 << 20));

async function trial(name, c) {
  await Promise.all([c.compress(pages[0], outs[0]), c.compress(pages[1], outs[1])]); // warm up
  const t0 = performance.now();
  const done = Promise.all(pages.map((p, i) => c.compress(p, outs[i])));
  const busyUntil = performance.now() + 400;
  while (performance.now() < busyUntil); // the "tokenizer"
  const t1 = performance.now();
  await done;
  const t2 = performance.now();
  console.log(`${name.padEnd(28)} busy ${(t1 - t0).toFixed(0)} ms, pages still pending after it: ${(t2 - t1).toFixed(0)} ms`);
  await c.close();
}

await trial('worker (2 streams)', new ZstdWorker(3, 2));
await trial('main-thread streams (2)', new ZstdLocal(3, 2));
