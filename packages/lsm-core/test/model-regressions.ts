/**
 * The operation language of the tree model test (tree-model.test.ts) and the shrunk sequences it
 * found, kept as regression cases. Each case is replayed with the exhaustive checker: every key, full
 * scans, bounded ranges and `len` at every snapshot after every step.
 *
 * Keys and values are strings whose characters are bytes (latin1: "\u0000".."\u00ff"). Every write
 * (a range tombstone and a whole write batch included) takes the next seqno from the one counter;
 * structure changes take one too (as the engine does), so a sequence needs no explicit seqnos.
 *
 * In the configurations with the model's compaction filter (tree-model-filter.ts), values starting
 * with "X" and a verdict letter are "doomed": compactions remove, destroy or replace them.
 *
 * To keep a failure found by the model test: copy the `{ name, config, ops }` block it prints into
 * {@link MODEL_REGRESSIONS}.
 *
 * @module
 */

export type ModelOp =
  /** `insert(key, value + pad)`, where `pad` adds that many deterministic filler bytes. */
  | { readonly op: "insert"; readonly key: string; readonly value: string; readonly pad?: number }
  /**
   * `merge(key, operand)`. In counter configurations (the tree merges with counterMerge) the key must be
   * a counter key (tree-model.test.ts COUNTER_KEYS; otherwise the sequence is invalid) and the operand is
   * the le64 of `value` read as a decimal integer ("+3"), `pad` ignored; inserts to counter keys write
   * 8-byte values too. Elsewhere the operand is `value` + `pad` filler, as for inserts.
   */
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
  /**
   * `removeRange(start, end)`: a range tombstone over `start <= k < end` by the configuration's
   * comparator; `start >= end` is a no-op (the seqno is taken all the same).
   */
  | { readonly op: "removeRange"; readonly start: string; readonly end: string }
  /**
   * `removePrefix(prefix)`: the range tombstone `[prefix, successor)`, unbounded for a prefix of 0xff bytes
   * only. Under a custom comparator it must throw `TypeError` and write nothing.
   */
  | { readonly op: "removePrefix"; readonly prefix: string }
  /**
   * `applyBatch(batch)` at one seqno. A batch naming one key with two kinds of operation must throw
   * `LsmError` `MIXED_OPERATION_BATCH` and change nothing (the seqno is taken all the same). With
   * `cleared`, the `WriteBatch` first holds other operations and is `clear()`ed.
   */
  | { readonly op: "batch"; readonly ops: readonly BatchOp[]; readonly cleared?: boolean }
  /**
   * A bulk ingestion: `tree.ingestion()`, the `entries` written in the configuration's key order (the
   * model sorts them; a key given twice must be refused with `RangeError`, the ingestion going on), then
   * `finish()`, which flushes the memtables and makes every entry visible at one new seqno G (reads at
   * `S <= G` see none of them). `between`: inserts (a seqno each, through the tree) made halfway through
   * the entries, before `finish()`. With `abort`, `abort()` instead of `finish()`: nothing is ingested,
   * and a `finish()` afterwards must reject. In GC watermark configurations a weak tombstone is
   * ingested only on a key that `removeWeak` could delete, and not on a `between` key.
   */
  | {
      readonly op: "ingest";
      readonly entries: readonly IngestEntry[];
      readonly between?: ReadonlyArray<{ readonly key: string; readonly value: string; readonly pad?: number }>;
      readonly abort?: boolean;
    }
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
  /** Close and open again: `clean` closes normally (the memtables are flushed), else with `discard` (they are lost). */
  | { readonly op: "reopen"; readonly clean?: true }
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

/** One operation of a `batch`; `pad` as for `insert`. */
export type BatchOp =
  | { readonly op: "insert"; readonly key: string; readonly value: string; readonly pad?: number }
  | { readonly op: "merge"; readonly key: string; readonly value: string; readonly pad?: number }
  | { readonly op: "remove"; readonly key: string }
  | { readonly op: "removeWeak"; readonly key: string }
  | { readonly op: "removeRange"; readonly start: string; readonly end: string };

/** One entry of an `ingest`; values (and `pad`) as for `insert`. */
export type IngestEntry =
  | { readonly op: "insert"; readonly key: string; readonly value: string; readonly pad?: number }
  | { readonly op: "remove"; readonly key: string }
  | { readonly op: "removeWeak"; readonly key: string };

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
  {
    // Under a custom (reverse) comparator, a flush that wrote several tables lost a range tombstone lying
    // beyond the first table: after the flush b122..b120 were back (range({gte:"b122",lt:"b119"}): tree
    // [b122, b121, b120], oracle []); a table cut kept a view of the stream's key as its tombstones' clip
    // point (fixed in ce38b25). Shrunk from tiny-reverse seed 1 and watermark-reverse-lz4 seed 1.
    name: "tiny-reverse: a range tombstone beyond a flush's first table",
    config: "tiny-reverse",
    ops: [
      { op: "fill", from: 100, count: 40, stride: 1, value: "f", pad: 150 },
      { op: "removeRange", start: "b122", end: "b119" },
      { op: "flush" },
    ],
  },
  {
    // Under the reverse comparator [b141, b140) is a real range (b141 sorts first). Flushed into the second
    // of two tables it was written as an empty fragment and the reopen failed: "LsmError: corrupt file
    // /db/tables/1: range tombstone block at offset 93: fragment 0 is empty (end <= start)"; the same clip
    // point as above (fixed in ce38b25). Shrunk from tiny-reverse seed 100.
    name: "tiny-reverse seed 100: a range tombstone flushed into a second table",
    config: "tiny-reverse",
    ops: [
      { op: "removeRange", start: "b141", end: "b140" },
      { op: "insert", key: "b062", value: "f212.0" },
      { op: "insert", key: "b184", value: "f222.4" },
      { op: "insert", key: "b185", value: "f222.5", pad: 133 },
      { op: "insert", key: "b186", value: "f222.6", pad: 133 },
      { op: "insert", key: "b187", value: "f222.7", pad: 133 },
      { op: "insert", key: "b188", value: "f222.8", pad: 133 },
      { op: "insert", key: "b189", value: "f222.9", pad: 133 },
      { op: "insert", key: "b190", value: "f222.10", pad: 133 },
      { op: "insert", key: "b191", value: "f222.11", pad: 133 },
      { op: "insert", key: "b192", value: "f222.12", pad: 133 },
      { op: "insert", key: "b193", value: "f222.13", pad: 133 },
      { op: "insert", key: "b194", value: "f222.14", pad: 133 },
      { op: "flush" },
      { op: "reopen" },
    ],
  },
  {
    // Two merge operands for one key in one batch share key and seqno; when a data block ended between
    // them the flush failed: "LsmError: corrupt file /db/tables/0: index block at offset 128: entry 1 is
    // not after entry 0" (fixed in ce38b25). Shrunk from watermark-tiny seed 1 and tiny-memfs seed 2.
    name: "watermark-tiny: two merges of one key in a batch",
    config: "raw-merge-watermark-tiny",
    ops: [
      { op: "insert", key: "k03", value: "v6" },
      { op: "insert", key: "k02", value: "v7" },
      { op: "batch", ops: [{ op: "merge", key: "k14", value: "" }, { op: "merge", key: "k14", value: "x0.8", pad: 27 }] },
      { op: "flush" },
    ],
  },
  {
    // The same with counters: two merges of a counter key in one batch, split by a block boundary
    // among large values, collapsed by a flush at a watermark.
    name: "watermark-tiny: two merges of a counter in a batch, collapsed",
    config: "watermark-tiny",
    ops: [
      { op: "insert", key: "c0", value: "5" },
      { op: "insert", key: "b000", value: "v6", pad: 40 },
      { op: "batch", ops: [{ op: "merge", key: "c1", value: "+2" }, { op: "merge", key: "c1", value: "-7" }, { op: "merge", key: "c0", value: "+1" }] },
      { op: "insert", key: "c2", value: "v7" },
      { op: "merge", key: "c1", value: "+3" },
      { op: "watermark", back: 1 },
      { op: "flush" },
      { op: "merge", key: "c0", value: "+4" },
      { op: "major" },
      { op: "reopen" },
    ],
  },
  {
    // Counters on every kind of base: a value, a tombstone, a weak tombstone, a range tombstone in the
    // middle of the operands and above them, across flushes, compactions at a rising watermark and a
    // reopen. Hand-written for the merge operator.
    name: "counters across flushes, compactions and range tombstones",
    config: "watermark-tiny",
    ops: [
      { op: "insert", key: "c0", value: "100" },
      { op: "merge", key: "c0", value: "+1" },
      { op: "merge", key: "c1", value: "+1" },
      { op: "insert", key: "c2", value: "50" },
      { op: "flush" },
      { op: "leveled" },
      { op: "merge", key: "c0", value: "+2" },
      { op: "remove", key: "c1" },
      { op: "removeWeak", key: "c2" },
      { op: "merge", key: "c1", value: "+5" },
      { op: "merge", key: "c2", value: "+6" },
      { op: "rotate" },
      { op: "removeRange", start: "c0", end: "c1" },
      { op: "merge", key: "c0", value: "+10" },
      { op: "flush" },
      { op: "watermark", back: 3 },
      { op: "merge", key: "c", value: "-4" },
      { op: "merge", key: "k05c", value: "+1" },
      { op: "removePrefix", prefix: "k05" },
      { op: "merge", key: "k05c", value: "+2" },
      { op: "flush" },
      { op: "sizeTiered" },
      { op: "watermark", back: 0 },
      { op: "major" },
      { op: "merge", key: "c", value: "+4" },
      { op: "merge", key: "ab+", value: "+9" },
      { op: "reopen" },
      { op: "merge", key: "c0", value: "+1" },
      { op: "flush" },
      { op: "major" },
    ],
  },
  {
    // Ingestions over every kind of version (a value, a counter with operands, a range tombstone, the
    // memtables, writes made while the ingestion is open), a repeated key, a bulk run over several
    // tables, then flushes, compactions, reopens; in reverse key order. Hand-written for ingestion.
    name: "ingestions over memtables, tables, counters and range tombstones",
    config: "tiny-reverse",
    ops: [
      { op: "insert", key: "k01", value: "old" },
      { op: "merge", key: "c0", value: "+5" },
      { op: "fill", from: 0, count: 10, stride: 1, value: "f", pad: 60 },
      { op: "flush" },
      { op: "removeRange", start: "k05", end: "k01" },
      { op: "insert", key: "k03", value: "memtable" },
      { op: "rotate" },
      { op: "insert", key: "k04", value: "active" },
      {
        op: "ingest",
        entries: [
          { op: "insert", key: "k01", value: "i1" },
          { op: "insert", key: "k03", value: "i3" },
          { op: "remove", key: "b003" },
          { op: "insert", key: "c0", value: "100" },
          { op: "removeWeak", key: "k04" },
          { op: "insert", key: "k01", value: "refused" },
          { op: "insert", key: "k02", value: "i2", pad: 90 },
        ],
        between: [{ key: "k02", value: "between" }, { key: "c1", value: "7" }],
      },
      { op: "merge", key: "c0", value: "+1" },
      { op: "removeRange", start: "k03", end: "k00" },
      { op: "hold", take: 2 },
      {
        op: "ingest",
        entries: Array.from({ length: 30 }, (_, i) => ({ op: "insert" as const, key: `b${String(i * 3).padStart(3, "0")}`, value: `bulk${i}`, pad: 120 })),
      },
      { op: "leveled" },
      { op: "drain" },
      { op: "ingest", entries: [{ op: "insert", key: "k09", value: "aborted" }], abort: true },
      { op: "sizeTiered" },
      { op: "reopen" },
      { op: "major" },
      { op: "ingest", entries: [{ op: "remove", key: "k01" }, { op: "insert", key: "k03", value: "again" }] },
      { op: "ingest", entries: [] },
      { op: "reopen" },
      { op: "major" },
    ],
  },
  {
    // Every verdict of the model's filter: destroy (an older value shows again), remove, removeWeak,
    // replace, a replace into a remove (two compactions), last-level only; on raw operands; on ingested
    // and unflushed values; an iterator held across the compactions; a reopen. Hand-written.
    name: "compaction filter verdicts across compactions and a reopen",
    config: "filter-tiny",
    ops: [
      { op: "insert", key: "k00", value: "base" },
      { op: "insert", key: "k00", value: "Xdnewer" },
      { op: "insert", key: "k01", value: "Xrgone" },
      { op: "insert", key: "k02", value: "Xwweak" },
      { op: "insert", key: "k03", value: "Xpswap", pad: 30 },
      { op: "insert", key: "k04", value: "Xqchain" },
      { op: "merge", key: "k05", value: "first" },
      { op: "merge", key: "k05", value: "Xdop" },
      { op: "merge", key: "k06", value: "Xpop" },
      { op: "insert", key: "k07", value: "Xllast" },
      { op: "hold", take: 1 },
      { op: "flush" },
      { op: "insert", key: "k01", value: "Xrsecond" },
      { op: "flush" },
      { op: "leveled" },
      { op: "ingest", entries: [{ op: "insert", key: "k08", value: "Xringested" }, { op: "insert", key: "k09", value: "Xqingested" }] },
      { op: "sizeTiered" },
      { op: "major" },
      { op: "drain" },
      { op: "insert", key: "k10", value: "Xrunflushed" },
      { op: "major" },
      { op: "reopen" },
      { op: "flush" },
      { op: "major" },
    ],
  },
  {
    // The filter's remove and replace verdicts under a rising GC watermark: shadowed versions collected
    // before and after, a replacement filtered again, a reopen. Hand-written.
    name: "compaction filter under a GC watermark",
    config: "filter-watermark-reverse-stdfs",
    ops: [
      { op: "insert", key: "k00", value: "v1" },
      { op: "insert", key: "k00", value: "Xrv2" },
      { op: "insert", key: "k01", value: "Xpa" },
      { op: "insert", key: "k02", value: "Xqb" },
      { op: "insert", key: "k03", value: "Xlc" },
      { op: "flush" },
      { op: "watermark", back: 2 },
      { op: "major" },
      { op: "insert", key: "k01", value: "Xrnewer" },
      { op: "insert", key: "k00", value: "v3" },
      { op: "watermark", back: 0 },
      { op: "flush" },
      { op: "leveled" },
      { op: "major" },
      { op: "reopen" },
      { op: "major" },
    ],
  },
];
