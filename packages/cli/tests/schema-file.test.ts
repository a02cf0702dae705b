import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSchemaJson } from '../src/schema-file.js';
import { REPO } from './support/run-cli.js';

describe('--schema file', () => {
  it('accepts the object and the list shape', () => {
    expect(parseSchemaJson({ columns: { a: 'int64', b: 'text' } })).toEqual({ a: 'int64', b: 'text' });
    expect(parseSchemaJson({ columns: [{ name: 'a', type: 'date' }] })).toEqual({ a: 'date' });
  });

  it('refuses unknown types and malformed files with a message that lists the types', () => {
    expect(() => parseSchemaJson({ columns: { a: 'integer' } })).toThrow(/int32, int64, float64, boolean, date, timestamp, text/);
    expect(() => parseSchemaJson({ cols: {} })).toThrow(/no "columns"/);
    expect(() => parseSchemaJson({ columns: [{ name: 'a', type: 'text' }, { name: 'a', type: 'int32' }] })).toThrow(/twice/);
  });

  it('documents exactly the types the parser accepts', () => {
    const doc = JSON.parse(readFileSync(`${REPO}docs/schema-file.schema.json`, 'utf8')) as { $defs: { type: { enum: string[] } } };
    for (const t of doc.$defs.type.enum) expect(parseSchemaJson({ columns: { x: t } })).toEqual({ x: t });
  });
});
