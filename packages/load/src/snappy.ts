/**
 * Snappy raw-block compressor (the format Parquet's SNAPPY codec uses:
 * varint uncompressed length, then literal/copy elements), following the
 * reference algorithm: 64 KiB blocks, a hash table of 4-byte sequences, and
 * the "skip faster over incompressible data" heuristic.
 *
 * Pure JS on the main thread, so it costs the caller CPU that zstd (on the
 * libuv pool) does not; zstd stays the default. See
 * docs/decisions/002-parquet-writer.md for the numbers.
 */

const BLOCK_SIZE = 1 << 16;
const HASH_BITS = 14;
const INPUT_MARGIN = 15;
const table = new Uint16Array(1 << HASH_BITS);

function load32(a: Uint8Array, i: number): number {
  return a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24);
}

function hash(x: number): number {
  return Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

function emitLiteral(input: Uint8Array, from: number, len: number, out: Uint8Array, op: number): number {
  const n = len - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = (n >>> 16) & 0xff;
    out[op++] = n >>> 24;
  }
  if (len < 16) {
    for (let i = 0; i < len; i++) out[op + i] = input[from + i]!;
  } else {
    out.set(input.subarray(from, from + len), op);
  }
  return op + len;
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, len: number): number {
  if (len < 12 && offset < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((len - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function emitCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    op = emitCopyUpTo64(out, op, offset, 60);
    len -= 60;
  }
  return emitCopyUpTo64(out, op, offset, len);
}

function compressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  const len = end - start;
  if (len < INPUT_MARGIN + 2) return len > 0 ? emitLiteral(input, start, len, out, op) : op;
  table.fill(0);
  const ipLimit = end - INPUT_MARGIN;
  let ip = start + 1;
  let nextEmit = start;
  let nextHash = hash(load32(input, ip));
  outer: for (;;) {
    let skip = 32;
    let nextIp = ip;
    let candidate: number;
    do {
      ip = nextIp;
      const h = nextHash;
      nextIp = ip + (skip++ >>> 5);
      if (nextIp > ipLimit) break outer;
      nextHash = hash(load32(input, nextIp));
      candidate = start + table[h]!;
      table[h] = ip - start;
    } while (load32(input, ip) !== load32(input, candidate));

    op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);
    for (;;) {
      const base = ip;
      let a = candidate + 4;
      let b = ip + 4;
      while (b < end && input[a] === input[b]) {
        a++;
        b++;
      }
      ip = b;
      op = emitCopy(out, op, base - candidate, ip - base);
      nextEmit = ip;
      if (ip >= ipLimit) break outer;
      table[hash(load32(input, ip - 1))] = ip - 1 - start;
      const h = hash(load32(input, ip));
      candidate = start + table[h]!;
      table[h] = ip - start;
      if (load32(input, ip) !== load32(input, candidate)) break;
    }
    ip++;
    nextHash = hash(load32(input, ip));
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
  return op;
}

/** Compresses `input` into one Snappy raw block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(32 + n + Math.ceil(n / 6));
  let op = 0;
  let v = n;
  while (v >= 0x80) {
    out[op++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[op++] = v;
  for (let s = 0; s < n; s += BLOCK_SIZE) op = compressBlock(input, s, Math.min(n, s + BLOCK_SIZE), out, op);
  return out.subarray(0, op);
}
