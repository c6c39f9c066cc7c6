/**
 * Point lookups in a data block that is read often, without walking its entries. A block cursor's seek
 * decodes a restart point or two and then every entry from there to the key: with 100-byte values that
 * is a new cache line per entry, and a block the cache keeps may be looked up many times. So a block
 * read often (see `LAYOUT_AFTER`) gets each entry's offset and key fingerprint (./key-fingerprint.ts,
 * over the prefix every key of the block shares) laid out in one small array; later point lookups
 * binary-search the fingerprints there and decode one entry (or its few versions). Seeks do not use it:
 * a cursor needs the whole key, rebuilt from the restart point before the entry, which is most of what
 * a seek costs anyway.
 *
 * Bytewise order only. The layout costs one pass over the entry headers (which checks the block's
 * structure, so lookups here can skip those checks) and up to 16 bytes per entry, kept with the block and not
 * counted in its cache weight (under 15% of a block of 100-byte entries; only hot blocks have one).
 *
 * Why the in-place key check is exact: the search returns the first entry `i` whose fingerprint is at
 * least the key's, so entry `i - 1` has a smaller fingerprint; two keys that agree on the four bytes
 * after the shared prefix have equal fingerprints, so entry `i` shares fewer than `shared + 4` bytes with
 * entry `i - 1` and stores every byte after those four itself. With equal lengths, equal fingerprints
 * mean equal bytes in `[shared, shared + 4)`, and the prefix is checked against the first key.
 *
 * @module
 */
import { EMPTY, type PointLookup } from "../iter/cursor.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { decodeEntry, entry, type DataBlock } from "./data-block.ts";
import type { IndexBlock } from "./index-block.ts";
import { BEFORE_ALL, commonPrefixLength, fingerprintAt, placeAgainstPrefix, WITHIN } from "./key-fingerprint.ts";

/** What {@link BlockPointIndex.find} concluded. */
export const ABSENT = 0;
export const FOUND = 1;
/** Keys alike in their fingerprint bytes (or a damaged layout): a cursor seek must decide. */
export const UNDECIDED = 2;

export class BlockPointIndex {
  readonly #count: number;
  /** Length of the prefix every key of the block shares. */
  readonly #shared: number;
  /** Offset of the first key's bytes (stored whole: restart point 0). */
  readonly #firstKeyStart: number;
  /**
   * `[0, count)`: fingerprints, ascending; `[count, 2 * count)`: entry offsets. A plain array: a typed
   * array would cost an ArrayBuffer (over a microsecond to create) per block laid out.
   */
  readonly #layout: number[];

  private constructor(count: number, shared: number, firstKeyStart: number, layout: number[]) {
    this.#count = count;
    this.#shared = shared;
    this.#firstKeyStart = firstKeyStart;
    this.#layout = layout;
  }

  /**
   * Lays out `block`, whose last user key is `lastKey` (from the index), in one pass over its entry
   * headers; null for a block without entries. Checks what lookups here rely on (entries chain, meet
   * every restart point with a whole key, share no more than the key before has, all start with the
   * prefix of the first and last key, fingerprints ascend): CORRUPTION otherwise.
   */
  static build(block: DataBlock, lastKey: Uint8Array): BlockPointIndex | null {
    const count0 = block.restartCount;
    if (count0 === 0) return null;
    const data = block.data;
    const limit = block.restartsStart;
    let end = decodeEntry(block, 0);
    const firstKeyStart = entry.keyStart;
    const shared = commonPrefixLength(data, firstKeyStart, firstKeyStart + entry.unshared, lastKey, 0, lastKey.length);
    // The current key's bytes [shared, shared + 4), as a big-endian number (missing bytes 0).
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    let previousLength = 0;
    let nextRestart = 0;
    let count = 0;
    let previousFingerprint = -0x80000001;
    const fingerprints: number[] = [];
    const offsets: number[] = [];
    for (let offset = 0; offset < limit; ) {
      end = decodeEntry(block, offset);
      const entryShared = entry.shared;
      const length = entryShared + entry.unshared;
      if (entryShared > previousLength) throw block.corrupt(`entry at ${offset} shares ${entryShared} bytes of a ${previousLength}-byte key`);
      if (nextRestart < count0 && offset >= block.restartAt(nextRestart)) {
        if (offset !== block.restartAt(nextRestart) || entryShared !== 0) throw block.corrupt(`entry at ${offset} does not meet restart point ${nextRestart}`);
        nextRestart++;
      }
      const from = entry.keyStart - entryShared;
      if (length < shared) throw block.corrupt(`entry at ${offset} lacks the block's key prefix`);
      for (let j = entryShared; j < shared; j++) {
        if (data[from + j] !== data[firstKeyStart + j]) throw block.corrupt(`entry at ${offset} lacks the block's key prefix`);
      }
      if (entryShared <= shared) b0 = shared < length ? (data[from + shared] as number) : 0;
      if (entryShared <= shared + 1) b1 = shared + 1 < length ? (data[from + shared + 1] as number) : 0;
      if (entryShared <= shared + 2) b2 = shared + 2 < length ? (data[from + shared + 2] as number) : 0;
      if (entryShared <= shared + 3) b3 = shared + 3 < length ? (data[from + shared + 3] as number) : 0;
      const fingerprint = (b0 * 0x1000000 + b1 * 0x10000 + b2 * 0x100 + b3 - 0x80000000) | 0;
      if (fingerprint < previousFingerprint) throw block.corrupt(`entry at ${offset} is out of order`);
      previousFingerprint = fingerprint;
      fingerprints.push(fingerprint);
      offsets.push(offset);
      count++;
      previousLength = length;
      offset = end;
    }
    if (nextRestart !== count0) throw block.corrupt(`restart point ${nextRestart} is not at an entry`);
    for (let i = 0; i < count; i++) fingerprints.push(offsets[i] as number);
    return new BlockPointIndex(count, shared, firstKeyStart, fingerprints);
  }

  /**
   * The offset of the first entry at or after `(key, seqno)` in internal order (`block.restartsStart`
   * when the block has none), or -1 when the layout cannot tell. Sets {@link locatedMatch}; when it is
   * true, {@link entry} holds the located entry's header.
   */
  locate(block: DataBlock, key: Uint8Array, seqno: number): number {
    locatedMatch = false;
    const data = block.data;
    const shared = this.#shared;
    const place = placeAgainstPrefix(data, this.#firstKeyStart, shared, key);
    if (place !== WITHIN) return place === BEFORE_ALL ? 0 : block.restartsStart;
    const target = fingerprintAt(key, shared, key.length);
    const layout = this.#layout;
    const count = this.#count;
    let low = 0;
    let high = count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((layout[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    if (low === count) return block.restartsStart;
    const at = layout[count + low] as number;
    // A larger fingerprint: every earlier key is smaller than `key`, this one larger.
    if (layout[low] !== target) return at;
    let end = decodeEntry(block, at);
    const length = entry.shared + entry.unshared;
    if (length !== key.length) return -1;
    const known = length < shared + 4 ? length : shared + 4;
    if (entry.shared > known) return -1;
    const delta = entry.keyStart - entry.shared;
    for (let j = known; j < length; j++) {
      const d = (data[delta + j] as number) - (key[j] as number);
      if (d === 0) continue;
      if (d > 0) return at;
      // Past entry `low`: with the next entry's fingerprint larger, the key falls between the two.
      if (low + 1 === count) return block.restartsStart;
      return layout[low + 1] !== target ? (layout[count + low + 1] as number) : -1;
    }
    // The versions of `key`, newest first: a later one shares the whole key with the one before (or, at
    // a restart point, stores all of it).
    let offset = at;
    for (;;) {
      if (entry.seqno <= seqno) {
        locatedMatch = true;
        return offset;
      }
      if (end >= block.restartsStart) return block.restartsStart;
      offset = end;
      end = decodeEntry(block, offset);
      if (entry.shared + entry.unshared !== length) return offset;
      const from = entry.keyStart - entry.shared;
      for (let j = entry.shared; j < length; j++) if (data[from + j] !== key[j]) return offset;
    }
  }

  /**
   * Looks for the first entry at or after `(key, seqno)` in internal order with user key `key`: FOUND
   * (written into `out`, its value a view into the block), ABSENT, or UNDECIDED.
   */
  find(block: DataBlock, key: Uint8Array, seqno: number, out: PointLookup): number {
    if (this.locate(block, key, seqno) < 0) return UNDECIDED;
    if (!locatedMatch) return ABSENT;
    out.kind = entry.kind as ValueKind;
    out.seqno = entry.seqno;
    const valueStart = entry.keyStart + entry.unshared;
    out.value = entry.valueLength === 0 ? EMPTY : block.data.subarray(valueStart, valueStart + entry.valueLength);
    return FOUND;
  }
}

/** Whether the entry the last {@link BlockPointIndex.locate} found has the user key looked for. */
export let locatedMatch = false;

/**
 * Point lookups in a data block after which it gets a layout. The pass touches every cache
 * line of the block (about 3 µs for a 4 KiB block no longer in the CPU cache) and saves a few tenths of
 * a microsecond per lookup: only a block the cache keeps and that is read often repays it. With a cache
 * that misses half the time, a cached block is read about once more before it is dropped, and building
 * on the second lookup made such reads 10-15% slower.
 */
const LAYOUT_AFTER = 8;

/**
 * The layout of `block` (data block `i` of `index`) for a point lookup about to be made in it:
 * built on the {@link LAYOUT_AFTER}th call for the block; null before, and always under a custom order.
 */
export function layoutFor(block: DataBlock, index: IndexBlock, i: number, bytewise: boolean): BlockPointIndex | null {
  const points = block.pointIndex;
  if (points !== null || !bytewise || ++block.pointLookups < LAYOUT_AFTER) return points;
  const built = BlockPointIndex.build(block, index.lastKey(i));
  block.pointIndex = built;
  return built;
}
