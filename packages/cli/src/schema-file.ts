/**
 * `--schema file.json`: pins column types by name. Its JSON Schema is
 * docs/schema-file.schema.json; two shapes are accepted:
 *
 *   { "columns": { "admin1_code": "text", "population": "int64" } }
 *   { "columns": [ { "name": "admin1_code", "type": "text" } ] }
 *
 * Columns not named are inferred as usual.
 */
import { readFile } from 'node:fs/promises';
import { COLUMN_TYPES, CsvError, isColumnType, type PinnedTypes } from '@sluice/transform';

export async function readSchemaFile(path: string): Promise<PinnedTypes> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CsvError('BAD_SCHEMA', `cannot read --schema ${path}: ${(e as Error).message}; check the path`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CsvError('BAD_SCHEMA', `--schema ${path} is not valid JSON (${(e as Error).message})`);
  }
  return parseSchemaJson(json, path);
}

export function parseSchemaJson(json: unknown, path = 'schema'): PinnedTypes {
  const bad = (why: string) =>
    new CsvError('BAD_SCHEMA', `--schema ${path}: ${why}; expected {"columns": {"<name>": "<type>"}} with types ${COLUMN_TYPES.join(', ')}`);
  if (typeof json !== 'object' || json === null || !('columns' in json)) throw bad('no "columns" member');
  const cols = (json as { columns: unknown }).columns;
  const out: PinnedTypes = {};
  const add = (name: unknown, type: unknown) => {
    if (typeof name !== 'string' || name === '') throw bad(`column name ${JSON.stringify(name)} is not a non-empty string`);
    if (typeof type !== 'string' || !isColumnType(type)) throw bad(`column "${name}" has unknown type ${JSON.stringify(type)}`);
    if (name in out) throw bad(`column "${name}" is named twice`);
    out[name] = type;
  };
  if (Array.isArray(cols)) {
    for (const c of cols) {
      if (typeof c !== 'object' || c === null) throw bad('a column entry is not an object');
      add((c as { name?: unknown }).name, (c as { type?: unknown }).type);
    }
  } else if (typeof cols === 'object' && cols !== null) {
    for (const [k, v] of Object.entries(cols)) add(k, v);
  } else {
    throw bad('"columns" is neither an object nor an array');
  }
  return out;
}
