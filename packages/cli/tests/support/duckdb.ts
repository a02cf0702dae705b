import { DuckDBInstance } from '@duckdb/node-api';

/** Rows of every Parquet file matching `glob`, read by DuckDB (the independent reader), as JSON-safe objects. */
export async function readParquet(glob: string, orderBy?: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const sql = `SELECT * FROM read_parquet('${glob.replaceAll("'", "''")}')${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
    const r = await conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Column name → DuckDB type of the Parquet files matching `glob`. */
export async function describeParquet(glob: string): Promise<Record<string, string>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob.replaceAll("'", "''")}')`);
    const out: Record<string, string> = {};
    for (const row of r.getRowObjectsJson()) out[String(row.column_name)] = String(row.column_type);
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Any single value from a query (for metadata checks). */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
