// Deterministic CSV generator for the transform benchmark.
//
// Same seed + same row count => byte-identical file (seeded xorshift PRNG,
// no Math.random, no local time zone). Rows are built as strings, joined into
// ~4 MiB chunks and written with fs.writeSync, so memory stays small and the
// generator runs at disk/CPU speed.
//
// Columns (header row first, LF line ends, UTF-8 without BOM, `,` delimiter):
//
//  #  name        expected type                 content
//  1  id          int32                         1..rows, sequential, never empty
//  2  created_at  timestamp (UTC instant)       ISO 8601 with `T`; half end in `Z`, half in `+09:00`
//                                               (the wall clock then is UTC+9); ~30 % carry `.mmm`
//                                               milliseconds; instants in [2020-01-01, 2026-01-01) UTC
//  3  event_date  date                          YYYY-MM-DD in [2020-01-01, 2026-01-01)
//  4  city        text                          one of 17 Korean province/city names, never quoted
//  5  qty         int32                         -5000..54999, ~3 % empty (null)
//  6  big_value   int64                         |v| in [2^31, 2^31 + 2^40), ~25 % negative, never empty
//  7  amount      float64 (decimal, 2 places)   -100000.00..99999.99, ~half negative, never empty
//  8  score       float64 (3 places)            0.000..99.999, ~5 % empty (null)
//  9  is_active   boolean                       `true` / `false` (lowercase), ~2 % empty (null)
// 10  note        text                          ~70 % empty (null); otherwise ASCII or Korean text,
//                                               ~4 % of rows quoted with a `,`, ~3 % with doubled
//                                               quotes `""`, ~3 % with an embedded `\n`, ~1 % all
//                                               of these plus Korean
// 11  code        text                          two ASCII letters + `-` + 3 digits, e.g. `SE-042`
//
// Quoted notes with embedded newlines mean the number of physical lines is
// larger than rows + 1; `stats.physicalLines` reports it.

import fs from 'node:fs';

export const COLUMNS = [
  'id', 'created_at', 'event_date', 'city', 'qty', 'big_value',
  'amount', 'score', 'is_active', 'note', 'code',
];

export const EXPECTED_TYPES = {
  id: 'int32', created_at: 'timestamp', event_date: 'date', city: 'text', qty: 'int32',
  big_value: 'int64', amount: 'float64', score: 'float64', is_active: 'boolean',
  note: 'text', code: 'text',
};

const CITIES = [
  '서울특별시', '부산광역시', '대구광역시', '인천광역시', '광주광역시', '대전광역시',
  '울산광역시', '세종특별자치시', '경기도', '강원특별자치도', '충청북도', '충청남도',
  '전북특별자치도', '전라남도', '경상북도', '경상남도', '제주특별자치도',
];

const PLAIN_NOTES = [
  'ok', 'pending review', 'refund requested', 'shipped', 'gift wrap',
  '배송 완료', '반품 요청', '재고 확인 중', '문의 답변 완료', 'VIP 고객',
];
// Already CSV-encoded (quoted) values; DECODED holds what a reader must yield.
const COMMA_NOTES = ['"Seoul, Korea"', '"서울, 대한민국"', '"a,b,c"', '"late, then refunded"'];
const QUOTE_NOTES = ['"He said ""hello"""', '"27"" monitor"', '"""quoted"" start"', '"부산 ""해운대"" 지점"'];
const NEWLINE_NOTES = ['"line one\nline two"', '"주소:\n서울특별시 중구 세종대로 110"', '"a\n\nb"'];
const COMBO_NOTES = ['"multi, ""quoted""\nline, 서울"', '"x,""y""\n,z\n"'];

export function decodeQuoted(s) {
  return s.slice(1, -1).replaceAll('""', '"');
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** xorshift32 -> uint32; deterministic, fast. */
function makeRng(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return {
    u32() {
      s ^= s << 13; s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5; s >>>= 0;
      return s;
    },
    /** integer in [0, n), n <= 2^32 */
    int(n) { return Math.floor((this.u32() / 4294967296) * n); },
  };
}

// Howard Hinnant's civil_from_days: days since 1970-01-01 -> [y, m, d]
function civilFromDays(z) {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? y + 1 : y, m, d];
}

function fmtDate(days) {
  const [y, m, d] = civilFromDays(days);
  return y + '-' + PAD2[m] + '-' + PAD2[d];
}

const T0 = Date.UTC(2020, 0, 1) / 1000; // seconds
const SPAN_S = (Date.UTC(2026, 0, 1) / 1000) - T0;
const D0 = T0 / 86400;
const SPAN_D = SPAN_S / 86400;

/** Exact sum of integers |v| < 2^53 without BigInt per row. */
class ExactSum {
  constructor() { this.hi = 0; this.lo = 0; }
  add(v) {
    const hi = Math.floor(v / 67108864); // 2^26
    this.hi += hi;
    this.lo += v - hi * 67108864;
  }
  get value() { return BigInt(this.hi) * 67108864n + BigInt(this.lo); }
}

/**
 * Write `rows` data rows (plus a header) to `path`.
 * Returns stats used to cross-check readers (counts, exact sums).
 */
export function generateCsv(path, rows, { seed = 20260422, writeBytes = 4 << 20 } = {}) {
  const rng = makeRng(seed);
  const fd = fs.openSync(path, 'w');
  const stats = {
    rows, bytes: 0, physicalLines: 1,
    nonNull: Object.fromEntries(COLUMNS.map((c) => [c, 0])),
    sumQty: 0, trueCount: 0, notesWithNewline: 0, notesQuoted: 0,
    sumBigValue: new ExactSum(), sumCreatedAtMs: new ExactSum(), sumEventDateDays: 0,
    sumAmountCents: 0,
  };
  // Rows are joined into small strings (~64 Ki UTF-16 units, so the short-lived
  // strings die young in V8's nursery - much less GC than one big join), encoded
  // into one big output buffer, and that buffer is written in `writeBytes` chunks.
  const SMALL = 1 << 16;
  const out = Buffer.allocUnsafe(writeBytes);
  let used = 0;
  let parts = [COLUMNS.join(',') + '\n'];
  let pending = parts[0].length;
  const writeOut = () => {
    if (used > 0) fs.writeSync(fd, out, 0, used);
    stats.bytes += used;
    used = 0;
  };
  const flush = () => {
    // a UTF-16 unit encodes to at most 3 UTF-8 bytes
    if (used + 3 * pending > out.length) writeOut();
    used += out.write(parts.join(''), used, 'utf8');
    parts = [];
    pending = 0;
  };
  const nn = stats.nonNull;
  try {
    for (let i = 1; i <= rows; i++) {
      // created_at
      const sec = T0 + rng.int(SPAN_S);
      const withMs = rng.int(10) < 3;
      const ms = withMs ? rng.int(1000) : 0;
      const tokyo = rng.int(2) === 1;
      const wall = tokyo ? sec + 9 * 3600 : sec;
      const days = Math.floor(wall / 86400);
      const sod = wall - days * 86400;
      let ts = fmtDate(days) + 'T' + PAD2[Math.floor(sod / 3600)] + ':' + PAD2[Math.floor(sod / 60) % 60] + ':' + PAD2[sod % 60];
      if (withMs) ts += '.' + PAD3[ms];
      ts += tokyo ? '+09:00' : 'Z';
      stats.sumCreatedAtMs.add(sec * 1000 + ms);
      // event_date
      const ed = D0 + rng.int(SPAN_D);
      stats.sumEventDateDays += ed;
      // city
      const city = CITIES[rng.int(CITIES.length)];
      // qty
      let qty = '';
      if (rng.int(100) >= 3) {
        const q = rng.int(60000) - 5000;
        qty = String(q); stats.sumQty += q; nn.qty++;
      }
      // big_value: |v| in [2^31, 2^31 + 2^40)
      const mag = 2147483648 + rng.int(1 << 8) * 4294967296 + rng.u32();
      const big = rng.int(4) === 0 ? -mag : mag;
      stats.sumBigValue.add(big);
      // amount (cents)
      const cents = rng.int(20000000) - 10000000;
      stats.sumAmountCents += cents;
      const ac = cents < 0 ? -cents : cents;
      const amount = (cents < 0 ? '-' : '') + Math.floor(ac / 100) + '.' + PAD2[ac % 100];
      // score
      let score = '';
      if (rng.int(100) >= 5) { const s = rng.int(100000); score = Math.floor(s / 1000) + '.' + PAD3[s % 1000]; nn.score++; }
      // is_active
      let active = '';
      const b = rng.int(100);
      if (b >= 2) { const t = b & 1; active = t ? 'true' : 'false'; stats.trueCount += t; nn.is_active++; }
      // note
      let note = '';
      const k = rng.int(100);
      if (k < 70) {
        // null
      } else if (k < 85) {
        note = PLAIN_NOTES[rng.int(PLAIN_NOTES.length)];
      } else if (k < 89) {
        note = COMMA_NOTES[rng.int(COMMA_NOTES.length)];
      } else if (k < 92) {
        note = QUOTE_NOTES[rng.int(QUOTE_NOTES.length)];
      } else if (k < 95) {
        note = NEWLINE_NOTES[rng.int(NEWLINE_NOTES.length)];
      } else if (k < 96) {
        note = COMBO_NOTES[rng.int(COMBO_NOTES.length)];
      } else {
        note = PLAIN_NOTES[rng.int(PLAIN_NOTES.length)] + ' #' + rng.int(1000);
      }
      if (note !== '') {
        nn.note++;
        if (note.charCodeAt(0) === 34) {
          stats.notesQuoted++;
          const nl = note.split('\n').length - 1;
          if (nl) { stats.notesWithNewline++; stats.physicalLines += nl; }
        }
      }
      // code
      const code = LETTERS[rng.int(26)] + LETTERS[rng.int(26)] + '-' + PAD3[rng.int(1000)];

      const line = i + ',' + ts + ',' + fmtDate(ed) + ',' + city + ',' + qty + ',' + big + ',' + amount + ',' +
        score + ',' + active + ',' + note + ',' + code + '\n';
      parts.push(line);
      stats.physicalLines++;
      pending += line.length; // UTF-16 units; close enough to decide when to flush
      if (pending >= SMALL) flush();
    }
    flush();
    writeOut();
  } finally {
    fs.closeSync(fd);
  }
  nn.id = nn.created_at = nn.event_date = nn.city = nn.big_value = nn.amount = nn.code = rows;
  return {
    ...stats,
    sumBigValue: stats.sumBigValue.value,
    sumCreatedAtMs: stats.sumCreatedAtMs.value,
  };
}
