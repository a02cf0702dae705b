import { describe, expect, it } from 'vitest';
import { daysFromCivil, lastOffsetMinutes, NO_OFFSET, parseBigInt, parseBool, parseDate, parseFloatBytes, parseSmallInt, parseTimestampLocal } from '../../src/parse-bytes.js';
import { joinTypes, typeOfValue } from '../../src/column-types.js';

const b = (s: string) => new TextEncoder().encode(s);
const at = <T>(fn: (buf: Uint8Array, s: number, e: number, ...rest: never[]) => T, s: string, ...rest: unknown[]): T => {
  const buf = b(`xx${s}yy`); // values are read in place, inside a larger buffer
  return (fn as (buf: Uint8Array, s: number, e: number, ...r: unknown[]) => T)(buf, 2, buf.length - 2, ...rest);
};

describe('numbers from bytes', () => {
  it('parses integers exactly and refuses identifiers with leading zeros', () => {
    expect(at(parseSmallInt, '-2147483648', false)).toBe(-2147483648);
    expect(at(parseSmallInt, '+42', false)).toBe(42);
    expect(at(parseSmallInt, '0', false)).toBe(0);
    expect(at(parseSmallInt, '007', false)).toBeNaN();
    expect(at(parseSmallInt, '007', true)).toBe(7);
    expect(at(parseSmallInt, '1.5', false)).toBeNaN();
    expect(at(parseSmallInt, '-', false)).toBeNaN();
    expect(at(parseSmallInt, '1234567890123456', false)).toBeNaN(); // 16 digits: slow path
    expect(at(parseBigInt, '9223372036854775807', false)).toBe(9223372036854775807n);
    expect(at(parseBigInt, '9223372036854775808', false)).toBeUndefined();
    expect(at(parseBigInt, '-9223372036854775808', false)).toBe(-9223372036854775808n);
  });

  it('parses decimals to the same double as Number()', () => {
    for (const s of ['-1234.56', '0.1', '0.3', '1e3', '-2.5E-3', '.5', '5.', '123456789012.345', '0.000001', '99999.99', '1.7976931348623157e308']) {
      expect(at(parseFloatBytes, s, false)).toBe(Number(s));
    }
    for (let i = 0; i < 2000; i++) {
      const s = (Math.random() * 2e6 - 1e6).toFixed(i % 7);
      expect(at(parseFloatBytes, s, false)).toBe(Number(s));
    }
    expect(at(parseFloatBytes, '1.2.3', false)).toBeNaN();
    expect(at(parseFloatBytes, 'abc', false)).toBeNaN();
    expect(at(parseFloatBytes, '00123', false)).toBeNaN();
    expect(at(parseFloatBytes, '1e', false)).toBeNaN();
  });

  it('reads booleans in any case', () => {
    expect(at(parseBool, 'TRUE')).toBe(1);
    expect(at(parseBool, 'False')).toBe(0);
    expect(at(parseBool, 'yes')).toBeNaN();
  });
});

describe('dates and timestamps from bytes', () => {
  it('computes epoch days like Date.UTC, leap years included', () => {
    for (const [y, m, d] of [[1970, 1, 1], [2000, 2, 29], [1900, 3, 1], [1600, 12, 31], [2024, 12, 31], [1969, 12, 31]] as const) {
      expect(daysFromCivil(y, m, d)).toBe(Date.UTC(y, m - 1, d) / 86_400_000);
    }
    expect(at(parseDate, '2000-02-29')).toBe(Date.UTC(2000, 1, 29) / 86_400_000);
    expect(at(parseDate, '1900-02-29')).toBeNaN();
    expect(at(parseDate, '2024-13-01')).toBeNaN();
    expect(at(parseDate, '2024-1-01')).toBeNaN();
  });

  it('parses ISO 8601 timestamps with T or space, fractions and offsets', () => {
    const micros = (iso: string) => Date.parse(iso) * 1000;
    expect(at(parseTimestampLocal, '2024-03-01T09:00:00Z')).toBe(micros('2024-03-01T09:00:00Z'));
    expect(lastOffsetMinutes).toBe(0);
    expect(at(parseTimestampLocal, '2024-03-01 18:30:15.250+09:00')).toBe(micros('2024-03-01T18:30:15.250Z') );
    expect(lastOffsetMinutes).toBe(540);
    expect(at(parseTimestampLocal, '2024-03-01T18:30:15.123456-0330')).toBe(micros('2024-03-01T18:30:15.123Z') + 456);
    expect(lastOffsetMinutes).toBe(-210);
    expect(at(parseTimestampLocal, '2024-03-01T18:30')).toBe(micros('2024-03-01T18:30:00Z'));
    expect(lastOffsetMinutes).toBe(NO_OFFSET);
    expect(at(parseTimestampLocal, '2024-03-01T18:30:00.1234560')).toBe(micros('2024-03-01T18:30:00.123Z') + 456);
    expect(at(parseTimestampLocal, '2024-03-01T18:30:00.1234567')).toBeNaN(); // would lose nanoseconds
    expect(at(parseTimestampLocal, '2024-03-01T25:00:00')).toBeNaN();
    expect(at(parseTimestampLocal, '2024-03-01')).toBeNaN();
  });
});

describe('type lattice', () => {
  it('infers the narrowest type of a value', () => {
    const t = (s: string) => at(typeOfValue, s);
    expect(t('12')).toBe('int32');
    expect(t('3000000000')).toBe('int64');
    expect(t('12345678901234567')).toBe('int64');
    expect(t('99999999999999999999')).toBe('text'); // beyond int64: a double would round it
    expect(t('-1.5')).toBe('float64');
    expect(t('true')).toBe('boolean');
    expect(t('2024-01-01')).toBe('date');
    expect(t('2024-01-01T00:00:00Z')).toBe('timestamp');
    expect(t('007')).toBe('text');
    expect(t('BRC')).toBe('text');
  });

  it('widens without loss', () => {
    expect(joinTypes('int32', 'int64')).toBe('int64');
    expect(joinTypes('int64', 'float64')).toBe('float64');
    expect(joinTypes('date', 'timestamp')).toBe('timestamp');
    expect(joinTypes('int32', 'boolean')).toBe('text');
    expect(joinTypes('date', 'int32')).toBe('text');
  });
});
