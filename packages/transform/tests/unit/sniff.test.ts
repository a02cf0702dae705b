import { describe, expect, it } from 'vitest';
import { sniffDelimiter } from '../../src/sniff.js';
import { makeLocalOffset } from '../../src/timezone.js';
import { CsvReader } from '../../src/read-csv.js';

const b = (s: string) => new TextEncoder().encode(s);
async function* chunks(...parts: string[]) {
  for (const p of parts) yield b(p);
}

describe('dialect sniffing', () => {
  it('picks the delimiter that splits rows consistently, ignoring quoted ones', () => {
    const pick = (s: string) => sniffDelimiter(b(s), s.length, true);
    expect(pick('a,b,c\n1,2,3\n')).toBe(',');
    expect(pick('a;b;c\n"1,5";2;3\n"2,5";3;4\n')).toBe(';');
    expect(pick('a\tb\n1\t2\n')).toBe('\t');
    expect(pick('a|b|c\n1|2|3\n')).toBe('|');
    expect(pick('single\n1\n2\n')).toBe(',');
  });

  it('detects a header from types, and its absence', async () => {
    const withHeader = await CsvReader.open({ kind: 'stream', name: 't', stream: chunks('id,when\n1,2024-01-01\n2,2024-01-02\n') });
    expect(withHeader.plan.hasHeader).toBe(true);
    const without = await CsvReader.open({ kind: 'stream', name: 't', stream: chunks('1,2024-01-01\n2,2024-01-02\n') });
    expect(without.plan.hasHeader).toBe(false);
    expect(without.plan.columns.map((c) => c.name)).toEqual(['column_1', 'column_2']);
  });

  it('names duplicate and empty header cells uniquely', async () => {
    const r = await CsvReader.open({ kind: 'stream', name: 't', stream: chunks('a,a,,b\nx,y,z,w\n') }, { header: true });
    expect(r.plan.columns.map((c) => c.name)).toEqual(['a', 'a_2', 'column_3', 'b']);
  });
});

describe('time zones', () => {
  it('gives the zone offset of a wall-clock time, DST included', () => {
    const seoul = makeLocalOffset('Asia/Seoul');
    expect(seoul(Date.UTC(2024, 0, 1, 12) * 1000)).toBe(9 * 3600e6);
    const ny = makeLocalOffset('America/New_York');
    expect(ny(Date.UTC(2024, 0, 15, 12) * 1000)).toBe(-5 * 3600e6);
    expect(ny(Date.UTC(2024, 6, 15, 12) * 1000)).toBe(-4 * 3600e6);
    expect(makeLocalOffset('UTC')(0)).toBe(0);
    expect(() => makeLocalOffset('Mars/Olympus')).toThrow(/time zone/);
  });
});
