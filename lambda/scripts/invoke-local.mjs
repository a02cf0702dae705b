#!/usr/bin/env node
// Invokes the BUILT bundle (dist/extract/index.mjs) the way the Lambda runtime does:
// a fresh process, one import, one handler call with a context that counts down.
//
//   node lambda/scripts/invoke-local.mjs <event.json> [timeoutMs]
//
// Prints the handler's return value as one JSON line; exits 1 on error.
// `cold_start_ms` (import + first call) goes to stderr.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [eventPath, timeoutArg] = process.argv.slice(2);
if (!eventPath) {
  console.error('usage: node lambda/scripts/invoke-local.mjs <event.json> [timeoutMs]');
  process.exit(2);
}
const event = JSON.parse(await readFile(eventPath, 'utf8'));
const timeoutMs = Number(timeoutArg ?? 60_000);
const bundle = process.env.SLUICE_LAMBDA_BUNDLE ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'extract', 'index.mjs');

const t0 = performance.now();
const deadline = Date.now() + timeoutMs;
const context = { awsRequestId: 'local', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  const tImport = performance.now();
  const result = await handler(event, context);
  const tDone = performance.now();
  console.error(JSON.stringify({ import_ms: Math.round(tImport - t0), cold_start_ms: Math.round(tDone - t0) }));
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: { code: e?.code ?? 'INTERNAL', message: String(e?.message ?? e).split('\n')[0] } }) + '\n');
  process.exitCode = 1;
}
