/**
 * A least-recently-used cache of decoded blocks, bounded by bytes, shared between tables and trees.
 *
 * Entries are keyed by (namespace, table id, block offset); a table keeps its {@link CachedTable} to skip
 * the first two map lookups. Table ids are unique only within a tree, so each tree takes its own
 * namespace from {@link newCacheNamespace} and two trees sharing one cache never see each other's blocks.
 * An entry weighs its bytes plus {@link BLOCK_CACHE_ENTRY_OVERHEAD}.
 *
 * The order is LRU up to one relaxation: a hit moves its entry to the most recently used end only if
 * at least a quarter of the cache's entry count (rounded down) has been stored since the entry last got
 * there. Entries are evicted in the order they last moved, which lags their last use by fewer stores than
 * that (exact LRU below four entries). Hits on a cache that holds everything (no stores) then write
 * nothing: moving a node touches two more nodes scattered over the heap, which costs more than the rest
 * of the hit.
 *
 * Invariants: `size` is the sum of the weights of the entries held; after every `insert`, `size <= capacity`
 * (the least recently used entries are dropped first, and an entry heavier than the whole capacity is not
 * kept). Dropping an entry only forgets it and tells its table's `dropped` hook: whether the block's
 * memory may be reused is the table's call (../table/table.ts), not the cache's.
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

/**
 * The blocks one table has in the cache. A table asks for its own once ({@link BlockCache.forTable}) and
 * then looks blocks up with one map access instead of three.
 *
 * Invariant: while `attached`, the cache lists this object under its (namespace, table id), and every
 * node of `blocks` is in the cache's LRU list. Evicting the table detaches it (and empties it); storing
 * through a detached one attaches it again, or, when the cache already lists another for that table
 * (asked for after the eviction), stores there.
 */
export class CachedTable {
  readonly namespace: number;
  readonly tableId: number;
  /** Block offset → node: the cache's to change, never the table's. */
  readonly blocks = new Map<number, CacheNode>();
  attached = false;
  /** Called with each value the cache drops (evicted, replaced or removed), not on `clear()`. */
  dropped: ((value: object) => void) | undefined = undefined;

  constructor(namespace: number, tableId: number) {
    this.namespace = namespace;
    this.tableId = tableId;
  }
}

/** One cached block: the cache's own record (in its table's map and in the LRU list). */
export interface CacheNode {
  readonly table: CachedTable;
  readonly offset: number;
  value: object;
  weight: number;
  /** The cache's store count when this node last became the most recently used. */
  stamp: number;
  /** Towards the least recently used end. */
  older: CacheNode | null;
  /** Towards the most recently used end. */
  newer: CacheNode | null;
}

/**
 * A least-recently-used cache of decoded table blocks, bounded by bytes. Every tree has one; pass one
 * instance as `blockCache` to several trees to give them one memory budget (each tree keeps its own
 * namespace in it, so they never see each other's blocks).
 *
 * @example
 * ```ts
 * import { BlockCache, Tree } from "@talus/lsm-core";
 *
 * const blockCache = new BlockCache(64 * 1024 * 1024); // 64 MiB for both trees
 * const users = await Tree.open({ path: "/db/users", blockCache });
 * const orders = await Tree.open({ path: "/db/orders", blockCache });
 * console.log(blockCache.hits, blockCache.misses);
 * ```
 */
export class BlockCache {
  /** The most bytes the cache holds, entry overhead included (`capacityBytes` of the constructor). */
  readonly capacity: number;
  // namespace → table id → that table's blocks.
  readonly #tables = new Map<number, Map<number, CachedTable>>();
  #newest: CacheNode | null = null;
  #oldest: CacheNode | null = null;
  #size = 0;
  #count = 0;
  #hits = 0;
  #misses = 0;
  /** Stores so far: the clock of the `stamp`s. */
  #stores = 0;

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

  /** Lookups that found their block, since the cache was made. */
  get hits(): number {
    return this.#hits;
  }

  /** Lookups that did not find their block (the table then reads it from its file), since the cache was made. */
  get misses(): number {
    return this.#misses;
  }

  /**
   * The blocks of one table, for {@link lookup} and {@link store}: the same object until the table is evicted.
   *
   * @internal
   */
  forTable(namespace: number, tableId: number): CachedTable {
    return this.#listed(namespace, tableId) ?? this.#attach(new CachedTable(namespace, tableId));
  }

  /**
   * The cached value of `table`'s block at `offset`, made most recently used; undefined on a miss.
   *
   * @internal
   */
  lookup(table: CachedTable, offset: number): object | undefined {
    const node = table.blocks.get(offset);
    if (node === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    if (this.#stores - node.stamp >= this.#count >>> 2 && node !== this.#newest) {
      this.#unlink(node);
      this.#pushNewest(node);
    }
    return node.value;
  }

  /**
   * Caches `value` weighing `bytes` (+ overhead) as `table`'s block at `offset`, replacing any previous
   * value, then evicts to capacity.
   *
   * @internal
   */
  store(table: CachedTable, offset: number, value: object, bytes: number): void {
    const weight = bytes + BLOCK_CACHE_ENTRY_OVERHEAD;
    const target = table.attached ? table : (this.#listed(table.namespace, table.tableId) ?? this.#attach(table));
    const existing = target.blocks.get(offset);
    if (existing !== undefined) this.#remove(existing);
    if (weight > this.capacity) return;
    this.#stores++;
    const node: CacheNode = { table: target, offset, value, weight, stamp: 0, older: null, newer: null };
    target.blocks.set(offset, node);
    this.#pushNewest(node);
    this.#size += weight;
    this.#count++;
    while (this.#size > this.capacity && this.#oldest !== null) this.#remove(this.#oldest);
  }

  /** The cached value, made most recently used; undefined on a miss. */
  get(namespace: number, tableId: number, offset: number): object | undefined {
    const table = this.#listed(namespace, tableId);
    if (table === undefined) {
      this.#misses++;
      return undefined;
    }
    return this.lookup(table, offset);
  }

  /** Caches `value` weighing `bytes` (+ overhead), replacing any previous value, then evicts to capacity. */
  insert(namespace: number, tableId: number, offset: number, value: object, bytes: number): void {
    this.store(this.forTable(namespace, tableId), offset, value, bytes);
  }

  /** Drops one entry; whether it was there. */
  remove(namespace: number, tableId: number, offset: number): boolean {
    const node = this.#listed(namespace, tableId)?.blocks.get(offset);
    if (node === undefined) return false;
    this.#remove(node);
    return true;
  }

  /** Drops every block of one table (when it is deleted or closed); returns how many. */
  evictTable(namespace: number, tableId: number): number {
    const byTable = this.#tables.get(namespace);
    const table = byTable?.get(tableId);
    if (byTable === undefined || table === undefined) return 0;
    const nodes = [...table.blocks.values()];
    for (const node of nodes) this.#remove(node);
    // Detached so that deleted tables leave nothing behind.
    table.attached = false;
    byTable.delete(tableId);
    if (byTable.size === 0) this.#tables.delete(namespace);
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

  /** Drops every entry, without calling the tables' `dropped` hooks; the hit and miss counts stay. */
  clear(): void {
    for (const byTable of this.#tables.values()) {
      for (const table of byTable.values()) {
        table.blocks.clear();
        table.attached = false;
      }
    }
    this.#tables.clear();
    this.#newest = null;
    this.#oldest = null;
    this.#size = 0;
    this.#count = 0;
  }

  #listed(namespace: number, tableId: number): CachedTable | undefined {
    return this.#tables.get(namespace)?.get(tableId);
  }

  /** REQUIRES: no table is listed under `table`'s key. */
  #attach(table: CachedTable): CachedTable {
    let byTable = this.#tables.get(table.namespace);
    if (byTable === undefined) {
      byTable = new Map();
      this.#tables.set(table.namespace, byTable);
    }
    byTable.set(table.tableId, table);
    table.attached = true;
    return table;
  }

  #remove(node: CacheNode): void {
    this.#unlink(node);
    this.#size -= node.weight;
    this.#count--;
    node.table.blocks.delete(node.offset);
    node.table.dropped?.(node.value);
  }

  #unlink(node: CacheNode): void {
    if (node.older !== null) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    if (node.newer !== null) node.newer.older = node.older;
    else this.#newest = node.older;
    node.older = null;
    node.newer = null;
  }

  #pushNewest(node: CacheNode): void {
    node.stamp = this.#stores;
    node.older = this.#newest;
    node.newer = null;
    if (this.#newest !== null) this.#newest.newer = node;
    else this.#oldest = node;
    this.#newest = node;
  }
}
