/**
 * The csv-parse fallback: dialects the byte tokenizer does not read (a quote
 * other than `"`, an escape other than the doubled quote, comment lines) go
 * through csv-parse, and its records are laid out as a block + grid so the
 * same column casts, rejects and line numbers apply.
 */
import { once } from 'node:events';
import type { Reject } from '@sluice/core';
import { loadCsvParse } from './lazy.js';
import type { CsvPlan, CsvReadOptions } from './read-csv.js';
import type { Grid } from './tokenizer.js';

const enc = new TextEncoder();

export function csvParseDialect(delimiter: string, o: CsvReadOptions) {
  const quote = o.quote ?? '"';
  return {
    delimiter,
    quote,
    escape: o.escape ?? quote,
    ...(o.comment === undefined ? {} : { comment: o.comment }),
    skip_empty_lines: true,
  };
}

/**
 * Writes string records into one UTF-8 block and points the grid at their
 * fields, so csv-parse output goes through the same column casts. Empty
 * fields are null (csv-parse does not say whether they were quoted).
 */
export function layoutRecords(records: readonly string[][], ncols: number, grid: Grid, delimiter = 0x2c): Uint8Array {
  grid.reset();
  let bytes = 0;
  for (const r of records) for (const f of r) bytes += f.length * 3 + 1;
  const buf = new Uint8Array(bytes);
  let w = 0;
  for (const rec of records) {
    grid.ensureRow();
    const base = grid.rows * ncols;
    const rowStart = w;
    for (let c = 0; c < ncols; c++) {
      // Fields are separated by the delimiter so a row's bytes read as a record in rejects.
      if (c > 0) buf[w++] = delimiter;
      const f = rec[c] ?? '';
      const { written } = enc.encodeInto(f, buf.subarray(w));
      grid.start[base + c] = w;
      w += written;
      grid.end[base + c] = w;
      grid.flags[base + c] = 0;
    }
    grid.rowStart[grid.rows] = rowStart;
    grid.rowEnd[grid.rows] = w;
    grid.rowLine[grid.rows] = (rec as string[] & { line?: number }).line ?? 0;
    grid.rows++;
  }
  return buf;
}

/** Records from csv-parse in groups, with ragged and malformed records reported as rejects. */
export async function* csvParseGroups(
  chunks: AsyncIterable<Uint8Array>,
  plan: CsvPlan,
  options: CsvReadOptions,
  reject: (line: number, code: Reject['code'], message: string, raw: string) => void,
  defaultMaxRecordBytes: number,
): AsyncGenerator<{ rows: string[][]; rejected: number }> {
  const ncols = plan.columns.length;
  let rejected = 0;
  const { parse: parseStream } = await loadCsvParse();
  const parser = parseStream({
    ...csvParseDialect(plan.delimiter, options),
    relax_column_count: true,
    info: true,
    raw: true,
    skip_records_with_error: true,
    from: plan.hasHeader ? 2 : 1,
    max_record_size: options.maxRecordBytes ?? defaultMaxRecordBytes,
    on_skip: (err: { code?: string; message: string; lines?: number } | undefined, raw: string | undefined) => {
      rejected++;
      const code = err?.code === 'CSV_QUOTE_NOT_CLOSED' ? 'UNCLOSED_QUOTE' : err?.code === 'CSV_MAX_RECORD_SIZE' ? 'RECORD_TOO_LARGE' : 'BAD_RECORD';
      reject(err?.lines ?? 0, code, `${err?.message ?? 'malformed record'} (csv-parse)`, raw ?? '');
    },
  });
  const feed = (async () => {
    try {
      // The byte source reuses its buffer: hand csv-parse copies.
      for await (const c of chunks) if (!parser.write(Buffer.from(c))) await once(parser, 'drain');
      parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
  let rows: string[][] = [];
  for await (const item of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
    const raw = item.raw.replace(/\r?\n$|\r$/, '');
    const lines = raw.split(/\r\n|\n|\r/).length;
    const line = item.info.lines - lines + 1;
    if (item.record.length !== ncols) {
      rejected++;
      reject(line, 'RAGGED_ROW', `expected ${ncols} fields, found ${item.record.length}; fix the row or check the delimiter`, raw);
      continue;
    }
    const rec = item.record as string[] & { line?: number };
    rec.line = line;
    rows.push(rec);
    if (rows.length >= 4096) {
      yield { rows, rejected };
      rows = [];
      rejected = 0;
    }
  }
  await feed;
  if (rows.length > 0 || rejected > 0) yield { rows, rejected };
}

