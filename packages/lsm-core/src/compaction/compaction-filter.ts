/**
 * Compaction filters: a user function that sees every value a merge compaction rewrites and may keep,
 * delete, drop or replace it (TTL expiry, dropping a tenant's rows, rewriting an old encoding).
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import { isTombstone, ValueKind } from "../key/value-kind.ts";

/** What a filter sees of an entry. `value()` is a view valid until the filter returns. */
export interface CompactionFilterItem {
  /** The entry's user key: a view valid until the filter returns (copy it to keep it). */
  readonly key: Uint8Array;
  /** The sequence number the entry was written at. */
  readonly seqno: number;
  /** Whether the entry is a merge operand (else a value). */
  readonly isMergeOperand: boolean;
  /**
   * The entry's value (or operand) bytes: read only when asked for (a blob tree's separated value is fetched
   * from its blob file then), a view valid until the filter returns.
   */
  value(): Uint8Array;
}

/**
 * A filter's decision: `"keep"`; `"remove"` (becomes a tombstone at the entry's seqno); `"removeWeak"`
 * (a weak tombstone); `"destroy"` (dropped with no tombstone: older versions of the key may show
 * again); `{ replace }` (new value bytes; a merge operand stays an operand).
 */
export type CompactionVerdict =
  | "keep"
  | "remove"
  | "removeWeak"
  | "destroy"
  | {
      /** The new value (or operand) bytes, written in place of the entry's. */
      readonly replace: Uint8Array;
    };

/** One compaction's filter, made by {@link CompactionFilter.create}. */
export interface CompactionFilterRun {
  /** Decides about one entry; called in the compaction's key order (newest version of a key first). */
  filter(item: CompactionFilterItem): CompactionVerdict;
  /** Called once after the last entry of a compaction that completed its pass. */
  finish?(): void;
}

/**
 * Tree option `compactionFilter`. `create` is called once per merge compaction (never for flushes, moves
 * or drops); `isLastLevel` says whether the output is the bottom of the tree for its key range (nothing
 * older lies below it). The filter is asked about every value and merge operand the compaction reads,
 * tombstones excepted, at any seqno: it changes what snapshots older than the compaction see only
 * through the tree's in-memory history (a compaction with a filter never replaces an older super
 * version). A throwing filter fails the compaction with `LsmError` code `COMPACTION_FILTER`, and the
 * tree stays as it was.
 *
 * @example
 * ```ts
 * // Values start with an 8-byte big-endian expiry time in ms.
 * const ttl: CompactionFilter = {
 *   name: "ttl",
 *   create: () => ({
 *     filter: (item) => (new DataView(item.value().buffer, item.value().byteOffset).getBigUint64(0) < BigInt(Date.now()) ? "remove" : "keep"),
 *   }),
 * };
 * const tree = await Tree.open({ path: "/db", compactionFilter: ttl });
 * ```
 */
export interface CompactionFilter {
  /** Names the filter in errors (`compaction filter "ttl" failed: ...`). */
  readonly name: string;
  /** Makes the filter of one merge compaction; `isLastLevel`: no older data lies below its output. */
  create(context: { readonly isLastLevel: boolean }): CompactionFilterRun;
}

export function checkCompactionFilter(filter: unknown): CompactionFilter | undefined {
  if (filter === undefined) return undefined;
  const f = filter as Partial<CompactionFilter> | null;
  if (f === null || typeof f !== "object" || typeof f.create !== "function" || typeof f.name !== "string") {
    throw new TypeError("compactionFilter must be an object with a name (string) and a create(context) function");
  }
  return f as CompactionFilter;
}

const EMPTY = new Uint8Array(0);

function failed(name: string, error: unknown): LsmError {
  return new LsmError("COMPACTION_FILTER", `compaction filter "${name}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/**
 * A forward-only cursor over a compaction's input with the filter's verdicts applied: destroyed entries
 * are skipped, removed ones read as tombstones, replaced ones carry the new bytes.
 */
export class FilteredCursor implements EntryCursor {
  readonly #input: EntryCursor;
  readonly #run: CompactionFilterRun;
  readonly #name: string;
  readonly #readBlob: ((key: Uint8Array, handle: Uint8Array) => Uint8Array) | undefined;
  #kind: ValueKind = ValueKind.Value;
  #value: Uint8Array = EMPTY;
  readonly #item: { key: Uint8Array; seqno: number; isMergeOperand: boolean; value: () => Uint8Array };

  /**
   * `readBlob` (a blob tree's) resolves an indirection's handle: the filter sees separated values too,
   * and reads the blob only when it asks for `value()`.
   */
  constructor(input: EntryCursor, filter: CompactionFilter, isLastLevel: boolean, readBlob?: (key: Uint8Array, handle: Uint8Array) => Uint8Array) {
    this.#input = input;
    this.#name = filter.name;
    try {
      this.#run = filter.create({ isLastLevel });
    } catch (error) {
      throw failed(filter.name, error);
    }
    this.#readBlob = readBlob;
    this.#item = {
      key: EMPTY,
      seqno: 0,
      isMergeOperand: false,
      value: () => (readBlob !== undefined && input.kind() === ValueKind.Indirection ? readBlob(input.key(), input.value()) : input.value()),
    };
  }

  /** Tells the filter the pass is complete. */
  finish(): void {
    try {
      this.#run.finish?.();
    } catch (error) {
      throw failed(this.#name, error);
    }
  }

  valid(): boolean {
    return this.#input.valid();
  }

  key(): Uint8Array {
    return this.#input.key();
  }

  seqno(): number {
    return this.#input.seqno();
  }

  kind(): ValueKind {
    return this.#kind;
  }

  value(): Uint8Array {
    return this.#value;
  }

  seekToFirst(): void {
    this.#input.seekToFirst();
    this.#settle();
  }

  next(): void {
    this.#input.next();
    this.#settle();
  }

  seekToLast(): void {
    throw new Error("FilteredCursor reads forward only");
  }

  seek(): void {
    throw new Error("FilteredCursor reads forward only");
  }

  seekForPrev(): void {
    throw new Error("FilteredCursor reads forward only");
  }

  prev(): void {
    throw new Error("FilteredCursor reads forward only");
  }

  close(): void {
    this.#input.close();
  }

  /** Applies the verdict to the entry the input is on, skipping destroyed ones. */
  #settle(): void {
    const input = this.#input;
    for (; input.valid(); input.next()) {
      const kind = input.kind();
      // Without a blob reader an indirection's value cannot be shown to the filter: it is kept.
      if (isTombstone(kind) || (kind === ValueKind.Indirection && this.#readBlob === undefined)) {
        this.#kind = kind;
        this.#value = input.value();
        return;
      }
      const item = this.#item;
      item.key = input.key();
      item.seqno = input.seqno();
      item.isMergeOperand = kind === ValueKind.MergeOperand;
      let verdict: CompactionVerdict;
      try {
        verdict = this.#run.filter(item);
      } catch (error) {
        throw failed(this.#name, error);
      }
      if (verdict === "keep") {
        this.#kind = kind;
        this.#value = input.value();
        return;
      }
      if (verdict === "destroy") continue;
      if (verdict === "remove" || verdict === "removeWeak") {
        this.#kind = verdict === "remove" ? ValueKind.Tombstone : ValueKind.WeakTombstone;
        this.#value = EMPTY;
        return;
      }
      if (typeof verdict === "object" && verdict !== null && verdict.replace instanceof Uint8Array) {
        // A replaced separated value is a new value (the table writer separates it again if large).
        this.#kind = kind === ValueKind.Indirection ? ValueKind.Value : kind;
        this.#value = verdict.replace;
        return;
      }
      throw failed(this.#name, new TypeError(`unknown verdict ${JSON.stringify(verdict)}`));
    }
  }
}
