/**
 * A least-recently-used cache of decoded blocks, bounded by bytes, shared between tables and trees.
 *
 * Entries are keyed by (namespace, table id, block offset). Table ids are unique only within a tree, so
 * each tree takes its own namespace from {@link newCacheNamespace} and two trees sharing one cache never
 * see each other's blocks. An entry weighs its bytes plus {@link BLOCK_CACHE_ENTRY_OVERHEAD}.
 *
 * Invariants: `size` is the sum of the weights of the entries held; after every `insert`, `size <= capacity`
 * (the least recently used entries are dropped first, and an entry heavier than the whole capacity is not
 * kept). Dropping an entry only forgets it: a reader still holding the block keeps using it (blocks are
 * immutable), so no reference counting is needed.
 *
 * @module
 */

/** Default capacity: 16 MiB. */
export const DEFAULT_BLOCK_CACHE_BYTES = 16 * 1024 * 1024;

/** What an entry costs beyond its bytes (node, map slots, the decoded block object). */
export const BLOCK_CACHE_ENTRY_OVERHEAD = 96;

let nextNamespace = 1;

/** A cache namespace no other caller in this process has: one per tree. */
export function newCacheNamespace(): number {
  return nextNamespace++;
}

interface Node {
  readonly namespace: number;
  readonly tableId: number;
  readonly offset: number;
  value: object;
  weight: number;
  /** Towards the least recently used end. */
  older: Node | null;
  /** Towards the most recently used end. */
  newer: Node | null;
}

export class BlockCache {
  readonly capacity: number;
  // namespace → table id → block offset: three map lookups and no key object per lookup.
  readonly #tables = new Map<number, Map<number, Map<number, Node>>>();
  #newest: Node | null = null;
  #oldest: Node | null = null;
  #size = 0;
  #count = 0;
  #hits = 0;
  #misses = 0;

  constructor(capacityBytes: number = DEFAULT_BLOCK_CACHE_BYTES) {
    if (!(capacityBytes >= 0) || !Number.isFinite(capacityBytes)) throw new RangeError(`capacityBytes must be a non-negative number, got ${capacityBytes}`);
    this.capacity = capacityBytes;
  }

  /** Bytes held (weights included). */
  get size(): number {
    return this.#size;
  }

  /** Entries held. */
  get count(): number {
    return this.#count;
  }

  get hits(): number {
    return this.#hits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** The cached value, made most recently used; undefined on a miss. */
  get(namespace: number, tableId: number, offset: number): object | undefined {
    const node = this.#tables.get(namespace)?.get(tableId)?.get(offset);
    if (node === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    if (node !== this.#newest) {
      this.#unlink(node);
      this.#pushNewest(node);
    }
    return node.value;
  }

  /** Caches `value` weighing `bytes` (+ overhead), replacing any previous value, then evicts to capacity. */
  insert(namespace: number, tableId: number, offset: number, value: object, bytes: number): void {
    const weight = bytes + BLOCK_CACHE_ENTRY_OVERHEAD;
    const existing = this.#tables.get(namespace)?.get(tableId)?.get(offset);
    if (existing !== undefined) this.#remove(existing);
    if (weight > this.capacity) return;
    // Looked up after the removal, which may have dropped the maps that became empty.
    let byTable = this.#tables.get(namespace);
    if (byTable === undefined) {
      byTable = new Map();
      this.#tables.set(namespace, byTable);
    }
    let byOffset = byTable.get(tableId);
    if (byOffset === undefined) {
      byOffset = new Map();
      byTable.set(tableId, byOffset);
    }
    const node: Node = { namespace, tableId, offset, value, weight, older: null, newer: null };
    byOffset.set(offset, node);
    this.#pushNewest(node);
    this.#size += weight;
    this.#count++;
    while (this.#size > this.capacity && this.#oldest !== null) this.#remove(this.#oldest);
  }

  /** Drops one entry; whether it was there. */
  remove(namespace: number, tableId: number, offset: number): boolean {
    const node = this.#tables.get(namespace)?.get(tableId)?.get(offset);
    if (node === undefined) return false;
    this.#remove(node);
    return true;
  }

  /** Drops every block of one table (when it is deleted or closed); returns how many. */
  evictTable(namespace: number, tableId: number): number {
    const byOffset = this.#tables.get(namespace)?.get(tableId);
    if (byOffset === undefined) return 0;
    const nodes = [...byOffset.values()];
    for (const node of nodes) this.#remove(node);
    return nodes.length;
  }

  /** Drops every block of a namespace (when its tree closes); returns how many. */
  evictNamespace(namespace: number): number {
    const byTable = this.#tables.get(namespace);
    if (byTable === undefined) return 0;
    let removed = 0;
    for (const tableId of [...byTable.keys()]) removed += this.evictTable(namespace, tableId);
    return removed;
  }

  clear(): void {
    this.#tables.clear();
    this.#newest = null;
    this.#oldest = null;
    this.#size = 0;
    this.#count = 0;
  }

  #remove(node: Node): void {
    this.#unlink(node);
    this.#size -= node.weight;
    this.#count--;
    const byTable = this.#tables.get(node.namespace);
    const byOffset = byTable?.get(node.tableId);
    if (byTable === undefined || byOffset === undefined) return;
    byOffset.delete(node.offset);
    // Empty maps are dropped so that deleted tables leave nothing behind.
    if (byOffset.size === 0) {
      byTable.delete(node.tableId);
      if (byTable.size === 0) this.#tables.delete(node.namespace);
    }
  }

  #unlink(node: Node): void {
    if (node.older !== null) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    if (node.newer !== null) node.newer.older = node.older;
    else this.#newest = node.older;
    node.older = null;
    node.newer = null;
  }

  #pushNewest(node: Node): void {
    node.older = this.#newest;
    node.newer = null;
    if (this.#newest !== null) this.#newest.newer = node;
    else this.#oldest = node;
    this.#newest = node;
  }
}
