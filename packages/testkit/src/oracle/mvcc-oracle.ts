/**
 * The MVCC oracle: a plain sorted map of `(key, seqno)` versions that answers what a tree should answer,
 * with none of a tree's machinery (no memtables, tables, levels or garbage collection). Model tests apply
 * the same operations to a tree and to an oracle and compare reads at many snapshots.
 *
 * Semantics (DESIGN.md section 3):
 * - a read at seqno `S` sees exactly the versions with seqno `< S`; the newest one decides;
 * - a tombstone or a weak tombstone hides the key; a merge operand reads as its own bytes (the newest
 *   operand, as the engine answers without a merge operator);
 * - {@link MvccOracle.clearAt} models `clear()` and table drops: reads at `S > stamp` stop seeing the
 *   versions older than the stamp (all of them, or those a predicate picks), reads at `S <= stamp` still do;
 * - {@link MvccOracle.retainOnly} and {@link MvccOracle.applyClears} model a reopen, after which only
 *   what was on disk exists and old snapshots no longer see cleared data.
 *
 * @module
 */

/** What a version is. */
export type OracleKind = "value" | "tombstone" | "weakTombstone" | "merge";

/** One stored version. Keys and values are the oracle's own copies; do not mutate them. */
export interface OracleVersion {
  readonly key: Uint8Array;
  readonly seqno: number;
  readonly kind: OracleKind;
  readonly value: Uint8Array;
}

/** Range bounds in the tree's convention; when several lower (or upper) bounds are given, all apply. */
export interface OracleRange {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly reverse?: boolean;
  /** At most this many entries; `undefined`, `-1` and `Infinity` mean no limit. */
  readonly limit?: number;
}

/** A user-key order: negative, zero or positive as `a` sorts before, with or after `b`. */
export type OracleCompare = (a: Uint8Array, b: Uint8Array) => number;

/** Bytewise (memcmp) order, the tree's default. */
export const bytewiseCompare: OracleCompare = (a, b) => Buffer.compare(a, b);

interface KeyEntry {
  readonly key: Uint8Array;
  /** Oldest first, distinct seqnos. */
  versions: OracleVersion[];
}

interface ClearPoint {
  readonly seqno: number;
  readonly hides: ((version: OracleVersion) => boolean) | undefined;
}

/**
 * A sorted map of versions answering reads at any snapshot.
 *
 * @example
 * ```ts
 * import { MvccOracle } from "@talus/testkit";
 * const enc = (s: string) => new TextEncoder().encode(s);
 * const oracle = new MvccOracle();
 * oracle.insert(enc("a"), enc("1"), 1);
 * oracle.remove(enc("a"), 2);
 * oracle.get(enc("a"), 2); // Uint8Array of "1": a read at 2 sees seqnos < 2
 * oracle.get(enc("a"), 3); // undefined
 * oracle.range({ gte: enc("a") }, 2); // [[a, 1]]
 * ```
 */
export class MvccOracle {
  readonly compare: OracleCompare;
  /** Sorted by `compare`. */
  readonly #entries: KeyEntry[] = [];
  /** Ascending by seqno. */
  #clears: ClearPoint[] = [];
  #versionCount = 0;

  constructor(compare: OracleCompare = bytewiseCompare) {
    if (typeof compare !== "function") throw new TypeError("compare must be a function");
    this.compare = compare;
  }

  // ---- writes ---------------------------------------------------------------------------------

  insert(key: Uint8Array, value: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "value", value);
  }

  remove(key: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "tombstone", EMPTY);
  }

  /** A weak tombstone: reads treat it as a deletion (what compaction may do with it is the tree's business). */
  removeWeak(key: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "weakTombstone", EMPTY);
  }

  /** A merge operand: reads return the newest operand's bytes. */
  merge(key: Uint8Array, operand: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "merge", operand);
  }

  /** Adds one version; a second version of the same key at the same seqno throws. */
  write(key: Uint8Array, seqno: number, kind: OracleKind, value: Uint8Array = EMPTY): void {
    this.#add(key, seqno, kind, value);
  }

  #add(key: Uint8Array, seqno: number, kind: OracleKind, value: Uint8Array): void {
    if (!(key instanceof Uint8Array)) throw new TypeError("key must be a Uint8Array");
    if (!(value instanceof Uint8Array)) throw new TypeError("value must be a Uint8Array");
    if (!Number.isSafeInteger(seqno) || seqno < 0) throw new RangeError(`seqno must be a non-negative safe integer, got ${String(seqno)}`);
    const version: OracleVersion = Object.freeze({ key: copy(key), seqno, kind, value: copy(value) });
    const { index, found } = this.#search(key);
    if (!found) {
      this.#entries.splice(index, 0, { key: version.key, versions: [version] });
      this.#versionCount++;
      return;
    }
    const entry = this.#entries[index] as KeyEntry;
    const versions = entry.versions;
    let at = versions.length;
    while (at > 0 && (versions[at - 1] as OracleVersion).seqno > seqno) at--;
    if (at > 0 && (versions[at - 1] as OracleVersion).seqno === seqno) {
      throw new RangeError(`key already has a version at seqno ${seqno}`);
    }
    versions.splice(at, 0, version);
    this.#versionCount++;
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The newest version of `key` a read at `readSeqno` sees (tombstones included), or undefined. */
  find(key: Uint8Array, readSeqno: number): OracleVersion | undefined {
    const { index, found } = this.#search(key);
    return found ? this.#visible(this.#entries[index] as KeyEntry, readSeqno) : undefined;
  }

  /** The value of `key` at `readSeqno` (a copy), or undefined when absent or deleted. */
  get(key: Uint8Array, readSeqno: number): Uint8Array | undefined {
    const version = this.find(key, readSeqno);
    return version === undefined || isDeletion(version.kind) ? undefined : copy(version.value);
  }

  /** The visible `[key, value]` pairs within `bounds` at `readSeqno`, in comparator order (or reversed). */
  range(bounds: OracleRange, readSeqno: number): Array<[Uint8Array, Uint8Array]> {
    return this.#collect(bounds, readSeqno, undefined);
  }

  /** The visible pairs whose key starts with `prefix` byte for byte, in comparator order (or reversed). */
  prefix(prefix: Uint8Array, readSeqno: number, options: { readonly reverse?: boolean; readonly limit?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#collect(options, readSeqno, (key) => startsWith(key, prefix));
  }

  /** Number of visible keys at `readSeqno`. */
  len(readSeqno: number): number {
    let n = 0;
    for (const entry of this.#entries) {
      const version = this.#visible(entry, readSeqno);
      if (version !== undefined && !isDeletion(version.kind)) n++;
    }
    return n;
  }

  /** Every key that has at least one stored version, in comparator order (copies). */
  keys(): Uint8Array[] {
    return this.#entries.map((entry) => copy(entry.key));
  }

  /**
   * The versions of `key` a read at `readSeqno` may choose from (seqno below it, not hidden by a clear),
   * newest first. With the default `readSeqno` that is the key's current history.
   */
  versionsOf(key: Uint8Array, readSeqno: number = Number.POSITIVE_INFINITY): OracleVersion[] {
    const { index, found } = this.#search(key);
    if (!found) return [];
    const entry = this.#entries[index] as KeyEntry;
    const out: OracleVersion[] = [];
    for (let i = entry.versions.length - 1; i >= 0; i--) {
      const version = entry.versions[i] as OracleVersion;
      if (version.seqno < readSeqno && !this.#hidden(version, readSeqno)) out.push(version);
    }
    return out;
  }

  /** Stored versions, cleared ones included until {@link applyClears}. */
  get versionCount(): number {
    return this.#versionCount;
  }

  /** The highest stored seqno, or undefined when empty. */
  highestSeqno(): number | undefined {
    let highest: number | undefined;
    for (const entry of this.#entries) {
      const last = entry.versions[entry.versions.length - 1];
      if (last !== undefined && (highest === undefined || last.seqno > highest)) highest = last.seqno;
    }
    return highest;
  }

  // ---- whole-tree changes ---------------------------------------------------------------------

  /**
   * Models `clear()` (no `hides`) or a table drop (`hides` picks the versions that were in dropped
   * tables) whose version change took seqno `stamp`: reads at `S > stamp` no longer see versions older
   * than `stamp` that `hides` accepts; reads at `S <= stamp` see them as before.
   */
  clearAt(stamp: number, hides?: (version: OracleVersion) => boolean): void {
    if (!Number.isSafeInteger(stamp) || stamp < 0) throw new RangeError(`stamp must be a non-negative safe integer, got ${String(stamp)}`);
    const point: ClearPoint = { seqno: stamp, hides };
    let at = this.#clears.length;
    while (at > 0 && (this.#clears[at - 1] as ClearPoint).seqno > stamp) at--;
    this.#clears.splice(at, 0, point);
  }

  /**
   * Deletes the versions that the newest reader no longer sees because of a clear, and forgets the
   * clears: old snapshots lose the cleared data too (what a reopen does, as the data was never kept on
   * disk).
   */
  applyClears(): void {
    if (this.#clears.length === 0) return;
    this.retainOnly((version) => !this.#hidden(version, Number.POSITIVE_INFINITY));
    this.#clears = [];
  }

  /** Keeps only the versions `keep` accepts, e.g. the flushed ones when modelling a reopen. */
  retainOnly(keep: (version: OracleVersion) => boolean): void {
    let write = 0;
    let count = 0;
    for (let read = 0; read < this.#entries.length; read++) {
      const entry = this.#entries[read] as KeyEntry;
      entry.versions = entry.versions.filter((version) => keep(version));
      if (entry.versions.length === 0) continue;
      count += entry.versions.length;
      this.#entries[write++] = entry;
    }
    this.#entries.length = write;
    this.#versionCount = count;
  }

  /** Forgets every version and clear. */
  dropAll(): void {
    this.#entries.length = 0;
    this.#clears = [];
    this.#versionCount = 0;
  }

  /** An independent copy (versions are immutable and shared). */
  clone(): MvccOracle {
    const copy = new MvccOracle(this.compare);
    for (const entry of this.#entries) copy.#entries.push({ key: entry.key, versions: [...entry.versions] });
    copy.#clears = [...this.#clears];
    copy.#versionCount = this.#versionCount;
    return copy;
  }

  // ---- internals ------------------------------------------------------------------------------

  #collect(bounds: OracleRange, readSeqno: number, filter: ((key: Uint8Array) => boolean) | undefined): Array<[Uint8Array, Uint8Array]> {
    const limit = normalizeLimit(bounds.limit);
    const out: Array<[Uint8Array, Uint8Array]> = [];
    if (limit === 0) return out;
    const n = this.#entries.length;
    for (let i = 0; i < n; i++) {
      const entry = this.#entries[bounds.reverse === true ? n - 1 - i : i] as KeyEntry;
      if (!this.#inBounds(entry.key, bounds)) continue;
      if (filter !== undefined && !filter(entry.key)) continue;
      const version = this.#visible(entry, readSeqno);
      if (version === undefined || isDeletion(version.kind)) continue;
      out.push([copy(entry.key), copy(version.value)]);
      if (out.length >= limit) break;
    }
    return out;
  }

  #inBounds(key: Uint8Array, bounds: OracleRange): boolean {
    const cmp = this.compare;
    if (bounds.gte !== undefined && cmp(key, bounds.gte) < 0) return false;
    if (bounds.gt !== undefined && cmp(key, bounds.gt) <= 0) return false;
    if (bounds.lte !== undefined && cmp(key, bounds.lte) > 0) return false;
    if (bounds.lt !== undefined && cmp(key, bounds.lt) >= 0) return false;
    return true;
  }

  #visible(entry: KeyEntry, readSeqno: number): OracleVersion | undefined {
    for (let i = entry.versions.length - 1; i >= 0; i--) {
      const version = entry.versions[i] as OracleVersion;
      if (version.seqno < readSeqno && !this.#hidden(version, readSeqno)) return version;
    }
    return undefined;
  }

  /** Whether a clear that a read at `readSeqno` sees hides `version`. */
  #hidden(version: OracleVersion, readSeqno: number): boolean {
    for (const clear of this.#clears) {
      if (clear.seqno >= readSeqno) break;
      if (version.seqno < clear.seqno && (clear.hides === undefined || clear.hides(version))) return true;
    }
    return false;
  }

  #search(key: Uint8Array): { index: number; found: boolean } {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare((this.#entries[mid] as KeyEntry).key, key);
      if (c === 0) return { index: mid, found: true };
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, found: false };
  }
}

const EMPTY = new Uint8Array(0);

/** A copy in fresh memory (`Buffer#slice` would return a view of the caller's bytes). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function isDeletion(kind: OracleKind): boolean {
  return kind === "tombstone" || kind === "weakTombstone";
}

function normalizeLimit(limit: number | undefined): number {
  if (limit === undefined || limit === -1 || limit === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, -1 or Infinity, got ${String(limit)}`);
  return limit;
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
