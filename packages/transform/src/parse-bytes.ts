/**
 * Parsers that read values straight from UTF-8 bytes, with no JS string per
 * field. Each returns NaN when the bytes are not a value of its type, so the
 * hot loops test one number instead of allocating result objects.
 *
 * Numbers are exact: integers of up to 15 digits and decimals of up to 15
 * significant digits are accumulated in a double (exact below 2^53) and scaled
 * by an exact power of ten, which rounds correctly (Clinger's fast path).
 * Anything longer takes a slow path through the JS number/BigInt parsers.
 */

const D0 = 0x30;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const latin = new TextDecoder('latin1');
function ascii(buf: Uint8Array, s: number, e: number): string {
  return latin.decode(buf.subarray(s, e));
}

/**
 * An integer of at most 15 digits (optional sign). NaN otherwise, and NaN for
 * a leading zero (`007`) unless `allowLeadingZero`: such codes are identifiers
 * and turning them into 7 would alter the data.
 */
export function parseSmallInt(buf: Uint8Array, s: number, e: number, allowLeadingZero: boolean): number {
  let neg = false;
  let p = s;
  const c0 = buf[p];
  if (c0 === MINUS) {
    neg = true;
    p++;
  } else if (c0 === PLUS) {
    p++;
  }
  const n = e - p;
  if (n <= 0 || n > 15) return NaN;
  if (!allowLeadingZero && n > 1 && buf[p] === D0) return NaN;
  let v = 0;
  for (; p < e; p++) {
    const d = buf[p]! - D0;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An integer that fits int64, as a BigInt; undefined otherwise. Slow path. */
export function parseBigInt(buf: Uint8Array, s: number, e: number, allowLeadingZero: boolean): bigint | undefined {
  let p = s;
  if (buf[p] === MINUS || buf[p] === PLUS) p++;
  const n = e - p;
  if (n <= 0 || n > 19) return undefined;
  if (!allowLeadingZero && n > 1 && buf[p] === D0) return undefined;
  for (let k = p; k < e; k++) {
    const d = buf[k]! - D0;
    if (d < 0 || d > 9) return undefined;
  }
  const v = BigInt(ascii(buf, s, e));
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/**
 * A decimal number: optional sign, digits with an optional `.`, optional
 * exponent. NaN when not a number. `1.` and `.5` are accepted.
 */
export function parseFloatBytes(buf: Uint8Array, s: number, e: number, allowLeadingZero: boolean): number {
  let p = s;
  let neg = false;
  const c0 = buf[p];
  if (c0 === MINUS) {
    neg = true;
    p++;
  } else if (c0 === PLUS) {
    p++;
  }
  // `00123` is an identifier, not 123; `0.5` is a number.
  if (!allowLeadingZero && buf[p] === D0 && p + 1 < e) {
    const d1 = buf[p + 1]! - D0;
    if (d1 >= 0 && d1 <= 9) return NaN;
  }
  let mant = 0;
  let digits = 0;
  let sig = 0;
  let frac = 0;
  let seenDot = false;
  for (; p < e; p++) {
    const c = buf[p]!;
    const d = c - D0;
    if (d >= 0 && d <= 9) {
      digits++;
      if (sig > 0 || d !== 0) sig++;
      mant = mant * 10 + d;
      if (seenDot) frac++;
    } else if (c === DOT && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
  }
  if (digits === 0) return NaN;
  if (p < e) {
    const c = buf[p]!;
    if (c !== 0x65 && c !== 0x45) return NaN; // e / E
    // Exponent: validate, then let the JS parser round it.
    let k = p + 1;
    if (buf[k] === MINUS || buf[k] === PLUS) k++;
    if (k >= e) return NaN;
    for (; k < e; k++) {
      const d = buf[k]! - D0;
      if (d < 0 || d > 9) return NaN;
    }
    return Number(ascii(buf, s, e));
  }
  if (sig > 15) return Number(ascii(buf, s, e));
  const v = frac === 0 ? mant : mant / POW10[frac]!;
  return neg ? -v : v;
}

/** `true` / `false`, any case. 1, 0 or NaN. */
export function parseBool(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 4) {
    if ((buf[s]! | 0x20) === 0x74 && (buf[s + 1]! | 0x20) === 0x72 && (buf[s + 2]! | 0x20) === 0x75 && (buf[s + 3]! | 0x20) === 0x65) return 1;
  } else if (n === 5) {
    if (
      (buf[s]! | 0x20) === 0x66 &&
      (buf[s + 1]! | 0x20) === 0x61 &&
      (buf[s + 2]! | 0x20) === 0x6c &&
      (buf[s + 3]! | 0x20) === 0x73 &&
      (buf[s + 4]! | 0x20) === 0x65
    )
      return 0;
  }
  return NaN;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
const MDAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function dig2(buf: Uint8Array, p: number): number {
  const a = buf[p]! - D0;
  const b = buf[p + 1]! - D0;
  if (a < 0 || a > 9 || b < 0 || b > 9) return NaN;
  return a * 10 + b;
}

function dateAt(buf: Uint8Array, s: number): number {
  const y = dig2(buf, s) * 100 + dig2(buf, s + 2);
  if (buf[s + 4] !== MINUS || buf[s + 7] !== MINUS) return NaN;
  const m = dig2(buf, s + 5);
  const d = dig2(buf, s + 8);
  if (!(m >= 1 && m <= 12) || !(d >= 1)) return NaN;
  const md = m === 2 && isLeap(y) ? 29 : MDAYS[m]!;
  if (d > md || y !== y) return NaN;
  return daysFromCivil(y, m, d);
}

/** `YYYY-MM-DD` as days since the epoch, or NaN. */
export function parseDate(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 10) return NaN;
  return dateAt(buf, s);
}

/** Sentinel offset meaning "no offset in the text". */
export const NO_OFFSET = 0x7fffffff;
/** Offset in minutes of the last timestamp parsed by {@link parseTimestampLocal}, or NO_OFFSET. */
export let lastOffsetMinutes = NO_OFFSET;
/** Days since the epoch and microseconds into the day of the last timestamp parsed (for the exact slow path). */
export let lastDays = 0;
export let lastDayMicros = 0;

/**
 * ISO 8601 timestamp `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:MM]]` as
 * microseconds of the wall-clock time written (the offset is NOT applied; it
 * is left in {@link lastOffsetMinutes}). NaN when not a timestamp. A fraction
 * finer than microseconds is accepted only when the extra digits are zero, so
 * nothing is silently truncated.
 */
export function parseTimestampLocal(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n < 16) return NaN;
  const days = dateAt(buf, s);
  if (days !== days) return NaN;
  const sep = buf[s + 10];
  if (sep !== 0x54 && sep !== 0x20 && sep !== 0x74) return NaN;
  const hh = dig2(buf, s + 11);
  if (buf[s + 13] !== 0x3a) return NaN;
  const mi = dig2(buf, s + 14);
  if (!(hh <= 23) || !(mi <= 59)) return NaN;
  let p = s + 16;
  let ss = 0;
  let micros = 0;
  if (p < e && buf[p] === 0x3a) {
    ss = dig2(buf, p + 1);
    if (!(ss <= 60) || p + 3 > e) return NaN;
    p += 3;
    if (p < e && (buf[p] === DOT || buf[p] === 0x2c)) {
      p++;
      let nd = 0;
      for (; p < e; p++) {
        const d = buf[p]! - D0;
        if (d < 0 || d > 9) break;
        if (nd < 6) micros = micros * 10 + d;
        else if (d !== 0) return NaN;
        nd++;
      }
      if (nd === 0) return NaN;
      for (let k = nd; k < 6; k++) micros *= 10;
    }
  }
  let off = NO_OFFSET;
  if (p < e) {
    const c = buf[p];
    if ((c === 0x5a || c === 0x7a) && p + 1 === e) {
      off = 0;
    } else if (c === PLUS || c === MINUS) {
      const oh = dig2(buf, p + 1);
      let om = 0;
      const rest = e - p - 3;
      if (rest === 0) om = 0;
      else if (rest === 3 && buf[p + 3] === 0x3a) om = dig2(buf, p + 4);
      else if (rest === 2) om = dig2(buf, p + 3);
      else return NaN;
      if (!(oh <= 18) || !(om <= 59)) return NaN;
      off = (oh * 60 + om) * (c === MINUS ? -1 : 1);
    } else {
      return NaN;
    }
  }
  lastOffsetMinutes = off;
  lastDays = days;
  lastDayMicros = ((hh * 60 + mi) * 60 + ss) * 1_000_000 + micros;
  return days * 86_400_000_000 + lastDayMicros;
}

/** Largest |micros| kept exact in a double. */
export const MAX_SAFE_MICROS = Number.MAX_SAFE_INTEGER;

/** True when the bytes equal the ASCII/UTF-8 string's bytes. */
export function bytesEqual(buf: Uint8Array, s: number, e: number, want: Uint8Array): boolean {
  if (e - s !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[s + i] !== want[i]) return false;
  return true;
}

/** Is the field one of the null markers? (Typed columns; text columns decide separately.) */
export function isNullMarker(buf: Uint8Array, s: number, e: number, markers: readonly Uint8Array[]): boolean {
  for (let i = 0; i < markers.length; i++) if (bytesEqual(buf, s, e, markers[i]!)) return true;
  return false;
}
