/**
 * prefixscan's Talus prefix extractor and its **blocks read per scan** probe.
 *
 * The extractor names prefixscan's 2-byte prefix (`talus:prefix` opens the tree with it). Talus' `prefix`
 * prefill is written with it on every Talus store, so each table's filter holds the prefixes of its keys;
 * `talus` opens the very same files without an extractor, and a tree without one never asks a table's
 * prefix filter: the two rows differ in the extractor alone. The prefill is flushed every
 * 1/{@link PREFIX_PREFILL_TABLES} of the data set (or every `--memtable-mb`, whichever comes first), so the
 * tree has many tables, and it writes the keys prefix by prefix in a shuffled prefix order (see
 * `prefixFillKeyStream`), so each table holds a few prefixes scattered over the key space: its key range
 * overlaps most prefixes it does not hold, which only a filter can rule out.
 *
 * The probe, untimed, after the timed scans: the child reopens the tree with the block cache off and the
 * counting Fs, scans every prefix once (opening every table), then counts the positional reads of
 * {@link PROBE_SCANS} scans of the workload's own prefix stream. Index and filter blocks are pinned in
 * memory at table open, and with no cache there is no read-ahead, so each positional read is one data block.
 *
 * @module
 */
import { pick, prefixEnd, prefixOf, PREFIX_BYTES, PREFIX_COUNT } from "../data.ts";
import { newTally, type BenchDb, type PrefixStream } from "../engines/types.ts";
import type { PrefixBlocksResult } from "../results.ts";
import { LatencyRecorder } from "../stats.ts";

/** The scans the probe counts (at most `--reads`). */
export const PROBE_SCANS = 2000;
/** Entries a prefix scan reads at most. */
export const PREFIX_SCAN_LIMIT = 10;
/** The prefix prefill of a Talus store is flushed at least this often: a tree of many tables. */
export const PREFIX_PREFILL_TABLES = 32;

/** prefixscan's prefixes: the leading {@link PREFIX_BYTES} bytes of a key. */
export const PREFIX_EXTRACTOR = {
  name: "talus-bench-2-byte-prefix",
  extract: (key: Uint8Array): Uint8Array | undefined => (key.length >= PREFIX_BYTES ? key.subarray(0, PREFIX_BYTES) : undefined),
};

/** The prefixes prefixscan scans: op `i` picks one of the {@link PREFIX_COUNT} uniformly. */
export function prefixScanStream(seed: number): PrefixStream {
  const prefixes = Array.from({ length: PREFIX_COUNT }, (_, p) => prefixOf(p));
  const ends = prefixes.map((p) => prefixEnd(p));
  const s = seed + 303;
  return {
    prefix: (i) => prefixes[pick(s, i, PREFIX_COUNT)] as Uint8Array,
    end: (i) => ends[pick(s, i, PREFIX_COUNT)],
  };
}

/** Bytes at which the prefix prefill of a Talus store flushes: `--memtable-mb`, or less for many tables. */
export function prefixPrefillMemtableBytes(s: { readonly num: number; readonly keySize: number; readonly valueSize: number; readonly memtableMb: number }): number {
  const configured = Math.round(s.memtableMb * 1024 * 1024);
  return Math.max(1, Math.min(configured, Math.ceil((s.num * (s.keySize + s.valueSize)) / PREFIX_PREFILL_TABLES)));
}

/**
 * Counts the positional reads of `scans` prefix scans on `db` (opened with the counting Fs and no block
 * cache), after one uncounted scan of every prefix.
 */
export async function probeBlockReads(db: BenchDb, seed: number, scans: number): Promise<PrefixBlocksResult> {
  const reads = (): number => {
    const n = db.stats()["fsReads"];
    if (typeof n !== "number") throw new Error("prefixscan block probe: the engine has no counting Fs");
    return n;
  };
  const all: PrefixStream = { prefix: (p) => prefixOf(p), end: (p) => prefixEnd(prefixOf(p)) };
  const warm = db.prefix(all, 0, PREFIX_COUNT, PREFIX_SCAN_LIMIT, new LatencyRecorder(), newTally());
  if (warm !== undefined) await warm;
  const stream = prefixScanStream(seed);
  const tally = newTally();
  const reads0 = reads();
  const bytes0 = db.stats()["fsBytesRead"] as number;
  const pending = db.prefix(stream, 0, scans, PREFIX_SCAN_LIMIT, new LatencyRecorder(), tally);
  if (pending !== undefined) await pending;
  const blocks = reads() - reads0;
  const bytes = (db.stats()["fsBytesRead"] as number) - bytes0;
  const tables = db.stats()["tables"];
  return {
    scans,
    blocks,
    blocksPerScan: blocks / scans,
    bytesPerScan: bytes / scans,
    entriesPerScan: tally.items / scans,
    tables: typeof tables === "number" ? tables : Number.NaN,
  };
}
