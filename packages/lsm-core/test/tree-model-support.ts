// Configurations, keys, values and queries of the tree model test (tree-model.test.ts, driven by
// tree-model-driver.ts): what a run is made of and how its answers are compared, apart from the model
// itself.
import { Random, type MvccOracle, type OracleRange } from "@talus/testkit";
import type { Comparator, RangeOptions, Tree, TreeOptions } from "../src/index.ts";
import type { LeveledOptions, SizeTieredOptions } from "../src/compaction/strategies/index.ts";
import type { ModelOp } from "./model-regressions.ts";
import type { ModelTarget } from "./tree-model-driver.ts";

// ---- configurations -------------------------------------------------------------------------------

export type TreeSettings = Omit<TreeOptions, "path" | "fs" | "seqno" | "visibleSeqno">;

export interface ModelConfig {
  readonly name: string;
  /** The filesystem: MemFs, StdFs or IoUringFs (the last two in a fresh temp directory per run). */
  readonly fs: "mem" | "std" | "iouring";
  readonly tree: TreeSettings;
  readonly leveled: LeveledOptions;
  readonly sizeTiered: SizeTieredOptions;
  readonly majorTarget: number;
  /** Largest filler added to a value. */
  readonly maxPad: number;
  /** Flush and compact with a rising GC watermark W, and check reads at S >= W only. */
  readonly watermark: boolean;
  /** Default seeds and steps (scaled by the environment). */
  readonly seeds: number;
  readonly steps: number;
  /**
   * The tree merges with counterMerge: merges go to COUNTER_KEYS only, as le64 increments, and every
   * value written to a counter key is 8 bytes. Without, merge operands are raw bytes on any key.
   */
  readonly counters: boolean;
  /**
   * The tree runs with the model's compaction filter (tree-model-filter.ts), with every verdict ("all",
   * GC watermark 0 only) or with those garbage collection cannot make inexact ("gc": remove and replace).
   * Compactions then run in the foreground with no background job in flight, so that the model knows
   * the seqno each installs at. Undefined: no filter.
   */
  readonly filter?: "all" | "gc";
  /**
   * Large values: with this chance a generated value gets `minPad..maxPad` filler bytes, otherwise the
   * usual sizes (mostly short). For blob trees, to separate a known share of the values. Undefined: none.
   */
  readonly largeValues?: { readonly chance: number; readonly minPad: number };
  /** Generator weights of operations other than the defaults (tree-model-driver.ts `generator`), e.g. more major compactions. */
  readonly weights?: Partial<Record<ModelOp["op"], number>>;
  /** How the tree is opened and what more is checked (tree-model-driver.ts); undefined: a plain Tree. */
  readonly target?: ModelTarget;
}

export const REVERSE: Comparator = { name: "reverse", compare: (a, b) => Buffer.compare(b, a) };
export const TINY_LEVELED: LeveledOptions = { tableTargetSize: 2048, l0Threshold: 2, levelRatio: [2] };
export const TINY_TIERED: SizeTieredOptions = { tableTargetSize: 2048, minMergeWidth: 2, sizeRatio: 1 };
/** TINY_LEVELED and TINY_TIERED at 1 KiB tables. */
export const TINY_LEVELED_1K: LeveledOptions = { tableTargetSize: 1024, l0Threshold: 2, levelRatio: [2] };
export const TINY_TIERED_1K: SizeTieredOptions = { tableTargetSize: 1024, minMergeWidth: 2, sizeRatio: 1 };
/** The on-disk configurations' 3000-byte tables, with the default level ratio. */
export const SMALL_LEVELED: LeveledOptions = { tableTargetSize: 3000, l0Threshold: 2 };
export const SMALL_TIERED: SizeTieredOptions = { tableTargetSize: 3000, minMergeWidth: 2, sizeRatio: 2 };

export const CONFIGS: readonly ModelConfig[] = [
  {
    name: "tiny-memfs",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 1, flushTableSize: 1024 },
    leveled: TINY_LEVELED_1K,
    sizeTiered: TINY_TIERED_1K,
    majorTarget: 1024,
    maxPad: 200,
    watermark: false,
    seeds: 3,
    steps: 400,
    counters: true,
  },
  {
    // A journal: a reopen that discards the memtables loses nothing (the journal replays it), across
    // flushes, compactions, clears, drops and ingestions.
    name: "tiny-journal",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 2, flushTableSize: 1024, journal: true },
    leveled: TINY_LEVELED_1K,
    sizeTiered: TINY_TIERED_1K,
    majorTarget: 1024,
    maxPad: 200,
    watermark: false,
    seeds: 3,
    steps: 400,
    counters: true,
    weights: { reopen: 4 },
  },
  {
    name: "journal-watermark-stdfs",
    fs: "std",
    tree: { blockSize: [64, 128], restartInterval: 2, flushTableSize: 2048, workers: 2, journal: { sync: "none" } },
    leveled: SMALL_LEVELED,
    sizeTiered: SMALL_TIERED,
    majorTarget: 3000,
    maxPad: 200,
    watermark: true,
    seeds: 2,
    steps: 300,
    counters: true,
    weights: { reopen: 4 },
  },
  {
    name: "tiny-stdfs",
    fs: "std",
    // Flushes and merges on worker threads (counterMerge is loadable there); the MemFs configurations run them inline.
    tree: { blockSize: [64, 128], restartInterval: 2, flushTableSize: 2048, workers: 2 },
    leveled: SMALL_LEVELED,
    sizeTiered: SMALL_TIERED,
    majorTarget: 3000,
    maxPad: 200,
    watermark: false,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    // tiny-stdfs through IoUringFs: workers make their own rings (threadShare), and without memory maps
    // every block read goes through the ring (multiGet's batches as one readMany).
    name: "tiny-iouring",
    fs: "iouring",
    tree: { blockSize: [64, 128], restartInterval: 2, flushTableSize: 2048, workers: 2, mapTables: false, cacheBytes: 2048 },
    leveled: SMALL_LEVELED,
    sizeTiered: SMALL_TIERED,
    majorTarget: 3000,
    maxPad: 200,
    watermark: false,
    seeds: 2,
    steps: 300,
    counters: true,
  },
  {
    name: "tiny-reverse",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 2, flushTableSize: 2048, comparator: REVERSE },
    leveled: TINY_LEVELED,
    sizeTiered: TINY_TIERED,
    majorTarget: 2048,
    maxPad: 200,
    watermark: false,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    name: "tiny-lz4-nofilter",
    fs: "mem",
    tree: { blockSize: 96, restartInterval: [1, 2, 3], flushTableSize: 2048, compression: "lz4", filterBitsPerKey: 0 },
    leveled: TINY_LEVELED,
    sizeTiered: TINY_TIERED,
    majorTarget: 4096,
    maxPad: 300,
    watermark: false,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    name: "default-sizes",
    fs: "mem",
    tree: {},
    leveled: { l0Threshold: 2 },
    sizeTiered: { minMergeWidth: 2 },
    majorTarget: 64 * 1024 * 1024,
    maxPad: 3000,
    watermark: false,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    name: "watermark-tiny",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 1, flushTableSize: 2048 },
    leveled: TINY_LEVELED,
    sizeTiered: TINY_TIERED,
    majorTarget: 2048,
    maxPad: 200,
    watermark: true,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    name: "watermark-reverse-lz4",
    fs: "mem",
    tree: { blockSize: 80, restartInterval: 2, flushTableSize: 2048, comparator: REVERSE, compression: "lz4", filterBitsPerKey: 0 },
    leveled: { tableTargetSize: 2048, l0Threshold: 2 },
    sizeTiered: TINY_TIERED,
    majorTarget: 2048,
    maxPad: 200,
    watermark: true,
    seeds: 3,
    steps: 300,
    counters: true,
  },
  {
    // No merge operator: merges of raw bytes on any key, read as the newest operand, never collapsed.
    name: "raw-merge-watermark-tiny",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 1, flushTableSize: 2048 },
    leveled: TINY_LEVELED,
    sizeTiered: TINY_TIERED,
    majorTarget: 2048,
    maxPad: 200,
    watermark: true,
    seeds: 1,
    steps: 300,
    counters: false,
  },
  {
    // The model's compaction filter with every verdict, raw merge operands included (no operator).
    name: "filter-tiny",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 1, flushTableSize: 1024 },
    leveled: TINY_LEVELED_1K,
    sizeTiered: TINY_TIERED_1K,
    majorTarget: 1024,
    maxPad: 200,
    watermark: false,
    seeds: 2,
    steps: 300,
    counters: false,
    filter: "all",
  },
  {
    // The filter's remove and replace verdicts under a rising GC watermark, on disk, in reverse order.
    name: "filter-watermark-reverse-stdfs",
    fs: "std",
    tree: { blockSize: [64, 128], restartInterval: 2, flushTableSize: 2048, comparator: REVERSE },
    leveled: TINY_LEVELED,
    sizeTiered: TINY_TIERED,
    majorTarget: 2048,
    maxPad: 200,
    watermark: true,
    seeds: 2,
    steps: 300,
    counters: true,
    filter: "gc",
  },
];

export const CONFIG_BY_NAME = new Map(CONFIGS.map((c) => [c.name, c]));

// ---- keys and values ------------------------------------------------------------------------------

/** Keys the generator writes: a hot set first, then prefixes of each other, extreme bytes and long keys. */
export const KEYS: readonly string[] = [
  ...Array.from({ length: 24 }, (_, i) => `k${String(i).padStart(2, "0")}`),
  "k1",
  "k",
  "a",
  "ab",
  "abc",
  "\u0000",
  "\u0000\u0001",
  "\u00ff",
  "\u00ff\u00ff\u00ff",
  "k05\u0000",
  "m".repeat(40),
  "L".repeat(300),
];
export const HOT_KEYS = 8;
/**
 * Keys merges go to in counter configurations (they take part in everything else too), between and
 * under other keys and prefixes. Their values are always 8 bytes there ({@link counterBytes}).
 */
export const COUNTER_KEYS: readonly string[] = ["c0", "c1", "c2", "c3", "c", "k05c", "ab+"];
export const COUNTER_SET: ReadonlySet<string> = new Set(COUNTER_KEYS);
/** Keys `fill` writes in bulk. */
export const BULK_KEY_COUNT = 200;
export const bulkKey = (n: number): string => `b${String(n % BULK_KEY_COUNT).padStart(3, "0")}`;
export const BULK_KEYS: readonly string[] = Array.from({ length: BULK_KEY_COUNT }, (_, i) => bulkKey(i));
/** Keys never written: probes for absent keys and range bounds between written ones. */
export const ABSENT: readonly string[] = ["j", "k0", "k235", "zz", "\u0000\u0000", "k05\u0001", "l", "\u00fe", "ab\u0000", "m".repeat(41), "b", "b0505", "b199\u0000"];
/** Every key a sweep reads. */
export const ALL_KEYS: readonly string[] = [...KEYS, ...COUNTER_KEYS, ...BULK_KEYS, ...ABSENT];
export const PREFIXES: readonly string[] = ["k0", "k1", "k", "a", "ab", "\u0000", "\u00ff", "z", "k05", "m", "b1", "b05", "b"];
/** Prefixes `removePrefix` deletes: narrow ones mostly, a few wide ones, and 0xff-only ones (unbounded). */
export const REMOVE_PREFIXES: readonly string[] = [
  "k0",
  "k1",
  "k05",
  "k2",
  "ab",
  "abc",
  "a",
  "\u0000",
  "\u0000\u0001",
  "\u00ff",
  "\u00ff\u00ff",
  "\u00ff\u00ff\u00ff",
  "\u00ff\u00ff\u00ff\u00ff",
  "m",
  "L",
  "z",
  "b0",
  "b05",
  "b1",
  "b19",
  "b123",
  "k",
  "b",
  "c",
  "c1",
];
/** How often prefix queries pass a Buffer rather than a plain Uint8Array (see "prefix() with a Buffer prefix"). */
export const BUFFER_PREFIX_CHANCE = 0.5;

export const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

export const padCache = new Map<string, Uint8Array>();
/** `value` followed by `pad` filler bytes: half a repeated byte (compressible), half seeded noise. */
export function valueBytes(value: string, pad: number | undefined): Uint8Array {
  if (pad === undefined || pad === 0) return bytes(value);
  const cacheKey = `${value}/${pad}`;
  const cached = padCache.get(cacheKey);
  if (cached !== undefined) return cached;
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
  const half = pad >> 1;
  const noise = new Random(hash ^ pad).bytes(pad - half);
  const out = Buffer.concat([bytes(value), Buffer.alloc(half, 0x2e), noise]);
  padCache.set(cacheKey, out);
  return out;
}

/**
 * The 8 bytes a counter key holds for a written `value` (its `pad` is ignored): a decimal integer as
 * itself (merge increments: "+3", "-1"), anything else hashed to a 64-bit value, so that sums wrap.
 */
export function counterBytes(value: string): Uint8Array {
  let n: bigint;
  if (/^[+-]?\d+$/.test(value)) {
    n = BigInt(value);
  } else {
    let h = 0x811c9dc5;
    for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    n = BigInt.asIntN(64, BigInt(h >>> 0) * 0x9e3779b97f4a7c15n);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, n), true);
  return out;
}

/** A short, readable rendering of bytes for messages. */
export function show(b: Uint8Array | undefined): string {
  if (b === undefined) return "undefined";
  const s = JSON.stringify(latin1(b));
  return s.length <= 40 ? s : `${s.slice(0, 24)}…"(${b.length}B)`;
}

// ---- queries --------------------------------------------------------------------------------------

export interface Bounds {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export type Query =
  | { readonly type: "get"; readonly key: string }
  | { readonly type: "multiGet"; readonly keys: readonly string[] }
  | { readonly type: "range"; readonly bounds: Bounds }
  /** `asBuffer`: pass the prefix as a Buffer rather than a plain Uint8Array. */
  | { readonly type: "prefix"; readonly prefix: string; readonly reverse?: boolean; readonly limit?: number; readonly asBuffer?: boolean }
  | { readonly type: "len" }
  | { readonly type: "first" }
  | { readonly type: "last" }
  | { readonly type: "isEmpty" };

/**
 * A snapshot named so that it survives shrinking: the counter right after an operation ran, the seqno a
 * write operation took (`at`: a read there does not see it) or the one below (`before`), or fixed.
 */
export type Snap =
  | { readonly kind: "current" }
  | { readonly kind: "max" }
  | { readonly kind: "zero" }
  | { readonly kind: "after"; readonly op: ModelOp }
  | { readonly kind: "at"; readonly op: ModelOp }
  | { readonly kind: "before"; readonly op: ModelOp };

export function toRange(bounds: Bounds): RangeOptions & OracleRange {
  const out: { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array; reverse?: boolean; limit?: number } = {};
  if (bounds.gt !== undefined) out.gt = bytes(bounds.gt);
  if (bounds.gte !== undefined) out.gte = bytes(bounds.gte);
  if (bounds.lt !== undefined) out.lt = bytes(bounds.lt);
  if (bounds.lte !== undefined) out.lte = bytes(bounds.lte);
  if (bounds.reverse !== undefined) out.reverse = bounds.reverse;
  if (bounds.limit !== undefined) out.limit = bounds.limit;
  return out;
}

/** An answer: `exact` is compared, `text` is printed; lists also keep their items for a diff. */
export interface Answer {
  readonly exact: string;
  readonly text: string;
  readonly items?: readonly { readonly exact: string; readonly text: string }[];
}

export function answerOf(value: Uint8Array | undefined | boolean | number): Answer {
  if (value === undefined || typeof value === "boolean" || typeof value === "number") return { exact: String(value), text: String(value) };
  return { exact: `b:${latin1(value)}`, text: show(value) };
}

export function answerOfPairs(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Answer {
  const items = pairs.map(([k, v]) => ({ exact: `${latin1(k)}\u0001${latin1(v)}`, text: `${show(k)}=${show(v)}` }));
  return { exact: items.map((i) => i.exact).join("\u0002"), text: `[${items.map((i) => i.text).join(", ")}]`, items };
}

/** Both answers, short: whole when small, otherwise counts, the first difference and what each side lacks. */
export function describeMismatch(got: Answer, want: Answer): string {
  const a = got.items;
  const b = want.items;
  if (a === undefined || b === undefined || got.text.length + want.text.length < 600) return `  tree:   ${got.text}\n  oracle: ${want.text}`;
  let first = 0;
  while (first < a.length && first < b.length && a[first]?.exact === b[first]?.exact) first++;
  const inA = new Set(a.map((i) => i.exact));
  const inB = new Set(b.map((i) => i.exact));
  const list = (items: ReadonlyArray<{ readonly text: string }>): string =>
    items.length === 0 ? "none" : items.slice(0, 8).map((i) => i.text).join(", ") + (items.length > 8 ? `, … (${items.length})` : "");
  return [
    `  tree: ${a.length} entries, oracle: ${b.length}; first difference at #${first}: tree ${a[first]?.text ?? "(end)"}, oracle ${b[first]?.text ?? "(end)"}`,
    `  only in tree:   ${list(a.filter((i) => !inB.has(i.exact)))}`,
    `  only in oracle: ${list(b.filter((i) => !inA.has(i.exact)))}`,
  ].join("\n");
}

export function answerOfList(values: ReadonlyArray<Uint8Array | undefined>): Answer {
  const parts = values.map((v) => answerOf(v));
  return { exact: parts.map((p) => p.exact).join("\u0002"), text: `[${parts.map((p) => p.text).join(", ")}]` };
}

/**
 * Overwrites result bytes once the answer was taken from them (`scribbled` returns a copy to compare): a
 * tree that handed out views of its caches or memtables instead of copies shows up in later reads.
 */
export function scribbled<T extends Uint8Array | undefined | Array<[Uint8Array, Uint8Array]>>(result: T): T {
  if (result === undefined) return result;
  if (result instanceof Uint8Array) {
    const copy = new Uint8Array(result) as T;
    result.fill(0xee);
    return copy;
  }
  const pairs = result as Array<[Uint8Array, Uint8Array]>;
  const copies = pairs.map(([k, v]): [Uint8Array, Uint8Array] => [new Uint8Array(k), new Uint8Array(v)]);
  for (const [k, v] of pairs) {
    k.fill(0xee);
    v.fill(0xee);
  }
  return copies as T;
}

/**
 * Passes `bytes` to a tree call as a fresh Buffer and overwrites it afterwards, so that a tree that kept
 * the caller's memory instead of copying shows up in later reads.
 */
export function lend<T>(b: Uint8Array, use: (lent: Buffer) => T): T {
  const lent = Buffer.from(b);
  const result = use(lent);
  lent.fill(0xdd);
  return result;
}

export function treeAnswer(tree: Tree, q: Query, s: number): Answer {
  switch (q.type) {
    case "get":
      return answerOf(scribbled(tree.get(bytes(q.key), s)));
    case "multiGet":
      return answerOfList(tree.multiGet(q.keys.map(bytes), s).map(scribbled));
    case "range": {
      // The bounds are overwritten between creating the iterator and using it: the tree must have copied them.
      const bounds = toRange(q.bounds);
      const iterator = tree.range(bounds, s);
      for (const bound of [bounds.gt, bounds.gte, bounds.lt, bounds.lte]) if (bound instanceof Uint8Array) bound.fill(0xdd);
      return answerOfPairs(scribbled([...iterator]));
    }
    case "prefix": {
      const options: { reverse?: boolean; limit?: number } = {};
      if (q.reverse !== undefined) options.reverse = q.reverse;
      if (q.limit !== undefined) options.limit = q.limit;
      const prefix = q.asBuffer === true ? bytes(q.prefix) : new Uint8Array(bytes(q.prefix));
      return answerOfPairs(scribbled([...tree.prefix(prefix, s, options)]));
    }
    case "len":
      return answerOf(tree.len(s));
    case "first": {
      const kv = tree.firstKeyValue(s);
      return answerOfPairs(kv === undefined ? [] : [kv]);
    }
    case "last": {
      const kv = tree.lastKeyValue(s);
      return answerOfPairs(kv === undefined ? [] : [kv]);
    }
    case "isEmpty":
      return answerOf(tree.isEmpty(s));
  }
}

export function oracleAnswer(oracle: MvccOracle, q: Query, s: number): Answer {
  switch (q.type) {
    case "get":
      return answerOf(oracle.get(bytes(q.key), s));
    case "multiGet":
      return answerOfList(q.keys.map((k) => oracle.get(bytes(k), s)));
    case "range":
      return answerOfPairs(oracle.range(toRange(q.bounds), s));
    case "prefix": {
      const options: { reverse?: boolean; limit?: number } = {};
      if (q.reverse !== undefined) options.reverse = q.reverse;
      if (q.limit !== undefined) options.limit = q.limit;
      return answerOfPairs(oracle.prefix(bytes(q.prefix), s, options));
    }
    case "len":
      return answerOf(oracle.len(s));
    case "first":
      return answerOfPairs(oracle.range({ limit: 1 }, s));
    case "last":
      return answerOfPairs(oracle.range({ limit: 1, reverse: true }, s));
    case "isEmpty":
      return answerOf(oracle.len(s) === 0);
  }
}

export function describeQuery(q: Query): string {
  switch (q.type) {
    case "get":
      return `get(${JSON.stringify(q.key)})`;
    case "multiGet":
      return `multiGet(${JSON.stringify(q.keys)})`;
    case "range":
      return `range(${JSON.stringify(q.bounds)})`;
    case "prefix":
      return `prefix(${JSON.stringify(q.prefix)}, ${JSON.stringify({ reverse: q.reverse, limit: q.limit })})`;
    default:
      return `${q.type}()`;
  }
}
