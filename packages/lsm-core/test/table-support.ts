// Shared tools of the table tests: a sorted-array model of a table's entries, writers and openers, and
// file surgery (flip a bit, truncate) in the spirit of leveldb's log_test helpers.
import type { Fs } from "@talus/fs";
import type { Random } from "@talus/testkit";
import { BlockCache, FileDescriptorCache } from "../src/cache/index.ts";
import { LsmError } from "../src/errors.ts";
import type { Comparator } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { Table, TableWriter, type TableMeta, type TableOpenOptions, type TableWriterOptions } from "../src/table/index.ts";
export { readFileBytes as readFile, writeFileBytes as writeFile } from "@talus/fs";

export interface ModelEntry {
  readonly key: Uint8Array;
  readonly seqno: number;
  readonly kind: ValueKind;
  readonly value: Uint8Array;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export const REVERSE: Comparator = { name: "reverse-bytewise", compare: (a, b) => Buffer.compare(b, a) };

export function compareInternal(cmp: Comparator, a: ModelEntry, b: ModelEntry): number {
  const c = cmp.compare(a.key, b.key);
  return c !== 0 ? c : b.seqno - a.seqno;
}

/** Random entries in internal-key order: keys over a small alphabet (so prefixes are shared), several versions each. */
export function randomEntries(rng: Random, cmp: Comparator, count: number, opts: { maxVersions?: number; maxValue?: number } = {}): ModelEntry[] {
  const seen = new Set<string>();
  const out: ModelEntry[] = [];
  while (out.length < count) {
    const key = randomKey(rng);
    const versions = 1 + rng.int(opts.maxVersions ?? 3);
    for (let v = 0; v < versions && out.length < count; v++) {
      const seqno = rng.chance(0.05) ? rng.int(2 ** 53) : rng.int(1000);
      const id = `${Buffer.from(key).toString("hex")}#${seqno}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const kind = rng.pick([ValueKind.Value, ValueKind.Value, ValueKind.Value, ValueKind.Tombstone, ValueKind.WeakTombstone, ValueKind.MergeOperand, ValueKind.Indirection]);
      const value = kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone ? new Uint8Array(0) : randomValue(rng, opts.maxValue ?? 40);
      out.push({ key, seqno, kind, value });
    }
  }
  return out.sort((a, b) => compareInternal(cmp, a, b));
}

/** Empty one time in ten; otherwise random bytes or (half the time) a repeated pattern that compresses. */
export function randomValue(rng: Random, max: number): Uint8Array {
  if (rng.chance(0.1)) return new Uint8Array(0);
  const length = rng.int(max + 1);
  if (rng.chance(0.5)) return rng.bytes(length);
  const pattern = rng.bytes(1 + rng.int(4));
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length] as number;
  return out;
}

export function randomKey(rng: Random): Uint8Array {
  const length = 1 + rng.int(12);
  const key = new Uint8Array(length);
  for (let i = 0; i < length; i++) key[i] = 0x61 + rng.int(i < 3 ? 3 : 26);
  return key;
}

export function writeTable(fs: Fs, path: string, entries: readonly ModelEntry[], options: Partial<TableWriterOptions> = {}): TableMeta {
  const writer = new TableWriter(fs, path, { tableId: 1, createdAtMs: 1_700_000_000_000, ...options });
  for (const e of entries) writer.add(e.key, e.seqno, e.kind, e.value);
  return writer.finish();
}

export interface Caches {
  readonly blockCache: BlockCache;
  readonly fileCache: FileDescriptorCache;
}

export function caches(blockBytes = 1 << 20, files = 16): Caches {
  return { blockCache: new BlockCache(blockBytes), fileCache: new FileDescriptorCache(files) };
}

export function openTable(fs: Fs, path: string, options: Partial<TableOpenOptions> = {}): Table {
  return Table.open(fs, path, { tableId: 1, ...caches(), ...options });
}

/** The model's answer to `get(key, readSeqno)`: newest version with seqno < readSeqno. */
export function modelGet(cmp: Comparator, entries: readonly ModelEntry[], key: Uint8Array, readSeqno: number): ModelEntry | undefined {
  for (let i = lowerBound(cmp, entries, key, Number.MAX_SAFE_INTEGER); i < entries.length; i++) {
    const e = entries[i] as ModelEntry;
    if (cmp.compare(e.key, key) !== 0) return undefined;
    if (e.seqno < readSeqno) return e;
  }
  return undefined;
}

/** Index of the first entry at or after (key, seqno). */
export function lowerBound(cmp: Comparator, entries: readonly ModelEntry[], key: Uint8Array, seqno: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid] as ModelEntry;
    const c = cmp.compare(e.key, key);
    if (c < 0 || (c === 0 && e.seqno > seqno)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last entry whose user key is <= key, or -1. */
export function lastAtOrBefore(cmp: Comparator, entries: readonly ModelEntry[], key: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp.compare((entries[mid] as ModelEntry).key, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}



export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3] = (copy[bit >>> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

/** Runs `fn`; returns the LsmError it threw, or undefined if it returned. Any other error fails the test. */
export function lsmErrorOf(fn: () => unknown): LsmError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof LsmError) return error;
    throw error;
  }
}

/** Every entry of a table, forward. */
export function scanAll(table: Table): ModelEntry[] {
  const out: ModelEntry[] = [];
  const c = table.cursor();
  for (c.seekToFirst(); c.valid(); c.next()) out.push({ key: c.key().slice(), seqno: c.seqno(), kind: c.kind(), value: c.value().slice() });
  c.close();
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** A printable digest of entries, for toEqual diffs that stay readable. */
export function show(entries: readonly ModelEntry[]): string[] {
  return entries.map((e) => `${hex(e.key)}#${e.seqno}:${e.kind}=${hex(e.value)}`);
}
