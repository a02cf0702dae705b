/**
 * Libraries only some inputs need, loaded on first use: iconv-lite (non-UTF-8
 * encodings) and csv-parse (the fallback dialects). Each costs a few MB of
 * RSS that a plain UTF-8 run should not pay.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Iconv = typeof import('iconv-lite');
let iconv: Iconv | undefined;
export function iconvLite(): Iconv {
  return (iconv ??= require('iconv-lite') as Iconv);
}

type CsvParse = typeof import('csv-parse');
type CsvParseSync = typeof import('csv-parse/sync');
let csvParse: CsvParse | undefined;
let csvParseSync: CsvParseSync | undefined;
export async function loadCsvParse(): Promise<{ parse: CsvParse['parse']; parseSync: CsvParseSync['parse'] }> {
  csvParse ??= await import('csv-parse');
  csvParseSync ??= await import('csv-parse/sync');
  return { parse: csvParse.parse, parseSync: csvParseSync.parse };
}
