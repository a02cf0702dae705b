import { readFile, writeFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test, vi } from 'vitest';
import { closeDuck, query, sqlPath } from './helpers.js';

// The README's example is executed as written (only the output folder is swapped
// for a fresh temp dir), so it cannot go stale.
test('README example runs and DuckDB reads its output', async () => {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const block = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const out = await mkdtemp(join(tmpdir(), 'sluice-readme-'));
  const code = block!.replace("'/tmp/sluice-example'", JSON.stringify(out));
  const file = fileURLToPath(new URL('./.readme-example.generated.ts', import.meta.url));
  await writeFile(file, code);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(/* @vite-ignore */ file);
    expect(log).toHaveBeenCalledWith({ files: [join(out, 'part-00000.parquet')], rows: 3, bytes: expect.any(Number) });
    const rows = await query(`SELECT * FROM read_parquet(${sqlPath(join(out, 'part-00000.parquet'))})`);
    expect(rows).toEqual([
      { id: 1, city: 'Seoul' },
      { id: 2, city: '부산' },
      { id: 3, city: null },
    ]);
  } finally {
    log.mockRestore();
    closeDuck();
    await rm(file, { force: true });
    await rm(out, { recursive: true, force: true });
  }
});
