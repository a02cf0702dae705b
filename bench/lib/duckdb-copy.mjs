// DuckDB reference side of the transform benchmark, run as its own child process:
//
//   node bench/lib/duckdb-copy.mjs <input.csv> <output.parquet>
//     -> SET threads=1; COPY (SELECT * FROM read_csv(<csv>)) TO <out> (FORMAT parquet, COMPRESSION zstd)
//     last stdout line: {"rows_out":n,"duration_ms":..,"peak_rss_bytes":..}
//
//   node bench/lib/duckdb-copy.mjs --describe <input.csv>
//     -> DESCRIBE of read_csv(<csv>) plus the aggregates the generator's stats are checked against;
//        last stdout line: {"describe":[{column_name,column_type},...],"check":{...}}
//
// read_csv runs with DuckDB's defaults (sniffed dialect, header, types), exactly as a
// user would call it; nothing is tuned for the benchmark.
import { DuckDBInstance } from '@duckdb/node-api';

const sqlStr = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function main() {
  const args = process.argv.slice(2);
  const describe = args[0] === '--describe';
  if (describe) args.shift();
  const [csv, out] = args;
  if (!csv || (!describe && !out)) {
    console.error('usage: duckdb-copy.mjs <input.csv> <output.parquet> | --describe <input.csv>');
    process.exit(2);
  }
  const t0 = process.hrtime.bigint();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  await conn.run('SET threads=1');
  const src = `read_csv(${sqlStr(csv)})`;

  if (describe) {
    const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
    const cols = d.getRowObjectsJS().map((r) => ({ column_name: r.column_name, column_type: r.column_type }));
    const c = await conn.runAndReadAll(`SELECT
        count(*)::BIGINT AS rows,
        count(qty)::BIGINT AS qty_nonnull, sum(qty)::BIGINT AS sum_qty,
        count(score)::BIGINT AS score_nonnull,
        count(is_active)::BIGINT AS is_active_nonnull, count_if(is_active)::BIGINT AS true_count,
        count(note)::BIGINT AS note_nonnull, count_if(contains(note, chr(10)))::BIGINT AS notes_with_newline,
        sum(big_value)::VARCHAR AS sum_big_value,
        sum(epoch_ms(created_at))::VARCHAR AS sum_created_at_ms,
        sum(date_diff('day', DATE '1970-01-01', event_date))::BIGINT AS sum_event_date_days,
        round(sum(amount) * 100)::BIGINT AS sum_amount_cents,
        max(id)::BIGINT AS max_id
      FROM ${src}`);
    const check = c.getRowObjectsJS()[0];
    for (const k of Object.keys(check)) if (typeof check[k] === 'bigint') check[k] = String(check[k]);
    console.log(JSON.stringify({ describe: cols, check }));
    instance.closeSync();
    return;
  }

  const r = await conn.run(
    `COPY (SELECT * FROM ${src}) TO ${sqlStr(out)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const rows = r.rowsChanged;
  instance.closeSync();
  const duration = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({
    rows_out: rows,
    duration_ms: Math.round(duration),
    // ru_maxrss of this process (kB on Linux, Node returns kB)
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }));
}

main().catch((e) => {
  console.error(`duckdb-copy: ${e?.stack ?? e}`);
  process.exit(1);
});
