import { describe, expect, it } from 'vitest';
import { CsvReader } from '../../src/read-csv.js';

const text =
  'id,name,flag,amount,when\n' +
  Array.from({ length: 1000 }, (_, i) =>
    [i, i % 7 === 0 ? '' : `name-${i}-${'x'.repeat(i % 13)}`, i % 3 === 0 ? 'true' : i % 5 === 0 ? '' : 'false', i % 11 === 0 ? '' : (i * 1.25).toFixed(2), `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`].join(','),
  ).join('\n') +
  '\n';

async function readAll(release: boolean): Promise<unknown[]> {
  async function* chunks() {
    yield new TextEncoder().encode(text);
  }
  const reader = await CsvReader.open({ kind: 'stream', name: 't', stream: chunks() }, { batchRows: 64 });
  const rows: unknown[] = [];
  for await (const { batch } of reader.batches()) {
    if (!batch) continue;
    for (const r of batch.toArray()) rows.push(JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))));
    if (release) reader.release(batch);
  }
  return rows;
}

describe('CsvReader.release', () => {
  it('reuses a released batch buffers without changing any value (nulls, booleans, text included)', async () => {
    const plain = await readAll(false);
    expect(plain).toHaveLength(1000);
    expect(await readAll(true)).toEqual(plain);
  });
});
