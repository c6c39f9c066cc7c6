/**
 * The MVCC oracle: a plain sorted map of `(key, seqno)` versions that answers what a tree should answer,
 * with none of a tree's machinery (no memtables, tables, levels or garbage collection). Model tests apply
 * the same operations to a tree and to an oracle and compare reads at many snapshots.
 *
 * Semantics (DESIGN.md section 3):
 * - a read at seqno `S` sees exactly the versions with seqno `< S`; the newest one decides;
 * - a tombstone or a weak tombstone hides the key; a merge operand reads as its own bytes (the newest
 *   operand, as the engine answers without a merge operator), or, with a merge operator
 *   ({@link MvccOracleOptions.mergeOperator}), as the fold of the visible operands: newest first, the
 *   operands are collected down to the first value (the base), tombstone or weak tombstone (no base), or
 *   version a visible range tombstone newer than it covers (no base; it and older versions do not
 *   count); the result is `merge(key, base, operandsOldestFirst)`;
 * - a range tombstone `[start, end)` at seqno `T` ({@link MvccOracle.removeRange}) deletes, for reads at
 *   `S > T`, every key `start <= k < end` (by the comparator) whose newest version below `S` is older than
 *   `T`; reads at `S <= T` do not see it, and a version at `T` or newer is not covered;
 * - {@link MvccOracle.applyBatch} writes several operations at one seqno, the later of two on one key
 *   winning, as a write batch does (several merges of one key all count, in batch order);
 * - {@link MvccOracle.ingest} models a bulk ingestion: distinct keys in increasing order, every entry (a
 *   value, tombstone or weak tombstone) at the ingestion's one seqno;
 * - {@link MvccOracle.clearAt} models `clear()` and table drops: reads at `S > stamp` stop seeing the
 *   versions older than the stamp (all of them, or those a predicate picks), reads at `S <= stamp` still do;
 * - {@link MvccOracle.filterAt} models a compaction filter's verdicts, installed by a version change at
 *   `stamp`: reads at `S > stamp` see the filtered versions (removed, destroyed or replaced), reads at
 *   `S <= stamp` the versions as they were;
 * - {@link MvccOracle.retainOnly} and {@link MvccOracle.applyClears} model a reopen, after which only
 *   what was on disk exists: old snapshots no longer see cleared data, and see filtered versions as the
 *   newest reader does.
 *
 * @module
 */

/** What a version is. */
export type OracleKind = "value" | "tombstone" | "weakTombstone" | "merge";

/** One stored version. Keys and values are the oracle's own copies; do not mutate them. */
export interface OracleVersion {
  /** The user key. */
  readonly key: Uint8Array;
  /** The seqno it was written at: reads at seqnos above it see it. */
  readonly seqno: number;
  /** A value, a (weak) tombstone or a merge operand. */
  readonly kind: OracleKind;
  /** The value; for a merge version, its newest operand. */
  readonly value: Uint8Array;
  /**
   * For a merge version written by a batch that merged the key several times: every operand, oldest
   * first (`value` is the last). Undefined for a single operand.
   */
  readonly operands?: readonly Uint8Array[];
}

/**
 * How merge operands combine (the shape of the engine's `MergeOperator`, so the engine's operators can
 * be passed as they are): `merge(key, base | undefined, operandsOldestFirst)`.
 */
export interface OracleMergeOperator {
  /** The engine operator's name; the oracle does not use it. */
  readonly name?: string;
  /** Combines `operands` (oldest first) with `base` (`undefined`: nothing under them) into the value a read returns. */
  merge(key: Uint8Array, base: Uint8Array | undefined, operands: readonly Uint8Array[]): Uint8Array;
}

/** Options of {@link MvccOracle}. */
export interface MvccOracleOptions {
  /** Folds merge operands on reads; without one a merge operand reads as its own bytes. */
  readonly mergeOperator?: OracleMergeOperator;
}

/**
 * A range tombstone: deletes the keys `start <= k < end` (by the oracle's comparator) older than `seqno`.
 * `end` undefined means the end of the key space (what a prefix of 0xff bytes only deletes).
 */
export interface OracleRangeTombstone {
  /** Tells a range tombstone from an {@link OracleVersion} in an {@link OracleEntry}. */
  readonly kind: "rangeTombstone";
  /** First key deleted (inclusive). */
  readonly start: Uint8Array;
  /** End of the deleted range (exclusive); undefined: the end of the key space. */
  readonly end: Uint8Array | undefined;
  /** The seqno it was written at: it deletes older versions, for reads above it. */
  readonly seqno: number;
}

/** What the oracle stores: point versions and range tombstones (predicates tell them apart by `kind`). */
export type OracleEntry = OracleVersion | OracleRangeTombstone;

/** One operation of a write batch ({@link MvccOracle.applyBatch}); `end` undefined is unbounded. */
export type OracleBatchOp =
  | {
      /** Writes `value` under `key`. */
      readonly op: "insert";
      /** The key written. */
      readonly key: Uint8Array;
      /** The value written. */
      readonly value: Uint8Array;
    }
  | {
      /** Deletes `key` (a tombstone). */
      readonly op: "remove";
      /** The key deleted. */
      readonly key: Uint8Array;
    }
  | {
      /** Deletes `key` weakly (a weak tombstone). */
      readonly op: "removeWeak";
      /** The key deleted. */
      readonly key: Uint8Array;
    }
  | {
      /** Adds the merge operand `value` to `key`. */
      readonly op: "merge";
      /** The key merged into. */
      readonly key: Uint8Array;
      /** The operand. */
      readonly value: Uint8Array;
    }
  | {
      /** Deletes the keys `start <= k < end`. */
      readonly op: "removeRange";
      /** First key deleted (inclusive). */
      readonly start: Uint8Array;
      /** End of the deleted range (exclusive); undefined: the end of the key space. */
      readonly end: Uint8Array | undefined;
    };

/** One entry of a bulk ingestion ({@link MvccOracle.ingest}). */
export type OracleIngestEntry =
  | {
      /** A value. */
      readonly kind: "value";
      /** The key. */
      readonly key: Uint8Array;
      /** The value's bytes. */
      readonly value: Uint8Array;
    }
  | {
      /** A deletion of the key (a tombstone or a weak tombstone). */
      readonly kind: "tombstone" | "weakTombstone";
      /** The key deleted. */
      readonly key: Uint8Array;
    };

/**
 * What a compaction filter decided about one version ({@link MvccOracle.filterAt}), as the engine's
 * verdicts: `"keep"`; `"remove"` (a tombstone at the version's seqno); `"removeWeak"` (a weak tombstone);
 * `"destroy"` (gone without a tombstone: older versions show again); `{ replace }` (new bytes, the same
 * kind: a merge operand stays an operand).
 */
export type OracleFilterVerdict =
  | "keep"
  | "remove"
  | "removeWeak"
  | "destroy"
  | {
      /** The version's new bytes. */
      readonly replace: Uint8Array;
    };

/** Range bounds in the tree's convention; when several lower (or upper) bounds are given, all apply. */
export interface OracleRange {
  /** Only keys greater than this. */
  readonly gt?: Uint8Array;
  /** Only keys greater than or equal to this. */
  readonly gte?: Uint8Array;
  /** Only keys less than this. */
  readonly lt?: Uint8Array;
  /** Only keys less than or equal to this. */
  readonly lte?: Uint8Array;
  /** From the largest key down. */
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
  /**
   * Oldest first, distinct seqnos, except that a filter's replacement follows the version it replaced,
   * at the same seqno (their lifetimes, {@link Lifetime}, never overlap).
   */
  versions: OracleVersion[];
}

/**
 * When a version filtered by {@link MvccOracle.filterAt} is visible: to reads at `from < S <= until`
 * (a replacement has a `from`, a replaced or destroyed version an `until`).
 */
interface Lifetime {
  readonly from: number;
  readonly until: number;
}

/** A piece of the key space `[start, end)` and the newest range tombstone covering all of it. */
interface Fragment {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
  readonly top: OracleRangeTombstone;
}

/** How many read seqnos keep their fragment lists (reads come in runs at one snapshot). */
const FRAGMENT_CACHE_SIZE = 8;

interface ClearPoint {
  readonly seqno: number;
  readonly hides: ((entry: OracleEntry) => boolean) | undefined;
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
  /** The user-key order (the constructor's `compare`, bytewise by default). */
  readonly compare: OracleCompare;
  /** Folds merge operands on reads (undefined: the newest operand is the value). */
  readonly mergeOperator: OracleMergeOperator | undefined;
  /** Sorted by `compare`. */
  readonly #entries: KeyEntry[] = [];
  /** Ascending by seqno. */
  #clears: ClearPoint[] = [];
  /** Ascending by seqno (ties in insertion order); never empty ranges. */
  #rangeTombstones: OracleRangeTombstone[] = [];
  /** Versions a filter replaced or destroyed, and the replacements (until the next {@link applyClears}). */
  #lifetimes = new Map<OracleVersion, Lifetime>();
  /** The newest stamp {@link filterAt} was given (filters come in stamp order). */
  #lastFilterStamp = -1;
  /** Per read seqno, the tombstones it sees as sorted disjoint fragments; dropped on every tombstone or clear change. */
  #fragmentCache = new Map<number, Fragment[]>();
  #versionCount = 0;

  constructor(compare: OracleCompare = bytewiseCompare, options: MvccOracleOptions = {}) {
    if (typeof compare !== "function") throw new TypeError("compare must be a function");
    const operator = options.mergeOperator;
    if (operator !== undefined && (operator === null || typeof operator.merge !== "function")) throw new TypeError("mergeOperator must have a merge function");
    this.compare = compare;
    this.mergeOperator = operator;
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** A value: `value` under `key` at `seqno`. A second version of the key at the same seqno throws. */
  insert(key: Uint8Array, value: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "value", value);
  }

  /** A tombstone at `seqno`: reads above it no longer see the older versions of `key`. Same-seqno rule as {@link insert}. */
  remove(key: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "tombstone", EMPTY);
  }

  /** A weak tombstone: reads treat it as a deletion (what compaction may do with it is the tree's business). */
  removeWeak(key: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "weakTombstone", EMPTY);
  }

  /** A merge operand: reads fold it with the versions under it (or, without an operator, return the newest operand's bytes). */
  merge(key: Uint8Array, operand: Uint8Array, seqno: number): void {
    this.#add(key, seqno, "merge", operand);
  }

  /** Adds one version; a second version of the same key at the same seqno throws. */
  write(key: Uint8Array, seqno: number, kind: OracleKind, value: Uint8Array = EMPTY): void {
    this.#add(key, seqno, kind, value);
  }

  /**
   * A bulk ingestion at `seqno`: every entry written at that one seqno, as an ingestion's `finish()` makes
   * them visible (reads at `S <= seqno` see none of them). Keys must be strictly increasing by the
   * comparator, as the tree requires, and none may have a version at `seqno` already; otherwise
   * `RangeError` and nothing is written. Returns the number of entries.
   */
  ingest(entries: readonly OracleIngestEntry[], seqno: number): number {
    checkSeqno(seqno);
    let previous: Uint8Array | undefined;
    for (const entry of entries) {
      if (!(entry.key instanceof Uint8Array)) throw new TypeError("ingested keys must be Uint8Arrays");
      if (entry.kind === "value" ? !(entry.value instanceof Uint8Array) : entry.kind !== "tombstone" && entry.kind !== "weakTombstone") {
        throw new TypeError("an ingested entry is a value (with Uint8Array bytes), a tombstone or a weak tombstone");
      }
      if (previous !== undefined && this.compare(previous, entry.key) >= 0) throw new RangeError("ingested keys must be strictly increasing by the comparator");
      previous = entry.key;
      const { index, found } = this.#search(entry.key);
      if (found && (this.#entries[index] as KeyEntry).versions.some((v) => v.seqno === seqno)) throw new RangeError(`key already has a version at seqno ${seqno}`);
    }
    for (const entry of entries) this.#add(entry.key, seqno, entry.kind, entry.kind === "value" ? entry.value : EMPTY);
    return entries.length;
  }

  /**
   * A range tombstone at `seqno` deleting every key `start <= k < end` by the comparator (`end` undefined:
   * up to the end of the key space) that is older than `seqno`. `start >= end` is a no-op. Returns whether
   * a tombstone was stored.
   */
  removeRange(start: Uint8Array, end: Uint8Array | undefined, seqno: number): boolean {
    if (!(start instanceof Uint8Array)) throw new TypeError("start must be a Uint8Array");
    if (end !== undefined && !(end instanceof Uint8Array)) throw new TypeError("end must be a Uint8Array or undefined");
    checkSeqno(seqno);
    if (end !== undefined && this.compare(start, end) >= 0) return false;
    const tombstone: OracleRangeTombstone = Object.freeze({ kind: "rangeTombstone", start: copy(start), end: end === undefined ? undefined : copy(end), seqno });
    let at = this.#rangeTombstones.length;
    while (at > 0 && (this.#rangeTombstones[at - 1] as OracleRangeTombstone).seqno > seqno) at--;
    this.#rangeTombstones.splice(at, 0, tombstone);
    this.#fragmentCache.clear();
    return true;
  }

  /**
   * `removeRange(prefix, bytewiseSuccessor(prefix), seqno)`: deletes the keys starting with `prefix` (all
   * of them to the end of the key space when `prefix` is only 0xff bytes). Only for the bytewise order
   * ({@link bytewiseCompare}, the default): under another comparator the keys with a prefix need not form
   * a range, and this throws `TypeError`, as the tree does.
   */
  removePrefix(prefix: Uint8Array, seqno: number): boolean {
    if (this.compare !== bytewiseCompare) throw new TypeError("removePrefix needs the bytewise comparator");
    if (!(prefix instanceof Uint8Array)) throw new TypeError("prefix must be a Uint8Array");
    return this.removeRange(prefix, bytewiseSuccessor(prefix), seqno);
  }

  /**
   * The key `batch` names twice with different kinds of operation (which a tree refuses with
   * `MIXED_OPERATION_BATCH`), or undefined. Range deletions name no key.
   */
  batchConflict(batch: readonly OracleBatchOp[]): Uint8Array | undefined {
    const seen: Array<{ key: Uint8Array; op: string }> = [];
    for (const op of batch) {
      if (op.op === "removeRange") continue;
      const earlier = seen.find((s) => this.compare(s.key, op.key) === 0);
      if (earlier === undefined) seen.push({ key: op.key, op: op.op });
      else if (earlier.op !== op.op) return copy(op.key);
    }
    return undefined;
  }

  /**
   * Applies a write batch at one seqno: every operation at `seqno`, a later operation on a key replacing an
   * earlier one (a second insert wins, the later merge operand is the newer), range tombstones not covering
   * the batch's own writes (they are at `seqno`, not below it). A batch naming one key with two kinds of
   * operation ({@link batchConflict}) throws `RangeError` and changes nothing; so does a key that already
   * has a version at `seqno`.
   */
  applyBatch(batch: readonly OracleBatchOp[], seqno: number): void {
    checkSeqno(seqno);
    const conflict = this.batchConflict(batch);
    if (conflict !== undefined) throw new RangeError(`the batch names key ${Buffer.from(conflict).toString("hex")} with different kinds of operation`);
    const writes: Array<{ key: Uint8Array; kind: OracleKind; value: Uint8Array; operands?: Uint8Array[] }> = [];
    const ranges: Array<{ start: Uint8Array; end: Uint8Array | undefined }> = [];
    for (const op of batch) {
      if (op.op === "removeRange") {
        ranges.push({ start: op.start, end: op.end });
        continue;
      }
      const kind: OracleKind = op.op === "insert" ? "value" : op.op === "remove" ? "tombstone" : op.op === "removeWeak" ? "weakTombstone" : "merge";
      const value = op.op === "insert" || op.op === "merge" ? op.value : EMPTY;
      if (!(op.key instanceof Uint8Array) || !(value instanceof Uint8Array)) throw new TypeError("batch keys and values must be Uint8Arrays");
      const earlier = writes.findIndex((w) => this.compare(w.key, op.key) === 0);
      if (earlier >= 0) {
        const [replaced] = writes.splice(earlier, 1);
        if (kind === "merge" && replaced !== undefined) {
          // Several merges of one key: every operand counts, the later one newer.
          writes.push({ key: op.key, kind, value, operands: [...(replaced.operands ?? [replaced.value]), value] });
          continue;
        }
      }
      writes.push({ key: op.key, kind, value });
    }
    for (const w of writes) {
      const { index, found } = this.#search(w.key);
      if (found && (this.#entries[index] as KeyEntry).versions.some((v) => v.seqno === seqno)) throw new RangeError(`key already has a version at seqno ${seqno}`);
    }
    for (const r of ranges) {
      if (!(r.start instanceof Uint8Array) || (r.end !== undefined && !(r.end instanceof Uint8Array))) throw new TypeError("range bounds must be Uint8Arrays");
    }
    for (const w of writes) this.#add(w.key, seqno, w.kind, w.value, w.operands);
    for (const r of ranges) this.removeRange(r.start, r.end, seqno);
  }

  #add(key: Uint8Array, seqno: number, kind: OracleKind, value: Uint8Array, operands?: readonly Uint8Array[]): void {
    if (!(key instanceof Uint8Array)) throw new TypeError("key must be a Uint8Array");
    if (!(value instanceof Uint8Array)) throw new TypeError("value must be a Uint8Array");
    checkSeqno(seqno);
    const version: OracleVersion = Object.freeze(
      operands === undefined || operands.length < 2
        ? { key: copy(key), seqno, kind, value: copy(value) }
        : { key: copy(key), seqno, kind, value: copy(value), operands: Object.freeze(operands.map(copy)) },
    );
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

  /**
   * The newest version of `key` a read at `readSeqno` sees (tombstones included), or undefined: when there
   * is none, or when a range tombstone the read sees is newer than it ({@link coveringTombstone}).
   */
  find(key: Uint8Array, readSeqno: number): OracleVersion | undefined {
    const { index, found } = this.#search(key);
    return found ? this.#visible(this.#entries[index] as KeyEntry, readSeqno) : undefined;
  }

  /**
   * The value of `key` at `readSeqno` (a copy), or undefined when absent or deleted. With a merge
   * operator, merge operands are folded (see the module comment); the operator's errors propagate.
   */
  get(key: Uint8Array, readSeqno: number): Uint8Array | undefined {
    const { index, found } = this.#search(key);
    return found ? this.#valueOf(this.#entries[index] as KeyEntry, readSeqno) : undefined;
  }

  /**
   * The operands a read of `key` at `readSeqno` folds and the base under them (undefined when the newest
   * visible version is not a merge operand, or when there is no operator): what the engine passes to its
   * operator, operands oldest first.
   */
  mergeInputs(key: Uint8Array, readSeqno: number):
    | {
        /** The value under the operands, or undefined when they lie on a deletion, a range tombstone or nothing. */
        base: Uint8Array | undefined;
        /** The operands the read folds, oldest first. */
        operands: Uint8Array[];
      }
    | undefined {
    const { index, found } = this.#search(key);
    if (!found || this.mergeOperator === undefined) return undefined;
    return this.#mergeInputs(this.#entries[index] as KeyEntry, readSeqno);
  }

  /** The visible `[key, value]` pairs within `bounds` at `readSeqno`, in comparator order (or reversed). */
  range(bounds: OracleRange, readSeqno: number): Array<[Uint8Array, Uint8Array]> {
    return this.#collect(bounds, readSeqno, undefined);
  }

  /** The visible pairs whose key starts with `prefix` byte for byte, in comparator order (or reversed). */
  prefix(prefix: Uint8Array, readSeqno: number, options: { readonly reverse?: boolean; readonly limit?: number } = {}): Array<[Uint8Array, Uint8Array]> {
    return this.#collect(options, readSeqno, (key) => startsWith(key, prefix));
  }

  /**
   * The newest range tombstone a read at `readSeqno` sees (seqno below it, not hidden by a clear) that
   * covers `key`, or undefined. Whether it deletes the key depends on the key's versions: see {@link find}.
   */
  coveringTombstone(key: Uint8Array, readSeqno: number): OracleRangeTombstone | undefined {
    return this.#coveringSince(key, -1, readSeqno);
  }

  /** The stored range tombstones by ascending seqno, those a clear hides included until {@link applyClears}. */
  rangeTombstones(): OracleRangeTombstone[] {
    return [...this.#rangeTombstones];
  }

  /** Stored range tombstones. */
  get rangeTombstoneCount(): number {
    return this.#rangeTombstones.length;
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
   * newest first. With the default `readSeqno` that is the key's current history. Range tombstones are
   * not applied here: versions they cover are listed too.
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

  /** Stored versions, cleared ones and those a filter replaced (with their replacements) included until {@link applyClears}. */
  get versionCount(): number {
    return this.#versionCount;
  }

  /** The highest stored seqno (of a version or a range tombstone), or undefined when empty. */
  highestSeqno(): number | undefined {
    let highest = this.#rangeTombstones[this.#rangeTombstones.length - 1]?.seqno;
    for (const entry of this.#entries) {
      const last = entry.versions[entry.versions.length - 1];
      if (last !== undefined && (highest === undefined || last.seqno > highest)) highest = last.seqno;
    }
    return highest;
  }

  // ---- whole-tree changes ---------------------------------------------------------------------

  /**
   * Models `clear()` (no `hides`) or a table drop (`hides` picks the versions and range tombstones that
   * were in dropped tables; `entry.kind` tells them apart) whose version change took seqno `stamp`: reads
   * at `S > stamp` no longer see entries older than `stamp` that `hides` accepts; reads at `S <= stamp`
   * see them as before.
   */
  clearAt(stamp: number, hides?: (entry: OracleEntry) => boolean): void {
    if (!Number.isSafeInteger(stamp) || stamp < 0) throw new RangeError(`stamp must be a non-negative safe integer, got ${String(stamp)}`);
    const point: ClearPoint = { seqno: stamp, hides };
    let at = this.#clears.length;
    while (at > 0 && (this.#clears[at - 1] as ClearPoint).seqno > stamp) at--;
    this.#clears.splice(at, 0, point);
    this.#fragmentCache.clear();
  }

  /**
   * Models a compaction filter whose compaction installed at `stamp` (a version change that does not
   * preserve reads): `verdict` is asked about every value and merge operand version older than `stamp`
   * that the newest reader can pick from (not hidden by a clear, nor replaced or destroyed by an earlier
   * filter; tombstones are never asked, as a filter never sees them), and for reads at `S > stamp` each
   * version reads as its verdict says, while reads at `S <= stamp` see it as before. A version holding
   * several operands (a batch merged its key more than once) takes one verdict for all of them: a
   * `replace` leaves one operand. The caller picks the versions the compaction's filter saw (e.g. from what
   * the filter was asked); `verdict` may be called in any order, and if it throws nothing changes.
   * Stamps must not decrease from one call to the next (`RangeError`), as compactions install in order.
   * Returns how many versions changed (those not kept).
   */
  filterAt(stamp: number, verdict: (version: OracleVersion) => OracleFilterVerdict): number {
    checkSeqno(stamp);
    if (stamp < this.#lastFilterStamp) throw new RangeError(`filter stamps must not decrease: ${stamp} after ${this.#lastFilterStamp}`);
    const changes: Array<{ entry: KeyEntry; version: OracleVersion; verdict: Exclude<OracleFilterVerdict, "keep"> }> = [];
    for (const entry of this.#entries) {
      for (const version of entry.versions) {
        if (version.seqno >= stamp || isDeletion(version.kind) || this.#hidden(version, Number.POSITIVE_INFINITY)) continue;
        const v = verdict(version);
        if (v === "keep") continue;
        if (v !== "remove" && v !== "removeWeak" && v !== "destroy" && !(typeof v === "object" && v !== null && v.replace instanceof Uint8Array)) {
          throw new TypeError(`unknown filter verdict ${JSON.stringify(v)}`);
        }
        changes.push({ entry, version, verdict: v });
      }
    }
    for (const { entry, version, verdict: v } of changes) {
      const lifetime = this.#lifetimes.get(version);
      this.#lifetimes.set(version, { from: lifetime?.from ?? -1, until: stamp });
      if (v === "destroy") continue;
      const replacement: OracleVersion =
        v === "remove"
          ? Object.freeze({ key: version.key, seqno: version.seqno, kind: "tombstone", value: EMPTY })
          : v === "removeWeak"
            ? Object.freeze({ key: version.key, seqno: version.seqno, kind: "weakTombstone", value: EMPTY })
            : Object.freeze({ key: version.key, seqno: version.seqno, kind: version.kind, value: copy(v.replace) });
      this.#lifetimes.set(replacement, { from: stamp, until: Number.POSITIVE_INFINITY });
      entry.versions.splice(entry.versions.indexOf(version) + 1, 0, replacement);
      this.#versionCount++;
    }
    this.#lastFilterStamp = stamp;
    return changes.length;
  }

  /**
   * Makes what the newest reader sees the only history, as a reopen does (the data was never kept on
   * disk): deletes the versions it no longer sees because of a clear or a filter and forgets the clears;
   * a filter's replacements become visible to every read (old snapshots lose the cleared data and see
   * filtered versions as filtered).
   */
  applyClears(): void {
    if (this.#clears.length === 0 && this.#lifetimes.size === 0) return;
    this.retainOnly((entry) => !this.#hidden(entry, Number.POSITIVE_INFINITY));
    this.#clears = [];
    this.#lifetimes.clear();
    this.#fragmentCache.clear();
  }

  /**
   * Keeps only the versions and range tombstones `keep` accepts, e.g. the flushed ones when modelling a
   * reopen (`(entry) => entry.seqno < flushedBelow`).
   */
  retainOnly(keep: (entry: OracleEntry) => boolean): void {
    this.#rangeTombstones = this.#rangeTombstones.filter((tombstone) => keep(tombstone));
    this.#fragmentCache.clear();
    let write = 0;
    let count = 0;
    for (let read = 0; read < this.#entries.length; read++) {
      const entry = this.#entries[read] as KeyEntry;
      entry.versions = entry.versions.filter((version) => {
        if (keep(version)) return true;
        this.#lifetimes.delete(version);
        return false;
      });
      if (entry.versions.length === 0) continue;
      count += entry.versions.length;
      this.#entries[write++] = entry;
    }
    this.#entries.length = write;
    this.#versionCount = count;
  }

  /** Forgets every version, range tombstone and clear. */
  dropAll(): void {
    this.#entries.length = 0;
    this.#clears = [];
    this.#rangeTombstones = [];
    this.#lifetimes.clear();
    this.#lastFilterStamp = -1;
    this.#fragmentCache.clear();
    this.#versionCount = 0;
  }

  /** An independent copy (versions are immutable and shared). */
  clone(): MvccOracle {
    const copy = new MvccOracle(this.compare, this.mergeOperator === undefined ? {} : { mergeOperator: this.mergeOperator });
    for (const entry of this.#entries) copy.#entries.push({ key: entry.key, versions: [...entry.versions] });
    copy.#clears = [...this.#clears];
    copy.#rangeTombstones = [...this.#rangeTombstones];
    copy.#lifetimes = new Map(this.#lifetimes);
    copy.#lastFilterStamp = this.#lastFilterStamp;
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
      const value = this.#valueOf(entry, readSeqno);
      if (value === undefined) continue;
      out.push([copy(entry.key), value]);
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

  /** What a read at `readSeqno` returns for `entry` (a fresh copy), undefined when absent or deleted. */
  #valueOf(entry: KeyEntry, readSeqno: number): Uint8Array | undefined {
    const version = this.#visible(entry, readSeqno);
    if (version === undefined || isDeletion(version.kind)) return undefined;
    const operator = this.mergeOperator;
    if (version.kind !== "merge" || operator === undefined) return copy(version.value);
    const inputs = this.#mergeInputs(entry, readSeqno);
    return copy(operator.merge(copy(entry.key), inputs.base, inputs.operands));
  }

  /**
   * The fold's inputs for `entry` at `readSeqno`: the visible versions newest first, operands collected
   * down to the first value (the base), deletion, or version covered by a visible range tombstone newer
   * than it (no base). Copies, operands oldest first.
   */
  #mergeInputs(entry: KeyEntry, readSeqno: number): { base: Uint8Array | undefined; operands: Uint8Array[] } {
    const newestFirst: Uint8Array[] = [];
    let base: Uint8Array | undefined;
    for (let i = entry.versions.length - 1; i >= 0; i--) {
      const version = entry.versions[i] as OracleVersion;
      if (version.seqno >= readSeqno || this.#hidden(version, readSeqno)) continue;
      if (this.#coveringSince(entry.key, version.seqno, readSeqno) !== undefined) break;
      if (version.kind === "merge") {
        const operands = version.operands ?? [version.value];
        for (let j = operands.length - 1; j >= 0; j--) newestFirst.push(copy(operands[j] as Uint8Array));
        continue;
      }
      if (version.kind === "value") base = copy(version.value);
      break;
    }
    return { base, operands: newestFirst.reverse() };
  }

  /** The version a read at `readSeqno` picks for `entry`, undefined when none or a range tombstone covers it. */
  #visible(entry: KeyEntry, readSeqno: number): OracleVersion | undefined {
    for (let i = entry.versions.length - 1; i >= 0; i--) {
      const version = entry.versions[i] as OracleVersion;
      if (version.seqno < readSeqno && !this.#hidden(version, readSeqno)) {
        return this.#coveringSince(entry.key, version.seqno, readSeqno) === undefined ? version : undefined;
      }
    }
    return undefined;
  }

  /** The newest range tombstone with `after < seqno < readSeqno`, not hidden by a clear, covering `key`. */
  #coveringSince(key: Uint8Array, after: number, readSeqno: number): OracleRangeTombstone | undefined {
    const tombstones = this.#rangeTombstones;
    if (tombstones.length === 0 || (tombstones[0] as OracleRangeTombstone).seqno >= readSeqno) return undefined;
    const fragments = this.#fragments(readSeqno);
    // The last fragment starting at or before key.
    let lo = 0;
    let hi = fragments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare((fragments[mid] as Fragment).start, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const fragment = fragments[lo - 1];
    if (fragment === undefined || (fragment.end !== undefined && this.compare(key, fragment.end) >= 0)) return undefined;
    // The newest tombstone covering key: if it is not newer than `after`, none is.
    return fragment.top.seqno > after ? fragment.top : undefined;
  }

  /**
   * The tombstones a read at `readSeqno` sees, cut at every bound into disjoint fragments in comparator
   * order, each with the newest tombstone covering it; fragments no tombstone covers are left out.
   */
  #fragments(readSeqno: number): Fragment[] {
    const cached = this.#fragmentCache.get(readSeqno);
    if (cached !== undefined) return cached;
    const seen = this.#rangeTombstones.filter((t) => t.seqno < readSeqno && !this.#hidden(t, readSeqno));
    const cmp = this.compare;
    const bounds: Uint8Array[] = [];
    for (const t of seen) {
      bounds.push(t.start);
      if (t.end !== undefined) bounds.push(t.end);
    }
    bounds.sort(cmp);
    const cuts = bounds.filter((b, i) => i === 0 || cmp(bounds[i - 1] as Uint8Array, b) !== 0);
    const fragments: Fragment[] = [];
    for (let i = 0; i < cuts.length; i++) {
      const start = cuts[i] as Uint8Array;
      const end = cuts[i + 1];
      let top: OracleRangeTombstone | undefined;
      for (const t of seen) {
        if (cmp(t.start, start) > 0 || (t.end !== undefined && cmp(start, t.end) >= 0)) continue;
        if (top === undefined || t.seqno > top.seqno) top = t;
      }
      if (top !== undefined) fragments.push({ start, end, top });
    }
    if (this.#fragmentCache.size >= FRAGMENT_CACHE_SIZE) this.#fragmentCache.delete(this.#fragmentCache.keys().next().value as number);
    this.#fragmentCache.set(readSeqno, fragments);
    return fragments;
  }

  /** Whether a clear that a read at `readSeqno` sees hides `entry`, or a filter does (before or after it). */
  #hidden(entry: OracleEntry, readSeqno: number): boolean {
    if (this.#lifetimes.size > 0 && entry.kind !== "rangeTombstone") {
      const lifetime = this.#lifetimes.get(entry);
      if (lifetime !== undefined && (readSeqno <= lifetime.from || readSeqno > lifetime.until)) return true;
    }
    for (const clear of this.#clears) {
      if (clear.seqno >= readSeqno) break;
      if (entry.seqno < clear.seqno && (clear.hides === undefined || clear.hides(entry))) return true;
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

function checkSeqno(seqno: number): void {
  if (!Number.isSafeInteger(seqno) || seqno < 0) throw new RangeError(`seqno must be a non-negative safe integer, got ${String(seqno)}`);
}

/**
 * The smallest key above every key starting with `prefix` in bytewise order: the prefix up to its last
 * byte below 0xff, that byte plus one; undefined (the end of the key space) when every byte is 0xff.
 */
export function bytewiseSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) !== 0xff) {
      const out = new Uint8Array(prefix.subarray(0, i + 1));
      out[i] = (out[i] as number) + 1;
      return out;
    }
  }
  return undefined;
}

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
