// Bundles the extract handler for AWS Lambda (nodejs22.x):
//   dist/extract/index.mjs  (ESM, exports `handler`)
//   dist/extract.zip        (index.mjs at the zip root, ready for `aws lambda update-function-code`)
// The AWS SDK is bundled, not left to the runtime: see docs/decisions/014-lambda-bundle.md.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'dist', 'extract');
const outFile = join(outDir, 'index.mjs');
const zipFile = join(here, 'dist', 'extract.zip');

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'handler.ts')],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  // Bundle the workspace packages from their TypeScript sources (no stale dist/).
  conditions: ['sluice-source'],
  // Only the handler is needed; SDK pieces we never call are tree-shaken.
  treeShaking: true,
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies inside an ESM bundle still call require() for Node builtins.
  banner: { js: "import{createRequire as __sluiceCreateRequire}from'node:module';const require=__sluiceCreateRequire(import.meta.url);" },
});

const zip = new yazl.ZipFile();
// Fixed mtime so the same sources give the same zip bytes.
zip.addBuffer(await readFile(outFile), 'index.mjs', { mtime: new Date('2024-01-01T00:00:00Z'), mode: 0o100644 });
zip.end();
await new Promise((resolve, reject) => {
  zip.outputStream.pipe(createWriteStream(zipFile)).on('close', resolve).on('error', reject);
});

const mib = (n) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
const bundleSize = (await stat(outFile)).size;
const zipSize = (await stat(zipFile)).size;
console.log(`lambda: ${outFile} ${mib(bundleSize)} (${bundleSize} B); ${zipFile} ${mib(zipSize)} (${zipSize} B)`);
if (process.env.SLUICE_BUNDLE_REPORT) {
  const inputs = Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)
    .map(([k, v]) => [k.replace(/.*node_modules\//, '').split('/').slice(0, 2).join('/'), v.bytesInOutput])
    .reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map());
  for (const [k, v] of [...inputs].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${String(v).padStart(8)}  ${k}`);
}
if (zipSize > 2 * 1024 * 1024) {
  console.error('lambda: the zip is over the 2 MiB budget');
  process.exit(1);
}
