/**
 * The operation language of the tree model test (tree-model.test.ts) and the shrunk sequences it
 * found, kept as regression cases. Each case is replayed with the exhaustive checker: every key, full
 * scans, bounded ranges and `len` at every snapshot after every step.
 *
 * Keys and values are strings whose characters are bytes (latin1: "\u0000".."\u00ff"). Every write
 * takes the next seqno from the one counter; structure changes take one too (as the engine does), so
 * a sequence needs no explicit seqnos.
 *
 * To keep a failure found by the model test: copy the `{ name, config, ops }` block it prints into
 * {@link MODEL_REGRESSIONS}.
 *
 * @module
 */

export type ModelOp =
  /** `insert(key, value + pad)`, where `pad` adds that many deterministic filler bytes. */
  | { readonly op: "insert"; readonly key: string; readonly value: string; readonly pad?: number }
  | { readonly op: "merge"; readonly key: string; readonly value: string; readonly pad?: number }
  /**
   * `count` inserts (one seqno each) of the bulk keys `b000`..`b199` numbered `from`, `from + stride`, ...
   * (modulo 200), with values `${value}.${i}` plus `pad` filler bytes: grows the tree quickly. With
   * `shared`, all of them take one seqno (as a write batch does).
   */
  | {
      readonly op: "fill";
      readonly from: number;
      readonly count: number;
      readonly stride: number;
      readonly value: string;
      readonly pad?: number;
      readonly shared?: boolean;
    }
  | { readonly op: "remove"; readonly key: string }
  | { readonly op: "removeWeak"; readonly key: string }
  | { readonly op: "rotate" }
  /**
   * `flushActiveMemtable(W)`: everything written before it is durable once it finishes. With
   * `background`, the job is not awaited: later operations run while it does, until a `settle` (only
   * one background flush at a time, so that what it flushes is known).
   */
  | { readonly op: "flush"; readonly background?: boolean }
  /** `compact(new Leveled(config.leveled), W)`. */
  | { readonly op: "leveled"; readonly background?: boolean }
  /** `compact(new SizeTiered(config.sizeTiered), W)`. */
  | { readonly op: "sizeTiered"; readonly background?: boolean }
  /** `majorCompact(config.majorTarget, W)`. */
  | { readonly op: "major"; readonly background?: boolean }
  /** Waits for every background job. */
  | { readonly op: "settle" }
  /** Lets background jobs run for one event-loop turn. */
  | { readonly op: "tick" }
  /**
   * `close()` (which waits for background jobs) and `Tree.open` with the same counter: unflushed
   * versions are gone.
   */
  | { readonly op: "reopen" }
  /** `clear()`, even with background jobs in flight (compactions of cleared tables must not install). */
  | { readonly op: "clear" }
  /** Settles, then `dropRange({})`: every table goes, memtables stay. */
  | { readonly op: "dropAll" }
  /** Opens an iterator at the current seqno and reads `take` entries now; `drain` reads the rest later. */
  | { readonly op: "hold"; readonly take: number; readonly reverse?: boolean }
  /** Finishes the oldest held iterator and compares everything it yielded with the oracle at its seqno. */
  | { readonly op: "drain" }
  /** Raises the GC watermark W to `counter - back` (never lowers it); only in watermark configs. */
  | { readonly op: "watermark"; readonly back: number };

export interface ModelRegression {
  readonly name: string;
  /** A configuration name of tree-model.test.ts. */
  readonly config: string;
  readonly ops: readonly ModelOp[];
}

export const MODEL_REGRESSIONS: readonly ModelRegression[] = [
  {
    // prefix() with a Buffer prefix found nothing: prefixSuccessor incremented a Buffer#slice view,
    // i.e. the caller's prefix, which was also the scan's lower bound (fixed in fabfa57).
    name: "watermark-tiny seed 1: Buffer prefix",
    config: "watermark-tiny",
    ops: [
      { op: "insert", key: "k04", value: "v0" },
      { op: "flush" },
    ],
  },
];
