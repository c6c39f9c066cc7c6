// The tree model test (DESIGN.md section 6): seeded random operation sequences applied to a Tree and to
// the testkit MVCC oracle, compared after every step at many snapshots, across configurations. A
// failing sequence is shrunk (operations dropped while it still fails) and printed in a replayable form
// for test/model-regressions.ts. Range tombstones (removeRange, removePrefix) and write batches are
// checked at the seqno just below, at and just above each one. Merge operands: every configuration but
// one runs with `mergeOperator: counterMerge`, merging small le64 increments into a set of counter keys
// (COUNTER_KEYS) that only ever hold 8-byte values; the oracle folds them the same way. The "raw-merge"
// configuration has no operator: operands read as their own bytes.
//
// Environment: TALUS_MODEL_SEEDS (seeds per configuration), TALUS_MODEL_STEPS (operations per seed),
// TALUS_MODEL_SEED (first seed; seeds are consecutive from it), TALUS_MODEL_CONFIG (only configurations
// whose name contains it).
import { afterEach, describe, expect, it } from "vitest";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { bytewiseSuccessor, MvccOracle, Random, useTempDirs, type OracleBatchOp, type OracleRange } from "@talus/testkit";
import {
  counterMerge,
  Leveled,
  LsmError,
  SEQNO_MAX,
  SequenceNumberCounter,
  SizeTiered,
  Tree,
  type Comparator,
  type EntryIterator,
  type RangeOptions,
  type TreeOptions,
  WriteBatch,
} from "../src/index.ts";
import type { LeveledOptions, SizeTieredOptions } from "../src/compaction/strategies/index.ts";
import { MODEL_REGRESSIONS, type BatchOp, type ModelOp, type ModelRegression } from "./model-regressions.ts";

const dirs = useTempDirs(afterEach);

// ---- configurations -------------------------------------------------------------------------------

type TreeSettings = Omit<TreeOptions, "path" | "fs" | "seqno" | "visibleSeqno">;

interface ModelConfig {
  readonly name: string;
  readonly fs: "mem" | "std";
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
}

const REVERSE: Comparator = { name: "reverse", compare: (a, b) => Buffer.compare(b, a) };
const TINY_LEVELED: LeveledOptions = { tableTargetSize: 2048, l0Threshold: 2, levelRatio: [2] };
const TINY_TIERED: SizeTieredOptions = { tableTargetSize: 2048, minMergeWidth: 2, sizeRatio: 1 };

const CONFIGS: readonly ModelConfig[] = [
  {
    name: "tiny-memfs",
    fs: "mem",
    tree: { blockSize: 64, restartInterval: 1, flushTableSize: 1024 },
    leveled: { tableTargetSize: 1024, l0Threshold: 2, levelRatio: [2] },
    sizeTiered: { tableTargetSize: 1024, minMergeWidth: 2, sizeRatio: 1 },
    majorTarget: 1024,
    maxPad: 200,
    watermark: false,
    seeds: 3,
    steps: 400,
    counters: true,
  },
  {
    name: "tiny-stdfs",
    fs: "std",
    tree: { blockSize: [64, 128], restartInterval: 2, flushTableSize: 2048 },
    leveled: { tableTargetSize: 3000, l0Threshold: 2 },
    sizeTiered: { tableTargetSize: 3000, minMergeWidth: 2, sizeRatio: 2 },
    majorTarget: 3000,
    maxPad: 200,
    watermark: false,
    seeds: 3,
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
];

const CONFIG_BY_NAME = new Map(CONFIGS.map((c) => [c.name, c]));

// ---- keys and values ------------------------------------------------------------------------------

/** Keys the generator writes: a hot set first, then prefixes of each other, extreme bytes and long keys. */
const KEYS: readonly string[] = [
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
const HOT_KEYS = 8;
/**
 * Keys merges go to in counter configurations (they take part in everything else too), between and
 * under other keys and prefixes. Their values are always 8 bytes there ({@link counterBytes}).
 */
const COUNTER_KEYS: readonly string[] = ["c0", "c1", "c2", "c3", "c", "k05c", "ab+"];
const COUNTER_SET: ReadonlySet<string> = new Set(COUNTER_KEYS);
/** Keys `fill` writes in bulk. */
const BULK_KEY_COUNT = 200;
const bulkKey = (n: number): string => `b${String(n % BULK_KEY_COUNT).padStart(3, "0")}`;
const BULK_KEYS: readonly string[] = Array.from({ length: BULK_KEY_COUNT }, (_, i) => bulkKey(i));
/** Keys never written: probes for absent keys and range bounds between written ones. */
const ABSENT: readonly string[] = ["j", "k0", "k235", "zz", "\u0000\u0000", "k05\u0001", "l", "\u00fe", "ab\u0000", "m".repeat(41), "b", "b0505", "b199\u0000"];
/** Every key a sweep reads. */
const ALL_KEYS: readonly string[] = [...KEYS, ...COUNTER_KEYS, ...BULK_KEYS, ...ABSENT];
const PREFIXES: readonly string[] = ["k0", "k1", "k", "a", "ab", "\u0000", "\u00ff", "z", "k05", "m", "b1", "b05", "b"];
/** Prefixes `removePrefix` deletes: narrow ones mostly, a few wide ones, and 0xff-only ones (unbounded). */
const REMOVE_PREFIXES: readonly string[] = [
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
const BUFFER_PREFIX_CHANCE = 0.5;

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

const padCache = new Map<string, Uint8Array>();
/** `value` followed by `pad` filler bytes: half a repeated byte (compressible), half seeded noise. */
function valueBytes(value: string, pad: number | undefined): Uint8Array {
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
function counterBytes(value: string): Uint8Array {
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
function show(b: Uint8Array | undefined): string {
  if (b === undefined) return "undefined";
  const s = JSON.stringify(latin1(b));
  return s.length <= 40 ? s : `${s.slice(0, 24)}…"(${b.length}B)`;
}

// ---- queries --------------------------------------------------------------------------------------

interface Bounds {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
  readonly limit?: number;
}

type Query =
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
type Snap =
  | { readonly kind: "current" }
  | { readonly kind: "max" }
  | { readonly kind: "zero" }
  | { readonly kind: "after"; readonly op: ModelOp }
  | { readonly kind: "at"; readonly op: ModelOp }
  | { readonly kind: "before"; readonly op: ModelOp };

function toRange(bounds: Bounds): RangeOptions & OracleRange {
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
interface Answer {
  readonly exact: string;
  readonly text: string;
  readonly items?: readonly { readonly exact: string; readonly text: string }[];
}

function answerOf(value: Uint8Array | undefined | boolean | number): Answer {
  if (value === undefined || typeof value === "boolean" || typeof value === "number") return { exact: String(value), text: String(value) };
  return { exact: `b:${latin1(value)}`, text: show(value) };
}

function answerOfPairs(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Answer {
  const items = pairs.map(([k, v]) => ({ exact: `${latin1(k)}\u0001${latin1(v)}`, text: `${show(k)}=${show(v)}` }));
  return { exact: items.map((i) => i.exact).join("\u0002"), text: `[${items.map((i) => i.text).join(", ")}]`, items };
}

/** Both answers, short: whole when small, otherwise counts, the first difference and what each side lacks. */
function describeMismatch(got: Answer, want: Answer): string {
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

function answerOfList(values: ReadonlyArray<Uint8Array | undefined>): Answer {
  const parts = values.map((v) => answerOf(v));
  return { exact: parts.map((p) => p.exact).join("\u0002"), text: `[${parts.map((p) => p.text).join(", ")}]` };
}

/**
 * Overwrites result bytes once the answer was taken from them (`scribbled` returns a copy to compare): a
 * tree that handed out views of its caches or memtables instead of copies shows up in later reads.
 */
function scribbled<T extends Uint8Array | undefined | Array<[Uint8Array, Uint8Array]>>(result: T): T {
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
function lend<T>(b: Uint8Array, use: (lent: Buffer) => T): T {
  const lent = Buffer.from(b);
  const result = use(lent);
  lent.fill(0xdd);
  return result;
}

function treeAnswer(tree: Tree, q: Query, s: number): Answer {
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

function oracleAnswer(oracle: MvccOracle, q: Query, s: number): Answer {
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

function describeQuery(q: Query): string {
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

// ---- running a sequence ---------------------------------------------------------------------------

type Failure =
  | { readonly kind: "query"; readonly query: Query; readonly snap: Snap; readonly step: number; readonly message: string }
  | { readonly kind: "iterator"; readonly hold: ModelOp; readonly step: number; readonly message: string }
  | { readonly kind: "error"; readonly signature: string; readonly step: number; readonly message: string };

interface Held {
  readonly op: ModelOp;
  readonly seqno: number;
  readonly iterator: EntryIterator;
  readonly expected: Answer;
  readonly got: Array<[Uint8Array, Uint8Array]>;
}

/** What a run exercised, printed with TALUS_MODEL_STATS=1 to tune the configurations. */
interface Stats {
  checks: number;
  maxTables: number;
  maxL0Runs: number;
  deepestLevel: number;
  levelsUsed: Set<number>;
  merged: number;
  moved: number;
  dropped: number;
  clears: number;
  reopens: number;
  maxVersions: number;
  /** Most versions the oracle held that the tree no longer stores (garbage-collected or evicted). */
  maxCollected: number;
  weakRemoves: number;
  /** Merge operands written (batches included). */
  merges: number;
  /** Range tombstones written (by removeRange, removePrefix or in a batch; empty ranges not counted). */
  rangeTombstones: number;
  batches: number;
  mixedBatches: number;
}

const newStats = (): Stats => ({
  checks: 0,
  maxTables: 0,
  maxL0Runs: 0,
  deepestLevel: 0,
  levelsUsed: new Set(),
  merged: 0,
  moved: 0,
  dropped: 0,
  clears: 0,
  reopens: 0,
  maxVersions: 0,
  maxCollected: 0,
  weakRemoves: 0,
  merges: 0,
  rangeTombstones: 0,
  batches: 0,
  mixedBatches: 0,
});

/** A tree, its oracle, and what the model needs to know about the run so far. */
class Model {
  readonly config: ModelConfig;
  readonly fs: Fs;
  readonly path: string;
  readonly seqno = new SequenceNumberCounter();
  readonly oracle: MvccOracle;
  /** Every version with a seqno below this was written before a flush: it survives a reopen. */
  flushedBelow = 0;
  /** The GC watermark flush and compaction run with; reads below it are not checked. */
  watermark = 0;
  /** The counter right after each operation ran, in order. */
  readonly snaps: Array<{ readonly op: ModelOp; readonly seqno: number }> = [];
  readonly snapOf = new Map<ModelOp, number>();
  /** The seqno each write operation took. */
  readonly writeSeqnoOf = new Map<ModelOp, number>();
  /** The applied operations that wrote range tombstones, with the bounds, in order. */
  readonly rangeOps: Array<{ readonly op: ModelOp; readonly start: string; readonly end: string | undefined }> = [];
  /** Keys a batch wrote more than once (at one seqno): a weak tombstone on them is not kept exact under GC. */
  readonly #batchTwice = new Set<string>();
  readonly held: Held[] = [];
  /** Operations applied so far. */
  readonly ops: ModelOp[] = [];
  readonly stats = newStats();
  #tree: Tree | undefined;
  readonly #cleanup: () => void;
  /** Background jobs in flight; a job's failure is kept and thrown by the next settle. */
  readonly #jobs = new Set<Promise<void>>();
  #jobError: { error: unknown } | undefined;
  #pendingFlush = false;

  private constructor(config: ModelConfig, fs: Fs, path: string, cleanup: () => void) {
    this.config = config;
    this.fs = fs;
    this.path = path;
    this.#cleanup = cleanup;
    const comparator = config.tree.comparator;
    const options = config.counters ? { mergeOperator: counterMerge } : {};
    this.oracle = comparator === undefined ? new MvccOracle(undefined, options) : new MvccOracle((a, b) => comparator.compare(a, b), options);
  }

  static async create(config: ModelConfig): Promise<Model> {
    let model: Model;
    if (config.fs === "std") {
      // The directory goes after the test (useTempDirs); the tree's files as soon as the run ends.
      const fs = new StdFs();
      const path = `${dirs.make("model")}/db`;
      model = new Model(config, fs, path, () => {
        if (fs.exists(path)) fs.removeDirAll(path);
      });
    } else {
      model = new Model(config, new MemFs(), "/db", () => {});
    }
    model.#tree = await model.#open();
    return model;
  }

  get tree(): Tree {
    if (this.#tree === undefined) throw new Error("the model's tree is closed");
    return this.#tree;
  }

  #open(): Promise<Tree> {
    return Tree.open({ ...this.config.tree, ...(this.config.counters ? { mergeOperator: counterMerge } : {}), path: this.path, fs: this.fs, seqno: this.seqno });
  }

  /** Whether the configuration orders keys bytewise (removePrefix works). */
  get bytewise(): boolean {
    return this.config.tree.comparator === undefined;
  }

  /** Every key the model may read or bound by, in the configuration's order (for range generation). */
  get sortedKeys(): readonly string[] {
    this.#sortedKeys ??= [...new Set(ALL_KEYS)].sort((a, b) => this.oracle.compare(bytes(a), bytes(b)));
    return this.#sortedKeys;
  }
  #sortedKeys: string[] | undefined;

  /** Whether `key` lies in `[start, end)` (end undefined: unbounded) by the configuration's order. */
  inRange(key: string, start: string, end: string | undefined): boolean {
    const compare = this.oracle.compare;
    return compare(bytes(start), bytes(key)) <= 0 && (end === undefined || compare(bytes(key), bytes(end)) < 0);
  }

  /** Resolves a snapshot to a seqno, or undefined when it does not exist (yet) or is below the watermark. */
  resolve(snap: Snap): number | undefined {
    let s: number | undefined;
    switch (snap.kind) {
      case "current":
        s = this.seqno.get();
        break;
      case "max":
        s = SEQNO_MAX;
        break;
      case "zero":
        s = 0;
        break;
      case "after":
        s = this.snapOf.get(snap.op);
        break;
      case "at":
        s = this.writeSeqnoOf.get(snap.op);
        break;
      case "before": {
        const at = this.writeSeqnoOf.get(snap.op);
        s = at === undefined || at === 0 ? undefined : at - 1;
        break;
      }
    }
    return s === undefined || s < this.watermark ? undefined : s;
  }

  /** The bytes an insert or merge of `value` (+ `pad`) writes to `key`: 8-byte counters on counter keys in counter configurations. */
  valueOf(key: string, value: string, pad: number | undefined): Uint8Array {
    return this.config.counters && COUNTER_SET.has(key) ? counterBytes(value) : valueBytes(value, pad);
  }

  /** Whether a merge on `key` fits the configuration (counter configurations merge counter keys only). */
  mergeFits(key: string): boolean {
    return !this.config.counters || COUNTER_SET.has(key);
  }

  /** A batch operation as the oracle takes it. */
  toOracleBatchOp(b: BatchOp): OracleBatchOp {
    switch (b.op) {
      case "insert":
      case "merge":
        return { op: b.op, key: bytes(b.key), value: this.valueOf(b.key, b.value, b.pad) };
      case "remove":
      case "removeWeak":
        return { op: b.op, key: bytes(b.key) };
      case "removeRange":
        return { op: "removeRange", start: bytes(b.start), end: bytes(b.end) };
    }
  }

  /** Whether a weak tombstone on `key` keeps the model exact under GC: the key was written at most once. */
  weakRemoveIsSafe(key: string): boolean {
    if (!this.config.watermark) return true;
    if (this.#batchTwice.has(key)) return false;
    const history = this.oracle.versionsOf(bytes(key));
    return history.length === 0 || (history.length === 1 && history[0]?.kind === "value");
  }

  /** Applies one operation to the tree and the oracle. Returns a failure (held iterator) or "invalid". */
  async apply(op: ModelOp, step: number): Promise<Failure | "invalid" | undefined> {
    const { tree, oracle, seqno, config } = this;
    const w = this.watermark;
    switch (op.op) {
      case "insert": {
        const s = seqno.next();
        const value = this.valueOf(op.key, op.value, op.pad);
        lend(bytes(op.key), (k) => lend(value, (v) => tree.insert(k, v, s)));
        oracle.insert(bytes(op.key), value, s);
        break;
      }
      case "merge": {
        if (!this.mergeFits(op.key)) return "invalid";
        const s = seqno.next();
        const value = this.valueOf(op.key, op.value, op.pad);
        lend(bytes(op.key), (k) => lend(value, (v) => tree.merge(k, v, s)));
        oracle.merge(bytes(op.key), value, s);
        this.stats.merges++;
        break;
      }
      case "fill": {
        const shared = op.shared === true ? seqno.next() : undefined;
        for (const insert of fillInserts(op)) {
          const s = shared ?? seqno.next();
          const value = this.valueOf(insert.key, insert.value, insert.pad);
          oracle.insert(bytes(insert.key), value, s);
          lend(bytes(insert.key), (k) => lend(value, (v) => tree.insert(k, v, s)));
        }
        break;
      }
      case "remove": {
        const s = seqno.next();
        lend(bytes(op.key), (k) => tree.remove(k, s));
        oracle.remove(bytes(op.key), s);
        break;
      }
      case "removeWeak": {
        if (!this.weakRemoveIsSafe(op.key)) return "invalid";
        const s = seqno.next();
        lend(bytes(op.key), (k) => tree.removeWeak(k, s));
        this.stats.weakRemoves++;
        oracle.removeWeak(bytes(op.key), s);
        break;
      }
      case "removeRange": {
        const s = seqno.next();
        this.writeSeqnoOf.set(op, s);
        lend(bytes(op.start), (a) => lend(bytes(op.end), (b) => tree.removeRange(a, b, s)));
        if (oracle.removeRange(bytes(op.start), bytes(op.end), s)) {
          this.rangeOps.push({ op, start: op.start, end: op.end });
          this.stats.rangeTombstones++;
        }
        break;
      }
      case "removePrefix": {
        const s = seqno.next();
        this.writeSeqnoOf.set(op, s);
        if (!this.bytewise) {
          let thrown: unknown;
          try {
            lend(bytes(op.prefix), (p) => tree.removePrefix(p, s));
          } catch (error) {
            thrown = error;
          }
          if (!(thrown instanceof TypeError)) throw new Error(`removePrefix under a custom comparator should throw TypeError, got ${thrown === undefined ? "no error" : String(thrown)}`);
          break;
        }
        lend(bytes(op.prefix), (p) => tree.removePrefix(p, s));
        oracle.removePrefix(bytes(op.prefix), s);
        const successor = bytewiseSuccessorString(op.prefix);
        this.rangeOps.push({ op, start: op.prefix, end: successor });
        this.stats.rangeTombstones++;
        break;
      }
      case "batch": {
        const failure = this.#applyBatch(op);
        if (failure !== undefined) return failure;
        break;
      }
      case "rotate":
        tree.rotateMemtable();
        break;
      case "flush": {
        const below = seqno.get();
        if (op.background === true) {
          // Only one background flush at a time: a second one would seal the memtable whenever the first ends.
          if (this.#pendingFlush) return "invalid";
          this.#pendingFlush = true;
          this.#background(
            tree.flushActiveMemtable(w).then(() => {
              this.flushedBelow = Math.max(this.flushedBelow, below);
            }),
            () => {
              this.#pendingFlush = false;
            },
          );
          // The flush seals the active memtable once it holds the (free) flush lock, a microtask away:
          // let that happen before anything else is written.
          await new Promise((resolve) => setImmediate(resolve));
        } else {
          await tree.flushActiveMemtable(w);
          this.flushedBelow = Math.max(this.flushedBelow, below);
        }
        break;
      }
      case "leveled":
      case "sizeTiered":
      case "major": {
        const job =
          op.op === "leveled"
            ? tree.compact(new Leveled(config.leveled), w)
            : op.op === "sizeTiered"
              ? tree.compact(new SizeTiered(config.sizeTiered), w)
              : tree.majorCompact(config.majorTarget, w);
        if (op.background === true) this.#background(job.then((result) => this.#count(result.action)));
        else this.#count((await job).action);
        break;
      }
      case "settle":
        await this.settle();
        break;
      case "tick":
        await new Promise((resolve) => setImmediate(resolve));
        break;
      case "reopen": {
        const failure = this.drainAll(step);
        if (failure !== undefined) return failure;
        // close() itself must wait for the background jobs; settling afterwards only collects their outcome.
        await tree.close();
        this.#tree = undefined;
        await this.settle();
        this.#tree = await this.#open();
        const flushed = this.flushedBelow;
        oracle.retainOnly((v) => v.seqno < flushed);
        oracle.applyClears();
        this.stats.reopens++;
        break;
      }
      case "clear": {
        await tree.clear();
        // The clear installs last: a background flush ahead of it installs first, and a compaction of
        // cleared tables must discard its output. So its stamp is the newest seqno taken.
        oracle.clearAt(seqno.get() - 1);
        this.stats.clears++;
        break;
      }
      case "dropAll": {
        await this.settle();
        const before = seqno.get();
        const hadTables = tree.tableCount() > 0;
        const result = await tree.dropRange({});
        if (result.action === "dropped") {
          this.stats.dropped++;
          const flushed = this.flushedBelow;
          oracle.clearAt(before, (v) => v.seqno < flushed);
        } else if (hadTables) {
          throw new Error(`dropRange({}) did nothing although the tree had tables (${result.action})`);
        }
        break;
      }
      case "hold": {
        const s = seqno.get();
        const range: { reverse?: boolean } = op.reverse === true ? { reverse: true } : {};
        const iterator = tree.range(range, s);
        const got: Array<[Uint8Array, Uint8Array]> = [];
        for (let i = 0; i < op.take; i++) {
          const r = iterator.next();
          if (r.done === true) break;
          got.push(r.value);
        }
        this.held.push({ op, seqno: s, iterator, expected: answerOfPairs(oracle.range(range, s)), got });
        break;
      }
      case "drain": {
        const held = this.held.shift();
        if (held !== undefined) {
          const failure = this.#finishHeld(held, step);
          if (failure !== undefined) return failure;
        }
        break;
      }
      case "watermark":
        this.watermark = Math.max(this.watermark, seqno.get() - op.back, 0);
        break;
    }
    this.ops.push(op);
    this.#observe();
    this.snapOf.set(op, seqno.get());
    this.snaps.push({ op, seqno: seqno.get() });
    return undefined;
  }

  /** A `batch` op: through a WriteBatch into the tree, through `applyBatch` into the oracle. */
  #applyBatch(op: Extract<ModelOp, { op: "batch" }>): "invalid" | undefined {
    const { tree, oracle, seqno } = this;
    const oracleOps = op.ops.map((b) => this.toOracleBatchOp(b));
    const mixed = oracle.batchConflict(oracleOps) !== undefined;
    if (!mixed) {
      for (const b of op.ops) if (b.op === "merge" && !this.mergeFits(b.key)) return "invalid";
      for (const b of op.ops) if (b.op === "removeWeak" && !this.weakRemoveIsSafe(b.key)) return "invalid";
      // Two weak tombstones on a key in one batch: which one a compaction pairs with what is not modelled.
      if (this.config.watermark && op.ops.filter((b) => b.op === "removeWeak").length !== new Set(op.ops.flatMap((b) => (b.op === "removeWeak" ? [b.key] : []))).size) {
        return "invalid";
      }
    }
    const s = seqno.next();
    this.writeSeqnoOf.set(op, s);
    const batch = new WriteBatch();
    if (op.cleared === true) {
      batch.insert(bytes("k00"), bytes("discarded"));
      batch.removeRange(bytes("a"), bytes("z"));
      batch.remove(bytes("k01"));
      batch.clear();
      if (batch.len !== 0 || !batch.isEmpty()) throw new Error(`a cleared WriteBatch has len ${batch.len}, isEmpty ${String(batch.isEmpty())}`);
    }
    // The caller's buffers are overwritten as soon as each operation is added: the batch must copy.
    for (const b of op.ops) {
      switch (b.op) {
        case "insert":
          lend(bytes(b.key), (k) => lend(this.valueOf(b.key, b.value, b.pad), (v) => batch.insert(k, v)));
          break;
        case "merge":
          lend(bytes(b.key), (k) => lend(this.valueOf(b.key, b.value, b.pad), (v) => batch.merge(k, v)));
          break;
        case "remove":
          lend(bytes(b.key), (k) => batch.remove(k));
          break;
        case "removeWeak":
          lend(bytes(b.key), (k) => batch.removeWeak(k));
          break;
        case "removeRange":
          lend(bytes(b.start), (a) => lend(bytes(b.end), (e) => batch.removeRange(a, e)));
          break;
      }
    }
    if (batch.len !== op.ops.length || batch.isEmpty() !== (op.ops.length === 0)) {
      throw new Error(`a WriteBatch of ${op.ops.length} operations has len ${batch.len}, isEmpty ${String(batch.isEmpty())}`);
    }
    if (mixed) {
      // Nothing may change: compare what the newest reader sees before and after the refused batch.
      const probe = (): string => {
        const keys = op.ops.flatMap((b) => ("key" in b ? [b.key] : [b.start, b.end]));
        return [answerOfPairs(scribbled([...tree.range({}, SEQNO_MAX)])).exact, answerOfList(keys.map((k) => tree.get(bytes(k), SEQNO_MAX))).exact].join("\u0003");
      };
      const before = probe();
      let thrown: unknown;
      try {
        tree.applyBatch(batch, s);
      } catch (error) {
        thrown = error;
      }
      if (!(thrown instanceof LsmError && thrown.code === "MIXED_OPERATION_BATCH")) {
        throw new Error(`applyBatch of a mixed batch should throw LsmError MIXED_OPERATION_BATCH, got ${thrown === undefined ? "no error" : String(thrown)}`);
      }
      if (probe() !== before) throw new Error("a refused mixed batch changed what reads at SEQNO_MAX see");
      this.stats.mixedBatches++;
      return undefined;
    }
    tree.applyBatch(batch, s);
    oracle.applyBatch(oracleOps, s);
    this.stats.batches++;
    const seen = new Set<string>();
    for (const b of op.ops) {
      if (b.op === "removeRange") {
        if (this.oracle.compare(bytes(b.start), bytes(b.end)) < 0) {
          this.rangeOps.push({ op, start: b.start, end: b.end });
          this.stats.rangeTombstones++;
        }
        continue;
      }
      if (seen.has(b.key)) this.#batchTwice.add(b.key);
      seen.add(b.key);
      if (b.op === "removeWeak") this.stats.weakRemoves++;
      if (b.op === "merge") this.stats.merges++;
    }
    return undefined;
  }

  #background(job: Promise<void>, done?: () => void): void {
    const tracked = job.then(
      () => {},
      (error: unknown) => {
        this.#jobError ??= { error };
      },
    );
    const entry = tracked.finally(() => {
      done?.();
      this.#jobs.delete(entry);
    });
    this.#jobs.add(entry);
  }

  get backgroundJobs(): number {
    return this.#jobs.size;
  }

  get pendingFlush(): boolean {
    return this.#pendingFlush;
  }

  /** Waits for every background job; rethrows the first one's failure. */
  async settle(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all([...this.#jobs]);
    const failed = this.#jobError;
    this.#jobError = undefined;
    if (failed !== undefined) throw failed.error;
  }

  #count(action: string): void {
    if (action === "merged") this.stats.merged++;
    else if (action === "moved") this.stats.moved++;
    else if (action === "dropped") this.stats.dropped++;
  }

  #observe(): void {
    const stats = this.stats;
    const tree = this.tree;
    stats.maxTables = Math.max(stats.maxTables, tree.tableCount());
    stats.maxL0Runs = Math.max(stats.maxL0Runs, tree.l0RunCount());
    for (let level = 0; level < 7; level++) {
      if ((tree.levelTableCount(level) ?? 0) > 0) {
        stats.levelsUsed.add(level);
        stats.deepestLevel = Math.max(stats.deepestLevel, level);
      }
    }
    stats.maxVersions = Math.max(stats.maxVersions, this.oracle.versionCount);
    stats.maxCollected = Math.max(stats.maxCollected, this.oracle.versionCount - tree.approximateLen());
  }

  #finishHeld(held: Held, step: number): Failure | undefined {
    for (;;) {
      const r = held.iterator.next();
      if (r.done === true) break;
      held.got.push(r.value);
    }
    const got = answerOfPairs(held.got);
    if (got.exact === held.expected.exact) return undefined;
    return {
      kind: "iterator",
      hold: held.op,
      step,
      message: `iterator held from seqno ${held.seqno} (${JSON.stringify(held.op)}) yielded\n${describeMismatch(got, held.expected)}`,
    };
  }

  /** Finishes every held iterator (before a close), reporting the first mismatch. */
  drainAll(step: number): Failure | undefined {
    let first: Failure | undefined;
    for (const held of this.held.splice(0)) first ??= this.#finishHeld(held, step);
    return first;
  }

  /** Compares one query at one snapshot. */
  check(q: Query, snap: Snap, step: number): Failure | undefined {
    const s = this.resolve(snap);
    if (s === undefined) return undefined;
    this.stats.checks++;
    const want = oracleAnswer(this.oracle, q, s);
    const got = treeAnswer(this.tree, q, s);
    if (got.exact === want.exact) return undefined;
    const where = snap.kind === "after" ? `after op #${this.ops.indexOf(snap.op)}` : snap.kind;
    return {
      kind: "query",
      query: q,
      snap,
      step,
      message: `${describeQuery(q)} at seqno ${s} (${where}; counter ${this.seqno.get()}, W ${this.watermark})\n${describeMismatch(got, want)}`,
    };
  }

  async dispose(): Promise<void> {
    for (const held of this.held.splice(0)) held.iterator.return();
    try {
      await this.settle();
    } catch {
      // Reported already, or the run failed otherwise.
    }
    try {
      await this.#tree?.close();
    } catch {
      // A failed run may leave the tree unusable; the directory goes anyway.
    }
    this.#tree = undefined;
    this.#cleanup();
  }
}

/** The bytewise successor of a prefix as a latin1 string, undefined for 0xff-only prefixes. */
function bytewiseSuccessorString(prefix: string): string | undefined {
  const successor = bytewiseSuccessor(bytes(prefix));
  return successor === undefined ? undefined : latin1(successor);
}

/** The keys an operation names (bounds included), for checks. */
function keysOf(op: ModelOp): string[] {
  switch (op.op) {
    case "insert":
    case "merge":
    case "remove":
    case "removeWeak":
      return [op.key];
    case "removeRange":
      return [op.start, op.end];
    case "removePrefix":
      return [op.prefix];
    case "batch":
      return op.ops.flatMap((b) => (b.op === "removeRange" ? [b.start, b.end] : [b.key]));
    case "fill":
      return fillInserts(op).map((i) => i.key);
    default:
      return [];
  }
}

/** The inserts a `fill` stands for. */
function fillInserts(op: Extract<ModelOp, { op: "fill" }>): Array<Extract<ModelOp, { op: "insert" }>> {
  return Array.from({ length: op.count }, (_, i) => ({
    op: "insert" as const,
    key: bulkKey(op.from + i * op.stride),
    value: `${op.value}.${i}`,
    ...(op.pad === undefined ? {} : { pad: op.pad }),
  }));
}

/** Checks run after each step; the step's index and operation are given. */
type Checker = (model: Model, step: number, op: ModelOp) => Failure | undefined;

function errorSignature(error: unknown): string {
  if (!(error instanceof Error)) return `non-error:${String(error)}`;
  const code = (error as { code?: unknown }).code;
  // Without the temp directory's random name (StdFs configurations) and numbers, so a replay can match.
  return `${error.name}:${String(code)}:${error.message.replace(/\S*talus-model-[^/\s]*/g, "<dir>").replace(/\d+/g, "#")}`;
}

interface RunResult {
  readonly stats: Stats;
  readonly ops: readonly ModelOp[];
  readonly failure: Failure | undefined;
  readonly invalid: boolean;
}

/**
 * Runs operations from `next` (undefined ends the run) with `checker` after each, then drains held
 * iterators and closes. Engine exceptions become failures.
 */
async function run(config: ModelConfig, next: (model: Model, step: number) => ModelOp | undefined, checker: Checker, finalChecker?: Checker): Promise<RunResult> {
  const model = await Model.create(config);
  /** Operations started, the failing one included. */
  const ops: ModelOp[] = [];
  let step = 0;
  try {
    for (; ; step++) {
      const op = next(model, step);
      if (op === undefined) break;
      ops.push(op);
      const outcome = await model.apply(op, step);
      if (outcome === "invalid") return { stats: model.stats, ops, failure: undefined, invalid: true };
      if (outcome !== undefined) return { stats: model.stats, ops, failure: outcome, invalid: false };
      const failure = checker(model, step, op);
      if (failure !== undefined) return { stats: model.stats, ops, failure, invalid: false };
    }
    await model.settle();
    const last = ops[ops.length - 1];
    const failure = (last !== undefined ? finalChecker?.(model, step, last) : undefined) ?? model.drainAll(step);
    if (failure !== undefined) return { stats: model.stats, ops, failure, invalid: false };
    await model.tree.close();
    return { stats: model.stats, ops, failure: undefined, invalid: false };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { stats: model.stats, ops, failure: { kind: "error", signature: errorSignature(error), step, message: `threw at step ${step}: ${message}` }, invalid: false };
  } finally {
    await model.dispose();
  }
}

const replay =
  (ops: readonly ModelOp[]) =>
  (_model: Model, step: number): ModelOp | undefined =>
    ops[step];

// ---- checkers -------------------------------------------------------------------------------------

function randomBounds(rng: Random): Bounds {
  const pool = rng.pick([KEYS, ABSENT, BULK_KEYS]);
  const b: { gt?: string; gte?: string; lt?: string; lte?: string; reverse?: boolean; limit?: number } = {};
  if (rng.chance(0.6)) b[rng.chance(0.5) ? "gt" : "gte"] = rng.pick(pool);
  if (rng.chance(0.6)) b[rng.chance(0.5) ? "lt" : "lte"] = rng.pick(rng.pick([KEYS, ABSENT, BULK_KEYS]));
  if (rng.chance(0.4)) b.reverse = true;
  if (rng.chance(0.3)) b.limit = rng.int(5);
  return b;
}

function probeKey(rng: Random): string {
  const r = rng.float();
  if (r < 0.2) return rng.pick(ABSENT);
  if (r < 0.45) return rng.pick(BULK_KEYS);
  if (r < 0.75) return KEYS[rng.int(HOT_KEYS)] as string;
  return rng.pick(KEYS);
}

function oldSnap(rng: Random, model: Model): Snap {
  const snaps = model.snaps;
  // Only snapshots at or above the watermark are checked (snaps are in seqno order).
  let lo = 0;
  let hi = snaps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((snaps[mid] as { seqno: number }).seqno < model.watermark) lo = mid + 1;
    else hi = mid;
  }
  const eligible = snaps.length - lo;
  if (eligible === 0) return { kind: "current" };
  // Lean towards recent snapshots, where versions differ most from the current ones.
  const back = rng.chance(0.5) ? rng.int(Math.min(eligible, 12)) : rng.int(eligible);
  return { kind: "after", op: (snaps[snaps.length - 1 - back] as { op: ModelOp }).op };
}

/** A thorough look at a few snapshots: every key, full scans both ways, len, first/last, prefixes. */
function sweep(model: Model, step: number, snapsToCheck: readonly Snap[], rng: Random): Failure | undefined {
  const all = ALL_KEYS;
  for (const snap of snapsToCheck) {
    const queries: Query[] = [
      { type: "range", bounds: {} },
      { type: "range", bounds: { reverse: true } },
      { type: "multiGet", keys: all },
      { type: "len" },
      { type: "first" },
      { type: "last" },
      { type: "isEmpty" },
      { type: "prefix", prefix: rng.pick(PREFIXES), reverse: rng.chance(0.5), asBuffer: rng.chance(BUFFER_PREFIX_CHANCE) },
    ];
    for (const key of all) queries.push({ type: "get", key });
    for (const q of queries) {
      const failure = model.check(q, snap, step);
      if (failure !== undefined) return failure;
    }
  }
  return undefined;
}

/** Operations that write (one seqno each); the others change structure. */
const WRITES: ReadonlySet<ModelOp["op"]> = new Set(["insert", "merge", "remove", "removeWeak", "removeRange", "removePrefix", "batch"]);

/**
 * Reads around one range tombstone (to be asked just below, at and just above its seqno): its range one
 * way or the other, its bounds, a few keys inside, first or last; its prefix for a removePrefix.
 */
function rangeTombstoneQueries(model: Model, rt: Model["rangeOps"][number], rng: Random): Query[] {
  const { start, end } = rt;
  const queries: Query[] = [
    rng.chance(0.5)
      ? { type: "range", bounds: end === undefined ? { gte: start } : { gte: start, lt: end } }
      : { type: "range", bounds: end === undefined ? { gt: start, reverse: true } : { gte: start, lte: end, reverse: true, ...(rng.chance(0.5) ? { limit: rng.range(1, 3) } : {}) } },
    { type: "get", key: start },
    { type: rng.chance(0.5) ? "first" : "last" },
  ];
  if (end !== undefined) queries.push({ type: "get", key: end });
  if (rt.op.op === "removePrefix") queries.push({ type: "prefix", prefix: rt.op.prefix, reverse: rng.chance(0.5), asBuffer: rng.chance(BUFFER_PREFIX_CHANCE) });
  const inside = model.sortedKeys.filter((k) => model.inRange(k, start, end));
  if (inside.length > 0) queries.push({ type: "multiGet", keys: inside.length <= 8 ? inside : Array.from({ length: 8 }, () => rng.pick(inside)) });
  for (let i = 0; i < 2 && inside.length > 0; i++) queries.push({ type: "get", key: rng.pick(inside) });
  return queries;
}

/** After every step: point reads and a random range at the current and older snapshots; every few steps a sweep. */
function randomChecker(rng: Random): Checker {
  return (model, step, op) => {
    const snaps: Snap[] = [{ kind: "current" }, oldSnap(rng, model), oldSnap(rng, model)];
    if (rng.chance(0.1)) snaps.push({ kind: "zero" }, { kind: "max" });
    // A range tombstone or batch just written: the seqno it took (where reads must not see it) too.
    if (model.writeSeqnoOf.has(op)) snaps.push({ kind: "at", op });
    const structural = !WRITES.has(op.op);
    if (step % 10 === 9 || (structural && rng.chance(0.3))) {
      const failure = sweep(model, step, snaps, rng);
      if (failure !== undefined) return failure;
    }
    // Range tombstones below, at and above their seqno: this step's, and one from earlier (which flushes,
    // compactions, drops and reopens may have moved or collected since).
    const around: Array<Model["rangeOps"][number]> = model.rangeOps.filter((rt) => rt.op === op);
    if (model.rangeOps.length > 0 && rng.chance(0.3)) around.push(rng.pick(model.rangeOps));
    for (const rt of around) {
      const queries = rangeTombstoneQueries(model, rt, rng);
      const rtSnaps: Snap[] =
        rt.op === op
          ? [{ kind: "before", op: rt.op }, { kind: "at", op: rt.op }, { kind: "after", op: rt.op }]
          : [{ kind: "at", op: rt.op }, { kind: "after", op: rt.op }, { kind: "current" }];
      for (const snap of rtSnaps) {
        for (const q of queries) {
          const failure = model.check(q, snap, step);
          if (failure !== undefined) return failure;
        }
      }
    }
    const named = keysOf(op);
    const touched = op.op === "fill" ? [bulkKey(op.from + rng.int(op.count) * op.stride)] : named.length <= 4 ? named : Array.from({ length: 4 }, () => rng.pick(named));
    for (const snap of snaps) {
      const queries: Query[] = [
        { type: "get", key: probeKey(rng) },
        { type: "get", key: probeKey(rng) },
        { type: "range", bounds: randomBounds(rng) },
      ];
      for (const key of touched) queries.push({ type: "get", key });
      if (snap.kind === "current") queries.push({ type: "range", bounds: {} }, { type: "range", bounds: randomBounds(rng) });
      for (const q of queries) {
        const failure = model.check(q, snap, step);
        if (failure !== undefined) return failure;
      }
    }
    return undefined;
  };
}

/** Every snapshot, every key, full scans and `len` after every step; pairwise bounded ranges at the current snapshot and, at the end, at every snapshot. */
function exhaustiveCheck(model: Model, step: number, final: boolean): Failure | undefined {
  const keyStrings = new Set<string>([...model.oracle.keys().map(latin1), "\u0000\u0000", "zz"]);
  for (const op of model.ops) for (const key of keysOf(op)) keyStrings.add(key);
  const keys = [...keyStrings];
  // Pairwise bounds over at most 12 keys.
  const boundKeys = keys.filter((_, i) => i % Math.ceil(keys.length / 12) === 0);
  const snaps: Snap[] = [{ kind: "current" }, { kind: "zero" }, { kind: "max" }, ...model.snaps.map(({ op }): Snap => ({ kind: "after", op }))];
  // Below and at every range tombstone's seqno (above it is the "after" snapshot).
  for (const op of new Set(model.rangeOps.map((rt) => rt.op))) snaps.push({ kind: "before", op }, { kind: "at", op });
  const rangeQueries = (): Query[] => {
    const out: Query[] = [];
    const lowers: Array<Bounds> = [{}, ...boundKeys.map((k, i): Bounds => (i % 2 === 0 ? { gte: k } : { gt: k }))];
    const uppers: Array<Bounds> = [{}, ...boundKeys.map((k, i): Bounds => (i % 3 === 0 ? { lt: k } : { lte: k }))];
    for (const lower of lowers) {
      for (const upper of uppers) {
        out.push({ type: "range", bounds: { ...lower, ...upper } }, { type: "range", bounds: { ...lower, ...upper, reverse: true, limit: 2 } });
      }
    }
    for (const p of PREFIXES) {
      out.push({ type: "prefix", prefix: p, asBuffer: BUFFER_PREFIX_CHANCE > 0 }, { type: "prefix", prefix: p, reverse: true, limit: 3 });
    }
    return out;
  };
  for (const snap of snaps) {
    const queries: Query[] = [{ type: "range", bounds: {} }, { type: "range", bounds: { reverse: true } }, { type: "len" }, { type: "first" }, { type: "last" }];
    for (const key of keys) queries.push({ type: "get", key });
    if (final || snap.kind === "current") queries.push(...rangeQueries());
    for (const q of queries) {
      const failure = model.check(q, snap, step);
      if (failure !== undefined) return failure;
    }
  }
  return undefined;
}

const exhaustiveChecker: Checker = (model, step) => exhaustiveCheck(model, step, false);
const exhaustiveFinal: Checker = (model, step) => exhaustiveCheck(model, step, true);

// ---- generating operations ------------------------------------------------------------------------

function generator(rng: Random, steps: number): (model: Model, step: number) => ModelOp | undefined {
  /** Whether the current model merges counters (set on every call). */
  let counters = false;
  /** A counter key, the first two hot. */
  const counterKey = (): string => (rng.chance(0.6) ? (COUNTER_KEYS[rng.int(2)] as string) : rng.pick(COUNTER_KEYS));
  /** A key to merge: a counter key in counter configurations, any key otherwise. */
  const mergeKey = (): string => (counters ? counterKey() : pickKey());
  /** A small le64 increment (counters) or raw operand bytes. */
  const mergeValue = (prefix: string, step: number, maxPad: number): { value: string; pad?: number } =>
    counters ? { value: String(rng.chance(0.1) ? rng.range(-1000, 1000) : rng.range(-3, 10)) } : value(prefix, step, maxPad);
  const pickKey = (): string => {
    if (counters && rng.chance(0.08)) return counterKey();
    const r = rng.float();
    if (r < 0.5) return KEYS[rng.int(HOT_KEYS)] as string;
    if (r < 0.65) return rng.pick(BULK_KEYS);
    return rng.pick(KEYS);
  };
  const value = (prefix: string, step: number, maxPad: number): { value: string; pad?: number } => {
    const r = rng.float();
    if (r < 0.05) return { value: "" };
    if (r < 0.7) return { value: `${prefix}${step}` };
    return { value: `${prefix}${step}`, pad: rng.chance(0.7) ? rng.int(40) : rng.int(maxPad + 1) };
  };
  const background = (): { background?: boolean } => (rng.chance(0.3) ? { background: true } : {});
  /** Short ranges over the key space (by the configuration's order), sometimes wide, sometimes start >= end. */
  const rangeBounds = (model: Model): { start: string; end: string } => {
    const sorted = model.sortedKeys;
    // In counter configurations, often over counters: a range tombstone between their operands.
    const start = counters && rng.chance(0.25) ? counterKey() : rng.chance(0.3) ? rng.pick(sorted) : pickKey();
    const i = sorted.indexOf(start);
    const r = rng.float();
    const j = r < 0.12 ? i - rng.int(3) : r < 0.88 ? i + rng.range(1, 4) : i + rng.range(5, 60);
    return { start, end: sorted[Math.max(0, Math.min(sorted.length - 1, j))] as string };
  };
  const batchOp = (model: Model, step: number, i: number): BatchOp => {
    const r = rng.float();
    if (r < 0.45) return { op: "insert", key: pickKey(), ...value(`w${i}.`, step, model.config.maxPad) };
    if (r < 0.65) return { op: "remove", key: pickKey() };
    if (r < 0.8) return { op: "merge", key: mergeKey(), ...mergeValue(`n${i}.`, step, model.config.maxPad) };
    if (r < 0.93) return { op: "removeRange", ...rangeBounds(model) };
    return { op: "removeWeak", key: pickKey() };
  };
  /** A few operations at one seqno, sometimes a key written twice (same kind), sometimes a mixed one. */
  const batch = (model: Model, step: number): ModelOp => {
    const count = rng.chance(0.08) ? 0 : rng.chance(0.15) ? rng.range(8, 20) : rng.range(1, 5);
    const ops: BatchOp[] = [];
    const kinds = new Map<string, BatchOp["op"]>();
    for (let i = 0; ops.length < count && i < count * 4; i++) {
      const b = batchOp(model, step, i);
      if (b.op === "removeRange") {
        ops.push(b);
        continue;
      }
      if (b.op === "removeWeak" && (kinds.has(b.key) || !model.weakRemoveIsSafe(b.key))) continue;
      const kind = kinds.get(b.key);
      if (kind !== undefined && kind !== b.op) continue;
      kinds.set(b.key, b.op);
      ops.push(b);
      if (b.op !== "removeWeak" && rng.chance(0.15)) {
        // The same key again: the later operation is the newer one.
        ops.push(b.op === "insert" ? { op: b.op, key: b.key, ...value(`x${i}.`, step, model.config.maxPad) } : b.op === "merge" ? { op: b.op, key: b.key, ...mergeValue(`x${i}.`, step, model.config.maxPad) } : b);
      }
    }
    if (kinds.size > 0 && rng.chance(0.12)) {
      // A second kind of operation on a key already in the batch: the whole batch must be refused.
      const [key, kind] = rng.pick([...kinds]);
      const other = rng.pick((["insert", "remove", "merge", "removeWeak"] as const).filter((k) => k !== kind && (k !== "merge" || model.mergeFits(key))));
      const conflicting: BatchOp = other === "insert" || other === "merge" ? { op: other, key, value: `c${step}` } : { op: other, key };
      ops.splice(rng.int(ops.length + 1), 0, conflicting);
    }
    return { op: "batch", ops, ...(rng.chance(0.1) ? { cleared: true } : {}) };
  };
  return (model, step) => {
    if (step >= steps) return undefined;
    const { config } = model;
    counters = config.counters;
    const table: Array<[number, () => ModelOp | undefined]> = [
      [30, () => ({ op: "insert", key: pickKey(), ...value("v", step, config.maxPad) })],
      [
        6,
        () => ({
          op: "fill",
          from: rng.int(BULK_KEY_COUNT),
          count: rng.range(5, 30),
          stride: rng.pick([1, 1, 1, 3, 7]),
          ...value("f", step, config.maxPad),
          ...(rng.chance(0.3) ? { shared: true } : {}),
        }),
      ],
      [8, () => ({ op: "remove", key: pickKey() })],
      [
        5,
        () => {
          for (let i = 0; i < 6; i++) {
            const key = pickKey();
            if (model.weakRemoveIsSafe(key)) return { op: "removeWeak", key };
          }
          return undefined;
        },
      ],
      [config.counters ? 10 : 4, () => ({ op: "merge", key: mergeKey(), ...mergeValue("m", step, config.maxPad) })],
      [4, () => ({ op: "removeRange", ...rangeBounds(model) })],
      // Under a custom comparator removePrefix must throw TypeError (rarely tried).
      [model.bytewise ? 1.5 : 0.2, () => ({ op: "removePrefix", prefix: rng.pick(REMOVE_PREFIXES) })],
      [4, () => batch(model, step)],
      [3, () => ({ op: "rotate" })],
      [9, () => (rng.chance(0.3) && !model.pendingFlush ? { op: "flush", background: true } : { op: "flush" })],
      [8, () => ({ op: "leveled", ...background() })],
      [4, () => ({ op: "sizeTiered", ...background() })],
      [1.5, () => ({ op: "major", ...background() })],
      [model.backgroundJobs > 0 ? 3 : 0, () => ({ op: "settle" })],
      [model.backgroundJobs > 0 ? 3 : 0, () => ({ op: "tick" })],
      [1, () => ({ op: "reopen" })],
      [0.2, () => ({ op: "clear" })],
      [0.3, () => ({ op: "dropAll" })],
      [2, () => (model.held.length < 3 ? { op: "hold", take: rng.int(4), ...(rng.chance(0.3) ? { reverse: true } : {}) } : undefined)],
      [2, () => (model.held.length > 0 ? { op: "drain" } : undefined)],
      [config.watermark ? 4 : 0, () => ({ op: "watermark", back: rng.int(40) })],
    ];
    const total = table.reduce((sum, [weight]) => sum + weight, 0);
    for (;;) {
      let r = rng.float() * total;
      for (const [weight, make] of table) {
        r -= weight;
        if (r < 0) {
          const op = make();
          if (op !== undefined) return op;
          break;
        }
      }
    }
  };
}

// ---- shrinking ------------------------------------------------------------------------------------

/** Whether `candidate` still fails the way `failure` did (the same query, held iterator or error). */
async function stillFails(config: ModelConfig, candidate: readonly ModelOp[], failure: Failure): Promise<Failure | undefined> {
  let checker: Checker = () => undefined;
  if (failure.kind === "query") {
    const { query, snap } = failure;
    checker = (model, step) => model.check(query, snap, step);
  }
  const result = await run(config, replay(candidate), checker, checker);
  const f = result.failure;
  if (result.invalid || f === undefined || f.kind !== failure.kind) return undefined;
  if (f.kind === "iterator" && failure.kind === "iterator" && f.hold !== failure.hold) return undefined;
  if (f.kind === "error" && failure.kind === "error" && f.signature !== failure.signature) return undefined;
  return f;
}

/** Delta debugging: drop chunks of operations, halving the chunk size, while the failure persists. */
async function shrink(config: ModelConfig, ops: readonly ModelOp[], failure: Failure, budgetMs: number): Promise<{ ops: ModelOp[]; failure: Failure; tries: number; complete: boolean }> {
  const deadline = Date.now() + budgetMs;
  let current = ops.slice(0, failure.step + 1);
  let best = failure;
  /** The failure to reproduce, its snapshot or held iterator following operations that were simplified. */
  let target = failure;
  let tries = 0;
  /** Tries `candidate`; `replaced` names an operation it replaced by a simpler one. */
  const attempt = async (candidate: ModelOp[], replaced?: { from: ModelOp; to: ModelOp }): Promise<boolean> => {
    tries++;
    const t = replaced === undefined ? target : remapFailure(target, replaced.from, replaced.to);
    const f = await stillFails(config, candidate, t);
    if (f === undefined) return false;
    current = candidate;
    best = f;
    target = t;
    return true;
  };
  // The failure must reproduce at all on a fresh replay.
  if ((await stillFails(config, current, failure)) === undefined) return { ops: current, failure: best, tries, complete: false };
  const ddmin = async (): Promise<boolean> => {
    let chunk = Math.max(1, current.length >> 1);
    for (;;) {
      let removed = false;
      // From the end backwards, so that a removal leaves the positions still to try where they were.
      for (let end = current.length; end > 0; ) {
        if (Date.now() > deadline) return false;
        const start = Math.max(0, end - chunk);
        if (await attempt([...current.slice(0, start), ...current.slice(end)])) removed = true;
        end = start;
      }
      if (!removed) {
        if (chunk === 1) return true;
        chunk = Math.max(1, chunk >> 1);
      }
    }
  };
  if (!(await ddmin())) return { ops: current, failure: best, tries, complete: false };
  // A fill is its inserts: spelled out, most of them usually go too (a held iterator or a query may
  // refer to the fill itself, so this is a candidate like any other).
  if (current.some((op) => op.op === "fill" && op.shared !== true)) {
    // (A shared-seqno fill stays: spelled out, its inserts would take one seqno each.)
    const expanded = current.flatMap((op): ModelOp[] => (op.op === "fill" && op.shared !== true ? fillInserts(op) : [op]));
    if (expanded.length <= 400 && (await attempt(expanded)) && !(await ddmin())) return { ops: current, failure: best, tries, complete: false };
  }
  // Simplify what is left: drop batch operations and value filler where they do not matter.
  const replace = (i: number, to: ModelOp): Promise<boolean> => attempt([...current.slice(0, i), to, ...current.slice(i + 1)], { from: current[i] as ModelOp, to });
  for (let i = 0; i < current.length; i++) {
    let op = current[i] as ModelOp;
    if (op.op === "batch") {
      for (let j = op.ops.length - 1; j >= 0 && Date.now() < deadline; j--) {
        const smaller: ModelOp = { ...op, ops: [...op.ops.slice(0, j), ...op.ops.slice(j + 1)] };
        if (await replace(i, smaller)) op = smaller;
      }
      if (op.op === "batch" && op.cleared === true && Date.now() < deadline) {
        const { cleared: _cleared, ...plain } = op;
        if (await replace(i, plain)) op = plain;
      }
      if (op.op === "batch" && op.ops.some((b) => "pad" in b) && Date.now() < deadline) {
        const plain: ModelOp = { ...op, ops: op.ops.map((b) => (b.op === "insert" || b.op === "merge" ? { op: b.op, key: b.key, value: b.value } : b)) };
        await replace(i, plain);
      }
    }
    if ((op.op === "insert" || op.op === "merge") && op.pad !== undefined && Date.now() < deadline) {
      const { pad: _pad, ...plain } = op;
      await replace(i, plain);
    }
  }
  return { ops: current, failure: best, tries, complete: true };
}

/** `failure` with its snapshot's or held iterator's operation `from` replaced by `to`. */
function remapFailure(failure: Failure, from: ModelOp, to: ModelOp): Failure {
  if (failure.kind === "query" && "op" in failure.snap && failure.snap.op === from) return { ...failure, snap: { ...failure.snap, op: to } };
  if (failure.kind === "iterator" && failure.hold === from) return { ...failure, hold: to };
  return failure;
}

function formatOps(ops: readonly ModelOp[]): string {
  return ops.map((op, i) => `    ${JSON.stringify(op)}, // #${i}`).join("\n");
}

async function report(config: ModelConfig, seed: number, ops: readonly ModelOp[], failure: Failure): Promise<string> {
  const shrunk = await shrink(config, ops, failure, SHRINK_BUDGET_MS);
  return [
    `model test "${config.name}" failed with seed ${seed} at step ${failure.step} of ${ops.length}:`,
    failure.message,
    `(the whole run again: TALUS_MODEL_CONFIG=${config.name} TALUS_MODEL_SEED=${seed} TALUS_MODEL_SEEDS=1 TALUS_MODEL_STEPS=${STEPS ?? config.steps} npx vitest run test/tree-model.test.ts)`,
    "",
    `shrunk to ${shrunk.ops.length} operations (${shrunk.tries} replays${shrunk.complete ? "" : ", shrinking stopped early"}), failing with:`,
    shrunk.failure.message,
    "",
    "keep it in test/model-regressions.ts:",
    `  { name: "${config.name} seed ${seed}", config: "${config.name}", ops: [`,
    formatOps(shrunk.ops),
    "  ] },",
  ].join("\n");
}

// ---- the tests ------------------------------------------------------------------------------------

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

const SEEDS = envInt("TALUS_MODEL_SEEDS");
const STEPS = envInt("TALUS_MODEL_STEPS");
const FIRST_SEED = envInt("TALUS_MODEL_SEED") ?? 1;
const ONLY = process.env["TALUS_MODEL_CONFIG"];
const SHRINK_BUDGET_MS = 120_000;
const LONG = 30 * 60_000;

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

async function runConfig(config: ModelConfig): Promise<void> {
  const seeds = SEEDS ?? config.seeds;
  const steps = STEPS ?? config.steps;
  for (let i = 0; i < seeds; i++) {
    const seed = FIRST_SEED + i;
    const rng = new Random(seed ^ nameHash(config.name));
    const opsRng = rng.fork();
    const checkRng = rng.fork();
    const result = await run(config, generator(opsRng, steps), randomChecker(checkRng), (model, step) => sweep(model, step, [{ kind: "current" }, { kind: "zero" }, { kind: "max" }], checkRng));
    if (process.env["TALUS_MODEL_STATS"] === "1") {
      const { levelsUsed, ...rest } = result.stats;
      console.log(`${config.name} seed ${seed}: ${JSON.stringify({ ...rest, levelsUsed: [...levelsUsed].sort(), ops: result.ops.length, invalid: result.invalid })}`);
    }
    if (result.failure !== undefined) throw new Error(await report(config, seed, result.ops, result.failure));
    // The generator only makes valid operations: an invalid one would end the run early, unnoticed.
    if (result.invalid) throw new Error(`model test "${config.name}" seed ${seed}: the generator made an invalid operation at step ${result.ops.length - 1}: ${JSON.stringify(result.ops[result.ops.length - 1])}`);
  }
}

describe("Tree model test: random operations against the MVCC oracle", () => {
  for (const config of CONFIGS) {
    if (config.watermark) continue;
    it.skipIf(ONLY !== undefined && !config.name.includes(ONLY))(`${config.name}: every read at every snapshot matches, GC watermark 0`, { timeout: LONG }, async () => {
      await runConfig(config);
    });
  }
});

describe("Tree model test with a rising GC watermark W: reads at S >= W stay exact", () => {
  for (const config of CONFIGS) {
    if (!config.watermark) continue;
    it.skipIf(ONLY !== undefined && !config.name.includes(ONLY))(`${config.name}: reads at S >= W match`, { timeout: LONG }, async () => {
      await runConfig(config);
    });
  }
});

describe("Tree model test: kept regression sequences", () => {
  it("has a known configuration for every case", () => {
    for (const case_ of MODEL_REGRESSIONS) expect(CONFIG_BY_NAME.has(case_.config), case_.name).toBe(true);
  });

  for (const case_ of MODEL_REGRESSIONS) {
    it(`replays "${case_.name}" with exhaustive checks`, { timeout: LONG }, async () => {
      await replayRegression(case_);
    });
  }

  // Found by the model test (every configuration, first prefix query): `prefixSuccessor` copied with
  // `prefix.slice(0, i + 1)`, which for a Buffer is a view, so incrementing its last byte rewrote the
  // caller's prefix, which was also the `gte` bound: the scan became [succ, succ), empty.
  it("prefix() with a Buffer prefix finds the keys and leaves the caller's prefix alone", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
    tree.insert("ab", "1", seqno.next());
    tree.insert("b", "2", seqno.next());
    const prefix = Buffer.from("a");
    const found = [...tree.prefix(prefix, seqno.get())].map(([k, v]) => `${latin1(k)}=${latin1(v)}`);
    expect(latin1(prefix)).toBe("a");
    expect(found).toEqual(["ab=1"]);
    await tree.close();
  });

  it("replays a hand-written sequence through every operation kind", { timeout: LONG }, async () => {
    const ops: ModelOp[] = [
      { op: "insert", key: "a", value: "1" },
      { op: "insert", key: "b", value: "1", pad: 100 },
      { op: "merge", key: "c", value: "+1" },
      { op: "hold", take: 1 },
      { op: "flush" },
      { op: "remove", key: "a" },
      { op: "removeWeak", key: "b" },
      { op: "merge", key: "c", value: "+2" },
      { op: "rotate" },
      { op: "insert", key: "\u0000", value: "" },
      { op: "flush" },
      { op: "leveled" },
      { op: "drain" },
      { op: "insert", key: "k05", value: "2" },
      { op: "sizeTiered" },
      { op: "major" },
      { op: "insert", key: "k06", value: "unflushed" },
      { op: "removeRange", start: "k05", end: "k07" },
      { op: "removeRange", start: "k07", end: "k05" },
      { op: "removePrefix", prefix: "\u0000" },
      {
        op: "batch",
        ops: [
          { op: "insert", key: "k05", value: "3" },
          { op: "removeRange", start: "a", end: "k" },
          { op: "merge", key: "c", value: "+3" },
          { op: "insert", key: "k05", value: "4" },
        ],
      },
      { op: "batch", ops: [{ op: "insert", key: "b", value: "5" }, { op: "remove", key: "b" }] },
      { op: "flush" },
      { op: "removePrefix", prefix: "\u00ff" },
      { op: "major" },
      { op: "batch", ops: [], cleared: true },
      { op: "reopen" },
      { op: "dropAll" },
      { op: "insert", key: "a", value: "3" },
      { op: "flush" },
      { op: "clear" },
      { op: "insert", key: "z", value: "4" },
      { op: "flush" },
      { op: "reopen" },
    ];
    for (const config of CONFIGS) await replayRegression({ name: "every operation", config: config.name, ops });
  });
});

async function replayRegression(case_: ModelRegression): Promise<void> {
  const config = CONFIG_BY_NAME.get(case_.config);
  if (config === undefined) throw new Error(`unknown configuration ${case_.config}`);
  const result = await run(config, replay(case_.ops), exhaustiveChecker, exhaustiveFinal);
  expect(result.invalid, "the sequence uses removeWeak where the configuration forbids it").toBe(false);
  if (result.failure !== undefined) {
    throw new Error(`regression "${case_.name}" (${case_.config}) fails at step ${result.failure.step}:\n${result.failure.message}\n\nops:\n${formatOps(case_.ops)}`);
  }
  expect(result.ops).toHaveLength(case_.ops.length);
}
