/**
 * The MVCC garbage collector of flush and compaction: reads entries in internal-key order and yields the
 * ones that must be kept, given the GC watermark `T` (the caller promises no read below `T` needs
 * data that only a shadowed version holds) and whether tombstones may be evicted (output goes to the
 * last level, so nothing older lies below it).
 *
 * For each key, versions newest first:
 * - every version with seqno `>= T` is kept: some reader at `S >= T` may see exactly it;
 * - the newest version below `T` (the "base") shadows everything older for every reader at `S >= T`, so
 *   everything older than the base is dropped; the base itself is
 *   - a value or indirection: kept;
 *   - a tombstone: kept, or dropped when evicting (nothing older remains to hide);
 *   - a weak tombstone whose next older version is a value: both annihilate (older versions go too);
 *     otherwise kept like a tombstone (dropped when evicting and nothing older remains);
 *   - a merge operand: with a merge operator, it and the older versions are collapsed into one entry
 *     at its seqno: a value (full merge) when a base value, a deletion, a version deleted by a range
 *     tombstone below `T` lies under the operands, or when evicting (nothing older lies below);
 *     otherwise one operand holding the partial merge (the base may lie in a level below). Without
 *     an operator it is kept with every older version.
 * Independently of `T`, when evicting, a tombstone with no older version below it is dropped: at the
 * bottom of the tree it hides nothing from any reader. With `T = 0` that is the only thing dropped.
 *
 * Range tombstones (`tombstones`, the inputs' fragments) delete too: a version below the newest
 * tombstone that is itself below `T` and covers its key is invisible to every reader at `S >= T`, and
 * is dropped wherever it is. Which tombstones the output keeps is the caller's business
 * (`pruneFragments`).
 *
 * This differs on purpose from the reference engine, which drops versions older than the first
 * version whose successor is below `T` and relies on old in-memory versions to answer reads at
 * `S >= T`; here the output alone answers every read at `S >= T`.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { ValueKind } from "../key/value-kind.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import { KeyBuffer } from "../key/key-buffer.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import { ScanCover } from "../range-tombstone/scan-cover.ts";
import { runMerge, type MergeOperator } from "../merge/merge-operator.ts";
import { copyBytes } from "../key/copy.ts";

export interface CompactionStreamOptions {
  readonly comparator: Comparator;
  /** Versions with seqno `>= gcWatermark` are never dropped; 0 disables all garbage collection. */
  readonly gcWatermark: number;
  /** Whether tombstones may disappear (the output is the bottom of the tree). */
  readonly evictTombstones: boolean;
  /**
   * Nothing older than the input lies anywhere below (default: `evictTombstones`): operands below the
   * watermark then merge fully even without a base. A flush into an empty tree sets it but keeps its
   * tombstones.
   */
  readonly nothingBelow?: boolean;
  /** Told of every dropped entry (blob accounting uses it). */
  readonly onDrop?: (key: Uint8Array, seqno: number, kind: ValueKind, value: Uint8Array) => void;
  /** The range tombstones of the input, fragmented. */
  readonly tombstones?: readonly Fragment[];
  /** Collapses merge operands below the watermark (none: operands are kept as they are). */
  readonly mergeOperator?: MergeOperator | undefined;
  /** A blob tree's: the value an indirection stands for, when it is the base of a merge. */
  readonly readBlob?: ((key: Uint8Array, handle: Uint8Array) => Uint8Array) | undefined;
}

export class CompactionStream {
  readonly #input: EntryCursor;
  readonly #options: CompactionStreamOptions;
  #key: Uint8Array | undefined;
  /** The current key's own copy: a view into the input would die when the input moves. */
  readonly #keyBuffer = new KeyBuffer();
  /** The base of the current key was found: what follows of this key is shadowed. */
  #dropRest = false;
  /** The input already sits on the entry after the one last emitted (after a look-ahead). */
  #inputAhead = false;
  #started = false;
  #seqno = 0;
  #kind: ValueKind = ValueKind.Value;
  #value: Uint8Array = new Uint8Array(0);
  #dropped = 0;
  /** What range tombstones below the watermark delete, key by key (null: none in the input). */
  readonly #cover: ScanCover | null;
  /** Versions of the current key below this seqno are deleted by a range tombstone below the watermark. */
  #coveredBelow = -1;

  /** `input` is positioned by the constructor at its first entry. */
  constructor(input: EntryCursor, options: CompactionStreamOptions) {
    this.#input = input;
    this.#options = options;
    const tombstones = options.tombstones ?? [];
    this.#cover = tombstones.length === 0 || options.gcWatermark <= 0 ? null : new ScanCover(options.comparator, [tombstones], options.gcWatermark);
    input.seekToFirst();
  }

  /** Entries dropped so far. */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** The current output entry's user key (a view valid until `next()`). */
  key(): Uint8Array {
    return this.#key as Uint8Array;
  }

  seqno(): number {
    return this.#seqno;
  }

  kind(): ValueKind {
    return this.#kind;
  }

  /** The current output entry's value (a view valid until `next()`). */
  value(): Uint8Array {
    return this.#value;
  }

  /** Moves to the next entry to keep; false when the input is exhausted. */
  next(): boolean {
    const input = this.#input;
    const { comparator, gcWatermark, evictTombstones } = this.#options;
    for (;;) {
      if (this.#started && !this.#inputAhead) input.next();
      this.#started = true;
      this.#inputAhead = false;
      if (!input.valid()) return false;
      if (this.#key === undefined || comparator.compare(input.key(), this.#key) !== 0) {
        this.#key = this.#keyBuffer.set(input.key());
        this.#dropRest = false;
        this.#coveredBelow = this.#cover === null ? -1 : this.#cover.forward(this.#key);
      } else if (this.#dropRest) {
        this.#drop(input);
        continue;
      }
      const seqno = input.seqno();
      if (seqno < this.#coveredBelow) {
        this.#drop(input);
        continue;
      }
      const kind = input.kind();
      this.#seqno = seqno;
      this.#kind = kind;
      this.#value = input.value();
      const belowWatermark = seqno < gcWatermark;

      if (kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone) {
        if (!evictTombstones && !(kind === ValueKind.WeakTombstone && belowWatermark)) {
          if (belowWatermark) this.#dropRest = true;
          return true;
        }
        // What lies directly below decides; the input moves, so the tombstone is re-emitted from fields.
        // Its value is copied first: a view into the input dies when the input moves (a table cursor's
        // block memory may be recycled). The key is already the stream's own copy.
        const key = this.#key;
        const value = this.#value.length === 0 ? this.#value : this.#value.slice();
        input.next();
        this.#inputAhead = true;
        const older = input.valid() && comparator.compare(input.key(), key) === 0;
        if (belowWatermark) this.#dropRest = true;
        // At the bottom, a tombstone with nothing older left has nothing to hide, for any reader.
        const lone = evictTombstones && !older;
        const evicted = evictTombstones && belowWatermark && kind === ValueKind.Tombstone;
        const annihilates = belowWatermark && kind === ValueKind.WeakTombstone && older && input.kind() === ValueKind.Value;
        if (lone || evicted || annihilates) {
          this.#countDrop(key, seqno, kind, value);
          continue;
        }
        this.#seqno = seqno;
        this.#kind = kind;
        this.#value = value;
        return true;
      }

      if (!belowWatermark) return true;
      // The base: the newest version below the watermark. A value shadows everything older for every
      // reader at S >= T; merge operands need the versions below them, so those stay (or are collapsed).
      if (kind !== ValueKind.MergeOperand) {
        this.#dropRest = true;
        return true;
      }
      const operator = this.#options.mergeOperator;
      if (operator !== undefined) this.#collapse(input, operator);
      return true;
    }
  }

  /**
   * Collapses the operand the input is on (below the watermark, so every older version is too) with the
   * versions under it into the current output entry (see the module comment). Leaves the input on the
   * first entry not merged in and drops the rest of the key.
   */
  #collapse(input: EntryCursor, operator: MergeOperator): void {
    const { comparator, evictTombstones, nothingBelow = evictTombstones } = this.#options;
    const key = this.#key as Uint8Array;
    const operands = [copyBytes(input.value())];
    let base: Uint8Array | undefined;
    // A range tombstone below the watermark deletes whatever base lies below, here or in other levels.
    let bounded = this.#coveredBelow >= 0;
    input.next();
    while (input.valid() && comparator.compare(input.key(), key) === 0 && input.seqno() >= this.#coveredBelow) {
      const kind = input.kind();
      if (kind !== ValueKind.MergeOperand) {
        bounded = true;
        if (kind === ValueKind.Value) base = copyBytes(input.value());
        else if (kind === ValueKind.Indirection) {
          const read = this.#options.readBlob;
          if (read === undefined) throw new Error("CompactionStream: a merge operand lies on a separated value, but no readBlob was given");
          base = read(key, input.value());
        }
        break;
      }
      operands.push(copyBytes(input.value()));
      this.#countDrop(key, input.seqno(), kind, input.value());
      input.next();
    }
    // What is left of the key (the base or deletion just merged in, older versions) is shadowed.
    this.#inputAhead = true;
    this.#dropRest = true;
    if (bounded || nothingBelow) {
      this.#kind = ValueKind.Value;
      this.#value = runMerge(operator, key, base, operands.reverse());
    } else if (operands.length > 1) {
      this.#value = runMerge(operator, key, undefined, operands.reverse());
    } else {
      this.#value = operands[0] as Uint8Array;
    }
  }

  #drop(input: EntryCursor): void {
    this.#countDrop(input.key(), input.seqno(), input.kind(), input.value());
  }

  #countDrop(key: Uint8Array, seqno: number, kind: ValueKind, value: Uint8Array): void {
    this.#dropped++;
    this.#options.onDrop?.(key, seqno, kind, value);
  }
}
