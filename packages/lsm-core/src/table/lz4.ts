/**
 * The LZ4 *block* format (no frame, no size prefix: the table's block framing stores the decoded length),
 * written here rather than taken from npm because the pure-JS packages decode without bounds checks
 * (corrupt input silently yields short or garbage output) and allocate megabytes at import time.
 * Output is standard LZ4: any LZ4 block decoder reads it and this decoder reads theirs.
 *
 * ```
 * block    := sequence* last
 * sequence := token: u8 | [literal length extension] | literals | offset: u16 LE | [match length extension]
 * last     := token: u8 | [literal length extension] | literals          (no offset, no match)
 *
 *   token                high nibble = literal count (15 = "more follows"), low nibble = match length - 4
 *   length extension     bytes added to 15 while each byte is 255, ending with the first byte < 255
 *   offset               distance back into the output, 1..65535, copy may overlap (run-length)
 * ```
 *
 * Encoder rules from the LZ4 spec that other decoders rely on: the last 5 bytes are always literals and the
 * last match starts at least 12 bytes before the end.
 *
 * @module
 */

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65_535;
const HASH_LOG = 14;

/** Thrown on malformed LZ4 input; the table layer reports it as CORRUPTION. */
export class Lz4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Lz4Error";
  }
}

// Positions are stored as `pos + generation`, so entries left by earlier inputs read as negative
// (invalid) and the table never needs clearing between calls.
const table = new Uint32Array(1 << HASH_LOG);
let generation = 0;

/** The largest output {@link lz4Compress} can produce for `n` input bytes. */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/** Compresses `src` into one LZ4 block. The result may be a view of a larger buffer. */
export function lz4Compress(src: Uint8Array): Uint8Array {
  return compressInto(src, new Uint8Array(lz4CompressBound(src.length)));
}

let scratch = new Uint8Array(0);

/**
 * Like {@link lz4Compress}, but the result is a view of a buffer reused by the next call: use or copy
 * it first. Table writing compresses every block once and copies it into the file buffer at once, and
 * a fresh buffer per block was the bulk of the ArrayBuffer churn that made V8 run full collections
 * (each a pause of several milliseconds) during compactions.
 */
export function lz4CompressReusingBuffer(src: Uint8Array): Uint8Array {
  const bound = lz4CompressBound(src.length);
  if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length, 64 * 1024));
  return compressInto(src, scratch);
}

function compressInto(src: Uint8Array, dst: Uint8Array): Uint8Array {
  const n = src.length;
  if (generation + n + 1 > 0x7fff_ffff) {
    table.fill(0);
    generation = 0;
  }
  const base = generation + 1;
  generation += n + 1;
  let op = 0;
  let anchor = 0;
  let ip = 0;
  const matchStartLimit = n - MF_LIMIT;
  const matchEndLimit = n - LAST_LITERALS;
  // `seq` holds the four bytes at `ip` (little-endian, signed: only hashed and compared); a step of one
  // shifts one byte in instead of reading all four again.
  let seq = ip < matchStartLimit ? read32(src, ip) : 0;
  while (ip < matchStartLimit) {
    const h = Math.imul(seq, 0x9e3779b1) >>> (32 - HASH_LOG);
    const candidate = (table[h] as number) - base;
    table[h] = ip + base;
    if (candidate < 0 || ip - candidate > MAX_OFFSET || read32(src, candidate) !== seq) {
      // Skip faster through data that does not compress, as the reference encoder does.
      const step = 1 + ((ip - anchor) >>> 6);
      ip += step;
      seq = step === 1 ? (seq >>> 8) | ((src[ip + 3] as number) << 24) : read32(src, ip);
      continue;
    }
    let length = MIN_MATCH;
    while (ip + length < matchEndLimit && src[candidate + length] === src[ip + length]) length++;
    // Skipping may have stepped past the start of the repeat: extend the match backwards too (never
    // before `anchor`, so the literals before it stay whole; the offset does not change).
    let start = ip;
    let from = candidate;
    while (start > anchor && from > 0 && src[start - 1] === src[from - 1]) {
      start--;
      from--;
    }
    length += ip - start;
    op = writeSequence(dst, op, src, anchor, start - anchor, start - from, length);
    ip = start + length;
    anchor = ip;
    if (ip < matchStartLimit) seq = read32(src, ip);
  }
  op = writeLiterals(dst, op, src, anchor, n - anchor, 0);
  return dst.subarray(0, op);
}

/**
 * Decodes one LZ4 block that must expand to at most `maxLength` bytes. Every read and write is
 * bounds-checked: malformed input throws {@link Lz4Error}, never reads or writes out of range.
 */
export function lz4Decompress(src: Uint8Array, maxLength: number): Uint8Array {
  const dst = new Uint8Array(maxLength);
  const end = src.length;
  let ip = 0;
  let op = 0;
  if (end === 0) throw new Lz4Error("empty input");
  for (;;) {
    if (ip >= end) throw new Lz4Error("input ends inside a sequence");
    const token = src[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error("input ends inside a literal length");
        b = src[ip++] as number;
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end) throw new Lz4Error("literals run past the input");
    if (op + literals > maxLength) throw new Lz4Error(`output exceeds ${maxLength} bytes`);
    if (literals < 32) {
      for (let i = 0; i < literals; i++) dst[op + i] = src[ip + i] as number;
    } else {
      dst.set(src.subarray(ip, ip + literals), op);
    }
    ip += literals;
    op += literals;
    if (ip === end) break;
    if (ip + 2 > end) throw new Lz4Error("input ends inside an offset");
    const offset = (src[ip] as number) | ((src[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4Error(`match offset ${offset} at output ${op} is out of range`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error("input ends inside a match length");
        b = src[ip++] as number;
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    if (op + length > maxLength) throw new Lz4Error(`output exceeds ${maxLength} bytes`);
    const from = op - offset;
    if (offset >= length && length >= 32) {
      dst.copyWithin(op, from, from + length);
    } else {
      // Overlapping copies repeat the last `offset` bytes: byte by byte, in order.
      for (let i = 0; i < length; i++) dst[op + i] = dst[from + i] as number;
    }
    op += length;
  }
  return op === maxLength ? dst : dst.subarray(0, op);
}

/** Four bytes little-endian as a signed 32-bit integer (only hashed and compared, so the sign does not matter). */
function read32(data: Uint8Array, pos: number): number {
  return (data[pos] as number) | ((data[pos + 1] as number) << 8) | ((data[pos + 2] as number) << 16) | ((data[pos + 3] as number) << 24);
}

function writeSequence(dst: Uint8Array, start: number, src: Uint8Array, anchor: number, literals: number, offset: number, length: number): number {
  let op = writeLiterals(dst, start, src, anchor, literals, Math.min(length - MIN_MATCH, 15));
  dst[op++] = offset & 0xff;
  dst[op++] = offset >>> 8;
  let rest = length - MIN_MATCH;
  if (rest >= 15) {
    rest -= 15;
    while (rest >= 255) {
      dst[op++] = 255;
      rest -= 255;
    }
    dst[op++] = rest;
  }
  return op;
}

/** Writes the token (literal nibble plus `matchNibble`), the literal length extension and the literals. */
function writeLiterals(dst: Uint8Array, start: number, src: Uint8Array, anchor: number, literals: number, matchNibble: number): number {
  let op = start;
  if (literals >= 15) {
    dst[op++] = (15 << 4) | matchNibble;
    let rest = literals - 15;
    while (rest >= 255) {
      dst[op++] = 255;
      rest -= 255;
    }
    dst[op++] = rest;
  } else {
    dst[op++] = (literals << 4) | matchNibble;
  }
  dst.set(src.subarray(anchor, anchor + literals), op);
  return op + literals;
}
