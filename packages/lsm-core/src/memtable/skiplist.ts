/**
 * The memtable's arena skiplist: a sorted multimap of `(userKey, seqno, kind, value)` with no object per
 * entry. A node is a record in one `Int32Array`; key and value bytes live in the {@link Arena}.
 *
 * ```
 * nodes: Int32Array   [ head record | node record | node record | ... ]   (a node's id = its record's index)
 *
 * node record (8 + height slots; the head is a record with MAX_HEIGHT links at index 0)
 *   +0  PREFIX      first 4 key bytes, big-endian, zero-padded (compared unsigned; bytewise order only)
 *   +1  KEY_LENGTH
 *   +2  CHUNK       arena chunk holding key ‖ value
 *   +3  OFFSET      where the key starts in that chunk; the value follows the key
 *   +4  SEQNO_LOW   seqno mod 2^32
 *   +5  META        seqno div 2^32 (21 bits, as SEQNO_MAX < 2^53) | kind << 24
 *   +6  VALUE_LENGTH (read unsigned: up to 2^32 - 1)
 *   +7  BACK        level-0 predecessor (0 = the head); the head's BACK is the last node
 *   +8  LINKS       successor at level 0, 1, ..., height - 1 (0 = none)
 *
 * arena chunk:   [ key | value | key | value | ...  (never rewritten, never moved) ]
 * ```
 *
 * Why one record array rather than one typed array per field: a search visits a few nodes per level
 * at random places in memory, and with a typed array per field each visit cost 4-5 cache misses. A
 * record is one or two cache lines, and the inline key prefix settles most bytewise comparisons
 * without touching the arena. Measured with 1M random 16-byte keys and 100-byte values: 0.11-0.16 M
 * inserts/s with an array per field, 0.3-0.48 M/s with records (both memory-bound; 1.0-1.5 M/s at 100k).
 *
 * Towers are variable-height (p = 1/4, so 4/3 links per node on average). The level-0 back links make
 * `prev` O(1) instead of LevelDB's O(log n) FindLessThan: LevelDB avoids them because its readers race
 * a writer without locks, which cannot happen on one JS thread.
 *
 * Invariants:
 * - Order: user key ascending by the comparator, then seqno descending, then insertion order (an entry
 *   equal in key and seqno to existing ones goes after them). Node ids grow with insertion, so
 *   (key, seqno, id) is a strict total order that every node position is stable under.
 * - Nodes are never removed; a node's id never changes. An insert only rewires links around the new
 *   node, so a cursor standing on any node between two calls is still on a valid node.
 * - `nodes` is replaced (doubled) on growth: never cache it across a call that may insert. Nothing
 *   hands out views of it, unlike the arena.
 *
 * @module
 */
import { isBytewise, type Comparator } from "../key/comparator.ts";
import type { ValueKind } from "../key/value-kind.ts";
import { EMPTY } from "../iter/cursor.ts";
import { Arena } from "./arena.ts";
import type { ArenaChunkPool } from "./chunk-pool.ts";
import { compareBytes } from "../key/bytewise.ts";

/** Tallest tower: with p = 1/4, 4^12 = 16M entries before the top level is crowded. */
export const MAX_HEIGHT = 12;

const PREFIX = 0;
const KEY_LENGTH = 1;
const CHUNK = 2;
const OFFSET = 3;
const SEQNO_LOW = 4;
const META = 5;
const VALUE_LENGTH = 6;
const BACK = 7;
const LINKS = 8;

const HEAD = 0;
const TWO_32 = 0x1_0000_0000;
const SEQNO_HIGH_MASK = 0x1f_ffff;
const KIND_SHIFT = 24;
const INITIAL_SLOTS = 4096;

/** The first 4 bytes of `key` as a big-endian unsigned integer, zero-padded: ordered like the keys, weakly. */
function keyPrefix(key: Uint8Array): number {
  const n = key.length;
  if (n >= 4) return (((key[0] as number) << 24) | ((key[1] as number) << 16) | ((key[2] as number) << 8) | (key[3] as number)) >>> 0;
  let p = 0;
  for (let i = 0; i < 4; i++) p = p * 256 + (i < n ? (key[i] as number) : 0);
  return p;
}

/**
 * A sealed list as another thread reads it: its node records and arena chunks (shared memory, not
 * copied) and the counters that bound them.
 */
export interface SkipListSnapshot {
  readonly nodes: Int32Array;
  readonly chunks: readonly Uint8Array[];
  readonly used: number;
  readonly count: number;
  readonly levels: number;
}

export class SkipList {
  readonly #arena: Arena;
  readonly #comparator: Comparator;
  readonly #bytewise: boolean;

  #nodes: Int32Array;
  /** Slots of #nodes in use. */
  #used = LINKS + MAX_HEIGHT;
  #count = 0;
  /** Levels in use (the head's links above it are all 0). */
  #levels = 1;
  /** xorshift32 state: deterministic, so a memtable's shape is reproducible run to run. */
  #random = 0x2545f491;
  /** Scratch for insert: the predecessor at each level. */
  readonly #preds = new Int32Array(MAX_HEIGHT);
  /** The comparison of the node `#search` returned against the search key (meaningless if it returned 0). */
  #lastCompare = 0;

  /** `shared`: node records and arena in shared memory, so that a worker thread can read the list once sealed. */
  constructor(comparator: Comparator, pool?: ArenaChunkPool, shared = false, arena?: Arena) {
    this.#arena = arena ?? new Arena(pool, shared);
    this.#comparator = comparator;
    this.#bytewise = isBytewise(comparator);
    this.#nodes = newInt32(INITIAL_SLOTS, shared);
  }

  /** Whether the list lives in shared memory (another thread can read it once sealed). */
  get shared(): boolean {
    return this.#nodes.buffer instanceof SharedArrayBuffer;
  }

  /**
   * What another thread needs to read this list: valid while nothing inserts into it (a sealed
   * memtable) and its arena is not recycled. Shared only if the list was made `shared`.
   */
  snapshot(): SkipListSnapshot {
    return { nodes: this.#nodes, chunks: this.#arena.chunks(), used: this.#used, count: this.#count, levels: this.#levels };
  }

  /** A read-only list over a {@link snapshot} (in a worker thread): every read works, `insert` fails. */
  static fromSnapshot(snapshot: SkipListSnapshot, comparator: Comparator): SkipList {
    const list = new SkipList(comparator, undefined, false, Arena.frozen(snapshot.chunks));
    list.#nodes = snapshot.nodes;
    list.#used = snapshot.used;
    list.#count = snapshot.count;
    list.#levels = snapshot.levels;
    return list;
  }

  /** Entries stored. */
  count(): number {
    return this.#count;
  }

  /** Bytes of arena chunks allocated. */
  arenaBytes(): number {
    return this.#arena.allocatedBytes();
  }

  /** Hands the arena's chunks back to its pool; the list must not be read again. */
  recycleArena(): void {
    this.#arena.recycle();
  }

  /**
   * Adds an entry after every existing entry with the same key and seqno. `seqno` must be an integer in
   * [0, SEQNO_MAX] (the record packing and the seqno - 1 search bound rely on it; the tree validates).
   */
  insert(key: Uint8Array, seqno: number, kind: ValueKind, value: Uint8Array): void {
    // Copy first: it is the step most likely to fail (memory), and it changes nothing visible.
    this.#arena.append(key, value);
    const height = this.#randomHeight();
    const node = this.#used;
    const end = node + LINKS + height;
    if (end > this.#nodes.length) this.#nodes = grown(this.#nodes, end);

    // Integer seqnos: "entry seqno > seqno - 1" is "entry seqno >= seqno", which walks past equal entries.
    this.#search(key, seqno - 1);
    const preds = this.#preds;
    if (height > this.#levels) {
      for (let level = this.#levels; level < height; level++) preds[level] = HEAD;
      this.#levels = height;
    }

    const nodes = this.#nodes;
    nodes[node + PREFIX] = this.#bytewise ? keyPrefix(key) : 0;
    nodes[node + KEY_LENGTH] = key.length;
    nodes[node + CHUNK] = this.#arena.lastChunk;
    nodes[node + OFFSET] = this.#arena.lastOffset;
    nodes[node + SEQNO_LOW] = seqno >>> 0;
    nodes[node + META] = Math.floor(seqno / TWO_32) | (kind << KIND_SHIFT);
    nodes[node + VALUE_LENGTH] = value.length;
    for (let level = 0; level < height; level++) {
      const slot = (preds[level] as number) + LINKS + level;
      nodes[node + LINKS + level] = nodes[slot] as number;
      nodes[slot] = node;
    }
    nodes[node + BACK] = preds[0] as number;
    // When the new node is last its successor is "0", the head, whose BACK is exactly the last node.
    nodes[(nodes[node + LINKS] as number) + BACK] = node;
    this.#used = end;
    this.#count++;
  }

  /** The first node at or after `(key, bound)`: a greater key, or this key with seqno `<= bound`. 0 if none. */
  seek(key: Uint8Array, bound: number): number {
    return this.#search(key, bound);
  }

  /** Like {@link seek}, but 0 unless the node found has exactly `key`. */
  seekExact(key: Uint8Array, bound: number): number {
    const node = this.#search(key, bound);
    return node !== 0 && this.#lastCompare === 0 ? node : 0;
  }

  /** The last node whose key is `<= key` (its oldest version). 0 if none. */
  seekForPrev(key: Uint8Array): number {
    // Bound -1 walks past every version of `key`, landing on the first greater key (or the end, 0,
    // whose BACK is the last node).
    return this.#nodes[this.#search(key, -1) + BACK] as number;
  }

  first(): number {
    return this.#nodes[HEAD + LINKS] as number;
  }

  last(): number {
    return this.#nodes[HEAD + BACK] as number;
  }

  next(node: number): number {
    return this.#nodes[node + LINKS] as number;
  }

  prev(node: number): number {
    return this.#nodes[node + BACK] as number;
  }

  /** The node's key: a fresh view of arena bytes that never change. */
  key(node: number): Uint8Array {
    const nodes = this.#nodes;
    const offset = nodes[node + OFFSET] as number;
    return this.#arena.bytes(nodes[node + CHUNK] as number).subarray(offset, offset + (nodes[node + KEY_LENGTH] as number));
  }

  /** The node's value: a fresh view of arena bytes that never change ({@link EMPTY} when empty). */
  value(node: number): Uint8Array {
    const nodes = this.#nodes;
    const length = (nodes[node + VALUE_LENGTH] as number) >>> 0;
    if (length === 0) return EMPTY;
    const start = (nodes[node + OFFSET] as number) + (nodes[node + KEY_LENGTH] as number);
    return this.#arena.bytes(nodes[node + CHUNK] as number).subarray(start, start + length);
  }

  seqno(node: number): number {
    return seqnoOf(this.#nodes, node);
  }

  kind(node: number): ValueKind {
    return ((this.#nodes[node + META] as number) >>> KIND_SHIFT) as ValueKind;
  }

  /**
   * Finds the first node not before `(key, bound)` (see {@link seek}), leaving the predecessor at every
   * level in use in #preds and the found node's key comparison in #lastCompare.
   */
  #search(key: Uint8Array, bound: number): number {
    const nodes = this.#nodes;
    const preds = this.#preds;
    const bytewise = this.#bytewise;
    const prefix = bytewise ? keyPrefix(key) : 0;
    let node = HEAD;
    let level = this.#levels - 1;
    // A node found "not before" at one level is usually the successor again one level down: reuse its
    // comparison instead of repeating it.
    let known = 0;
    let knownCompare = 0;
    for (;;) {
      const next = nodes[node + LINKS + level] as number;
      let c = 1;
      if (next !== 0) {
        if (next === known) {
          c = knownCompare;
        } else {
          if (bytewise) {
            const p = (nodes[next + PREFIX] as number) >>> 0;
            c = p < prefix ? -1 : p > prefix ? 1 : this.#compareBytes(next, key);
          } else {
            c = this.#comparator.compare(this.key(next), key);
          }
          known = next;
          knownCompare = c;
        }
        if (c < 0 || (c === 0 && seqnoOf(nodes, next) > bound)) {
          node = next;
          continue;
        }
      }
      preds[level] = node;
      if (level === 0) {
        this.#lastCompare = c;
        return next;
      }
      level--;
    }
  }

  /** Bytewise comparison of the key of `node` with `key` whose prefixes are equal (negative when the node's key sorts first). */
  #compareBytes(node: number, key: Uint8Array): number {
    const nodes = this.#nodes;
    const chunk = nodes[node + CHUNK] as number;
    const offset = nodes[node + OFFSET] as number;
    const length = nodes[node + KEY_LENGTH] as number;
    const keyLength = key.length;
    // Equal zero-padded prefixes mean the first min(4, common) bytes are equal: start after them.
    const common = length < keyLength ? length : keyLength;
    const skip = common < 4 ? common : 4;
    return compareBytes(this.#arena.bytes(chunk), offset + skip, offset + length, key, skip, keyLength);
  }

  /** Height 1 + (trailing zero bits / 2): each extra level with probability 1/4, from one random word. */
  #randomHeight(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x;
    // x is never 0 (xorshift keeps a non-zero state), so x & -x isolates a real lowest set bit.
    const trailingZeros = 31 - Math.clz32(x & -x);
    const height = 1 + (trailingZeros >>> 1);
    return height < MAX_HEIGHT ? height : MAX_HEIGHT;
  }
}

function seqnoOf(nodes: Int32Array, node: number): number {
  return ((nodes[node + META] as number) & SEQNO_HIGH_MASK) * TWO_32 + ((nodes[node + SEQNO_LOW] as number) >>> 0);
}

function newInt32(length: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
}

function grown(nodes: Int32Array, atLeast: number): Int32Array {
  let length = nodes.length * 2;
  while (length < atLeast) length *= 2;
  const next = newInt32(length, nodes.buffer instanceof SharedArrayBuffer);
  next.set(nodes);
  return next;
}
