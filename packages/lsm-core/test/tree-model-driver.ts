// The tree model test's driver (DESIGN.md section 6): seeded random operation sequences applied to a
// tree and to the testkit MVCC oracle, compared after every step at many snapshots. A failing sequence
// is shrunk (operations dropped while it still fails) and printed in a replayable form. The tests that
// run it are test/tree-model.test.ts (plain trees, the configurations of tree-model-support.ts) and
// packages/vlog/test/blob-tree-model.test.ts (blob trees): a configuration's `target` (ModelTarget)
// says how its tree is opened and what more to check around operations and reopens.
//
// What the model does: range tombstones (removeRange, removePrefix) and write batches are checked at the
// seqno just below, at and just above each one. Merge operands: configurations with `counters` run with
// `mergeOperator: counterMerge`, merging small le64 increments into a set of counter keys (COUNTER_KEYS)
// that only ever hold 8-byte values; the oracle folds them the same way. Without, operands read as their
// own bytes. Bulk ingestion (`ingest`, every configuration): sorted entries through `tree.ingestion()`,
// visible at the one seqno G finish() takes (checked just below, at and just above G); sometimes with
// writes made while the ingestion is open, a key given twice (refused), or aborted. Compaction filters
// (configurations with `filter`, tree-model-filter.ts): the tree runs with a filter that removes,
// destroys or replaces "doomed" values the generator writes; what the filter is asked is checked against
// the oracle, and the oracle then applies the same verdicts from the seqno the compaction installed at
// (MvccOracle.filterAt), so reads at every seqno stay exact: older snapshots see the data from before.
//
// Environment: TALUS_MODEL_SEEDS (seeds per configuration), TALUS_MODEL_STEPS (operations per seed),
// TALUS_MODEL_SEED (first seed; seeds are consecutive from it), TALUS_MODEL_CONFIG (only configurations
// whose name contains it), TALUS_MODEL_STATS=1 (print what each run exercised).
import { expect } from "vitest";
import { IoUringFs, MemFs, StdFs, type Fs } from "@talus/fs";
import { IOURING_UNAVAILABLE } from "./backends.ts";
import { bytewiseSuccessor, makeTempDir, MvccOracle, Random, type OracleBatchOp, type OracleIngestEntry } from "@talus/testkit";
import {
  counterMerge,
  Leveled,
  LsmError,
  SEQNO_MAX,
  SequenceNumberCounter,
  SizeTiered,
  Tree,
  type CompactionResult,
  type EntryIterator,
  type TreeOptions,
  WriteBatch,
} from "../src/index.ts";
import type { BatchOp, IngestEntry, ModelOp, ModelRegression } from "./model-regressions.ts";
import { DOOM_PREFIXES, missedByMajor, ModelFilter, versionId, type FilterRun } from "./tree-model-filter.ts";
import {
  ABSENT,
  ALL_KEYS,
  answerOfList,
  answerOfPairs,
  BUFFER_PREFIX_CHANCE,
  BULK_KEY_COUNT,
  BULK_KEYS,
  bulkKey,
  bytes,
  COUNTER_KEYS,
  COUNTER_SET,
  counterBytes,
  describeMismatch,
  describeQuery,
  HOT_KEYS,
  KEYS,
  latin1,
  lend,
  oracleAnswer,
  PREFIXES,
  REMOVE_PREFIXES,
  scribbled,
  treeAnswer,
  valueBytes,
  type Answer,
  type Bounds,
  type ModelConfig,
  type Query,
  type Snap,
} from "./tree-model-support.ts";

// ---- what a configuration may add: its tree and its own checks ------------------------------------

/** What the model tells a target's {@link ModelTarget.afterOp} about an operation just applied. */
export interface OpInfo {
  /** Background jobs in flight when the operation began, and when it returned. */
  readonly jobsBefore: number;
  readonly jobsAfter: number;
  /** A foreground compaction step's (leveled, sizeTiered, major) result. */
  readonly compaction?: CompactionResult;
}

/**
 * How a configuration's tree is opened, and what it checks beyond the reads the model compares (the
 * blob tree model test's BlobTree and blob file checks). Hooks are synchronous: they give background
 * jobs no extra turn to run in. A hook that throws fails the run like an engine error: shrunk while it
 * fails with the same message (numbers aside), or with the same check for a {@link CheckFailure}. Hooks
 * may keep counts in `model.stats.custom`, which {@link runConfig} sums over the seeds.
 */
export interface ModelTarget {
  /** Opens the tree, first and after every reopen, from the options the model would give `Tree.open`. */
  open(options: TreeOptions): Promise<Tree>;
  /** The test file a failure report tells to rerun, and where it tells to keep the shrunk sequence (relative to the package). */
  readonly testFile: string;
  readonly regressionsFile: string;
  /** Before an operation is applied. */
  beforeOp?(model: Model, op: ModelOp): void;
  /** After an operation was applied (a reopen: with the tree open again), before its reads are checked. */
  afterOp?(model: Model, op: ModelOp, info: OpInfo): void;
  /** Right before the tree closes (a reopen, or the end of a run); background jobs may be in flight. */
  beforeClose?(model: Model): void;
  /** Right after it closed and every background job settled, before it opens again. */
  afterClose?(model: Model): void;
}

/**
 * What a target's hook throws when one of its checks fails: shrinking keeps a sequence that fails the
 * same `check` (the message, with its details, may change as operations go).
 */
export class CheckFailure extends Error {
  override readonly name = "CheckFailure";
  readonly check: string;

  constructor(check: string, message: string) {
    super(message);
    this.check = check;
  }
}

/** The plain tree of the lsm-core model test. */
export const PLAIN_TREE: ModelTarget = { open: (options) => Tree.open(options), testFile: "test/tree-model.test.ts", regressionsFile: "test/model-regressions.ts" };

// ---- running a sequence ---------------------------------------------------------------------------

export type Failure =
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
export interface Stats {
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
  /** Ingestions finished with at least one entry, their entries, empty ones and aborted ones. */
  ingestions: number;
  ingested: number;
  emptyIngestions: number;
  abortedIngestions: number;
  /** Compactions that ran the model's compaction filter, and the verdicts other than keep, by kind. */
  filterRuns: number;
  verdicts: Record<string, number>;
  /** Counts a configuration's target keeps (ModelTarget hooks). */
  custom: Record<string, number>;
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
  ingestions: 0,
  ingested: 0,
  emptyIngestions: 0,
  abortedIngestions: 0,
  filterRuns: 0,
  verdicts: {},
  custom: {},
});

/** A tree, its oracle, and what the model needs to know about the run so far. */
export class Model {
  readonly config: ModelConfig;
  readonly fs: Fs;
  readonly path: string;
  readonly seqno = new SequenceNumberCounter();
  readonly oracle: MvccOracle;
  /** Every version with a seqno below this was written before a flush: it survives a reopen. */
  flushedBelow = 0;
  /** Whether the close under way flushes the memtables (a clean close) rather than discarding them. */
  closingClean = false;
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
  /** The compaction filter the tree runs with (configurations with `filter`). */
  readonly filter: ModelFilter | undefined;
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
    this.filter = config.filter === undefined ? undefined : new ModelFilter(config.filter, this.oracle, config.counters);
  }

  static async create(config: ModelConfig): Promise<Model> {
    let model: Model;
    if (config.fs === "std") {
      // A fresh temp directory per run, removed as soon as the run ends.
      const dir = makeTempDir("model");
      model = new Model(config, new StdFs(), `${dir.path}/db`, () => dir.remove());
    } else if (config.fs === "iouring") {
      // As "std", through a ring of its own, stopped when the run ends.
      const dir = makeTempDir("model-iouring");
      const fs = new IoUringFs();
      model = new Model(config, fs, `${dir.path}/db`, () => {
        fs.close();
        dir.remove();
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

  /** How the configuration's tree is opened and checked. */
  get target(): ModelTarget {
    return this.config.target ?? PLAIN_TREE;
  }

  #open(): Promise<Tree> {
    return this.target.open({
      ...this.config.tree,
      ...(this.config.counters ? { mergeOperator: counterMerge } : {}),
      ...(this.filter === undefined ? {} : { compactionFilter: this.filter.filter }),
      path: this.path,
      fs: this.fs,
      seqno: this.seqno,
    });
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
    const target = this.target;
    const jobsBefore = this.#jobs.size;
    target.beforeOp?.(this, op);
    /** A foreground compaction step's result. */
    let compaction: CompactionResult | undefined;
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
        const filter = this.filter;
        // With a filter, the model must know the seqno the compaction installs at: nothing else may run.
        if (filter !== undefined && (op.background === true || this.#jobs.size > 0)) return "invalid";
        filter?.begin();
        let job: Promise<CompactionResult>;
        try {
          job =
            op.op === "leveled"
              ? tree.compact(new Leveled(config.leveled), w)
              : op.op === "sizeTiered"
                ? tree.compact(new SizeTiered(config.sizeTiered), w)
                : tree.majorCompact(config.majorTarget, w);
        } catch (error) {
          filter?.end();
          throw error;
        }
        if (op.background === true) {
          this.#background(job.then((result) => this.#count(result.action)));
          break;
        }
        let result: CompactionResult;
        try {
          result = await job;
        } catch (error) {
          filter?.end();
          throw error;
        }
        if (filter !== undefined) this.#filtered(op, result, filter.end());
        this.#count(result.action);
        compaction = result;
        break;
      }
      case "ingest": {
        const outcome = await this.#ingest(op);
        if (outcome !== undefined) return outcome;
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
        this.closingClean = op.clean === true;
        target.beforeClose?.(this);
        const below = seqno.get();
        await tree.close(op.clean === true ? undefined : { discard: true });
        this.#tree = undefined;
        await this.settle();
        // A clean close flushes the memtables (into tables); a journal keeps what a discarding close
        // drops (back in the memtable after the reopen, not in tables): either way nothing is lost.
        if (op.clean === true) this.flushedBelow = Math.max(this.flushedBelow, below);
        const journaled = this.config.tree.journal !== undefined && this.config.tree.journal !== false;
        target.afterClose?.(this);
        this.#tree = await this.#open();
        const kept = journaled ? Number.POSITIVE_INFINITY : this.flushedBelow;
        oracle.retainOnly((v) => v.seqno < kept);
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
    const filterError = this.filter?.takeError();
    if (filterError !== undefined) throw new Error(filterError);
    target.afterOp?.(this, op, { jobsBefore, jobsAfter: this.#jobs.size, ...(compaction === undefined ? {} : { compaction }) });
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

  /**
   * After a foreground compaction step in a configuration with a filter: checks what the filter was
   * asked (it ran if and only if the step merged; a major compaction is at the last level and showed it
   * every version it must have), then lets the oracle apply the same verdicts from the seqno the step
   * installed at, the newest one taken.
   */
  #filtered(op: ModelOp, result: CompactionResult, run: FilterRun | undefined): void {
    const { oracle } = this;
    const filter = this.filter as ModelFilter;
    const error = filter.takeError();
    if (error !== undefined) throw new Error(error);
    if (run === undefined) {
      if (result.action === "merged") throw new Error("compaction filter: a merge compaction made no filter");
      return;
    }
    if (result.action !== "merged") throw new Error(`compaction filter: a filter was made, but the compaction step ${result.action}`);
    if (!run.finished) throw new Error("compaction filter: finish() was not called after a completed compaction");
    if (op.op === "major") {
      if (!run.isLastLevel) throw new Error("compaction filter: a major compaction's filter was told it is not at the last level");
      const missed = missedByMajor(run, oracle, this.flushedBelow, filter.mode, this.config.counters);
      if (missed !== undefined) throw new Error(`compaction filter: a major compaction never asked about ${missed}`);
    }
    const stamp = this.seqno.get() - 1;
    const changed = oracle.filterAt(stamp, (v) => run.changes.get(versionId(v.key, v.seqno)) ?? "keep");
    if (changed !== run.changes.size) throw new Error(`compaction filter: ${run.changes.size} verdicts, but ${changed} versions of the oracle changed`);
    this.stats.filterRuns++;
    for (const verdict of run.changes.values()) {
      const kind = typeof verdict === "string" ? verdict : "replace";
      this.stats.verdicts[kind] = (this.stats.verdicts[kind] ?? 0) + 1;
    }
  }

  /**
   * An `ingest` op: the entries in key order through `tree.ingestion()` (a repeated key must be refused),
   * then `finish()` (or `abort()`); the oracle gets them at the ingestion's seqno G. With no background
   * job, G is the newest seqno taken; otherwise a background compaction may have taken one after it,
   * and G is read from the ingested tables' global seqno.
   */
  async #ingest(op: Extract<ModelOp, { op: "ingest" }>): Promise<"invalid" | undefined> {
    const { tree, oracle, seqno } = this;
    const compare = oracle.compare;
    const between = op.between ?? [];
    if (this.config.watermark) {
      for (const e of op.entries) {
        if (e.op === "removeWeak" && (!this.weakRemoveIsSafe(e.key) || between.some((b) => b.key === e.key))) return "invalid";
      }
    }
    // Stable: of two entries with one key, the first is written and the second refused.
    const sorted = [...op.entries].sort((a, b) => compare(bytes(a.key), bytes(b.key)));
    const ingestion = tree.ingestion();
    const written: OracleIngestEntry[] = [];
    const writeBetween = (): void => {
      for (const b of between) {
        const s = seqno.next();
        const value = this.valueOf(b.key, b.value, b.pad);
        lend(bytes(b.key), (k) => lend(value, (v) => tree.insert(k, v, s)));
        oracle.insert(bytes(b.key), value, s);
      }
    };
    for (let i = 0; i < sorted.length; i++) {
      if (i === sorted.length >> 1) writeBetween();
      const e = sorted[i] as IngestEntry;
      const key = bytes(e.key);
      const value = e.op === "insert" ? this.valueOf(e.key, e.value, e.pad) : undefined;
      const repeated = written.length > 0 && compare((written[written.length - 1] as OracleIngestEntry).key, key) === 0;
      try {
        // The caller's buffers are overwritten right after each call: the ingestion must copy them.
        lend(key, (k) => (value !== undefined ? lend(value, (v) => ingestion.write(k, v)) : e.op === "remove" ? ingestion.writeTombstone(k) : ingestion.writeWeakTombstone(k)));
      } catch (error) {
        if (repeated && error instanceof RangeError) continue;
        throw error;
      }
      if (repeated) throw new Error(`the ingestion accepted key ${JSON.stringify(e.key)} twice`);
      written.push(value !== undefined ? { kind: "value", key, value } : { kind: e.op === "remove" ? "tombstone" : "weakTombstone", key });
    }
    if (sorted.length === 0) writeBetween();
    if (ingestion.entries !== written.length) throw new Error(`the ingestion counts ${ingestion.entries} entries, ${written.length} were written`);
    if (op.abort === true) {
      await ingestion.abort();
      let thrown: unknown;
      try {
        await ingestion.finish();
      } catch (error) {
        thrown = error;
      }
      if (!(thrown instanceof LsmError && thrown.code === "CLOSED")) throw new Error(`finish() after abort() should reject with CLOSED, got ${thrown === undefined ? "success" : String(thrown)}`);
      this.stats.abortedIngestions++;
      return undefined;
    }
    const before = seqno.get();
    const concurrent = this.#jobs.size > 0;
    const result = await ingestion.finish();
    // finish() flushed every memtable first.
    this.flushedBelow = Math.max(this.flushedBelow, before);
    if (written.length === 0) {
      if (result.tables !== 0 || result.entries !== 0) throw new Error(`an empty ingestion installed ${JSON.stringify(result)}`);
      this.stats.emptyIngestions++;
      return undefined;
    }
    if (result.entries !== written.length || result.tables < 1) throw new Error(`an ingestion of ${written.length} entries installed ${JSON.stringify(result)}`);
    const globals = [...tree.currentVersion().tables()].map((t) => t.globalSeqno);
    const newest = Math.max(0, ...globals);
    const g = concurrent ? newest : seqno.get() - 1;
    const tables = globals.filter((x) => x === g).length;
    if (g < before || g >= seqno.get() || (g > 0 && (newest !== g || tables !== result.tables))) {
      throw new Error(`ingestion seqno ${g} (counter ${before} before finish(), ${seqno.get()} after): the newest ingested table has global seqno ${newest}, ${tables} tables have it, finish() reported ${result.tables}`);
    }
    oracle.ingest(written, g);
    this.writeSeqnoOf.set(op, g);
    this.flushedBelow = Math.max(this.flushedBelow, g + 1);
    this.stats.ingestions++;
    this.stats.ingested += written.length;
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

  /** Closes the tree at the end of a run (with the target's hooks around it). */
  async close(): Promise<void> {
    const target = this.target;
    this.closingClean = true;
    target.beforeClose?.(this);
    await this.tree.close();
    this.#tree = undefined;
    await this.settle();
    target.afterClose?.(this);
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
    case "ingest":
      return [...op.entries.map((e) => e.key), ...(op.between ?? []).map((b) => b.key)];
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
  if (error instanceof CheckFailure) return `check:${error.check}`;
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
    await model.close();
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
    // A range tombstone, batch or ingestion just written: the seqno it took (where reads must not see it) too.
    if (model.writeSeqnoOf.has(op)) snaps.push({ kind: "at", op });
    const ingested = op.op === "ingest" && model.writeSeqnoOf.has(op);
    if (ingested) snaps.push({ kind: "before", op });
    const structural = !WRITES.has(op.op);
    if (step % 10 === 9 || ingested || (structural && rng.chance(0.3))) {
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
  // Below and at every range tombstone's and ingestion's seqno (above it is the "after" snapshot).
  for (const op of new Set([...model.rangeOps.map((rt) => rt.op), ...model.ops.filter((o) => o.op === "ingest")])) snaps.push({ kind: "before", op }, { kind: "at", op });
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
  /** The doomed value prefixes of the configuration's compaction filter (set on every call; none without one). */
  let doom: readonly string[] = [];
  /** The configuration's large values (set on every call), see ModelConfig.largeValues. */
  let large: ModelConfig["largeValues"];
  /** A counter key, the first two hot. */
  const counterKey = (): string => (rng.chance(0.6) ? (COUNTER_KEYS[rng.int(2)] as string) : rng.pick(COUNTER_KEYS));
  /** A key to merge: a counter key in counter configurations, any key otherwise. */
  const mergeKey = (): string => (counters ? counterKey() : pickKey());
  /** A small le64 increment (counters) or raw operand bytes. */
  const mergeValue = (prefix: string, step: number, maxPad: number, doomable = true): { value: string; pad?: number } =>
    counters ? { value: String(rng.chance(0.1) ? rng.range(-1000, 1000) : rng.range(-3, 10)) } : value(prefix, step, maxPad, doomable);
  const pickKey = (): string => {
    if (counters && rng.chance(0.08)) return counterKey();
    const r = rng.float();
    if (r < 0.5) return KEYS[rng.int(HOT_KEYS)] as string;
    if (r < 0.65) return rng.pick(BULK_KEYS);
    return rng.pick(KEYS);
  };
  /** A value; with a compaction filter, sometimes a doomed one (unless not `doomable`). */
  const value = (prefix: string, step: number, maxPad: number, doomable = true): { value: string; pad?: number } => {
    if (doomable && doom.length > 0 && rng.chance(0.15)) prefix = `${rng.pick(doom)}${prefix}`;
    // (Only configurations with large values draw for them: the others' sequences stay as they were.)
    if (large !== undefined && rng.chance(large.chance)) return { value: `${prefix}${step}`, pad: rng.range(large.minPad, maxPad) };
    const r = rng.float();
    if (r < 0.05) return { value: "" };
    if (r < 0.7) return { value: `${prefix}${step}` };
    return { value: `${prefix}${step}`, pad: rng.chance(0.7) ? rng.int(40) : rng.int(maxPad + 1) };
  };
  const background = (): { background?: boolean } => (doom.length === 0 && rng.chance(0.3) ? { background: true } : {});
  /** A compaction step; with a compaction filter only in the foreground and with no job in flight (a settle first). */
  const compaction = (model: Model, op: "leveled" | "sizeTiered" | "major"): ModelOp =>
    model.filter !== undefined && model.backgroundJobs > 0 ? { op: "settle" } : { op, ...background() };
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
    // (A batch may merge a key twice, into one version the filter sees as two operands: never doomed.)
    if (r < 0.8) return { op: "merge", key: mergeKey(), ...mergeValue(`n${i}.`, step, model.config.maxPad, false) };
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
        ops.push(b.op === "insert" ? { op: b.op, key: b.key, ...value(`x${i}.`, step, model.config.maxPad) } : b.op === "merge" ? { op: b.op, key: b.key, ...mergeValue(`x${i}.`, step, model.config.maxPad, false) } : b);
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
  /**
   * A bulk ingestion of distinct keys (a few, or a run of bulk keys), mostly values; sometimes a key
   * given twice (to be refused), inserts while it is open, or an abort.
   */
  const ingest = (model: Model, step: number): ModelOp => {
    const r = rng.float();
    const count = r < 0.06 ? 0 : r < 0.8 ? rng.range(1, 12) : rng.range(20, 80);
    const keys = new Set<string>();
    if (count >= 20) {
      const from = rng.int(BULK_KEY_COUNT);
      const stride = rng.pick([1, 1, 3]);
      for (let i = 0; i < count; i++) keys.add(bulkKey(from + i * stride));
    }
    for (let i = 0; keys.size < count && i < count * 4; i++) keys.add(pickKey());
    const between = rng.chance(0.15) ? Array.from({ length: rng.range(1, 3) }, () => ({ key: pickKey(), ...value("y", step, model.config.maxPad) })) : [];
    const entries: IngestEntry[] = [];
    for (const key of keys) {
      const k = rng.float();
      if (k < 0.8) entries.push({ op: "insert", key, ...value("i", step, model.config.maxPad) });
      else if (k < 0.92 || between.some((b) => b.key === key) || !model.weakRemoveIsSafe(key)) entries.push({ op: "remove", key });
      else entries.push({ op: "removeWeak", key });
    }
    // A key again (listed last, so refused: the model writes the first of equal keys).
    if (entries.length > 0 && rng.chance(0.1)) entries.push({ op: "insert", key: rng.pick(entries).key, ...value("d", step, model.config.maxPad) });
    return { op: "ingest", entries, ...(between.length > 0 ? { between } : {}), ...(rng.chance(0.08) ? { abort: true } : {}) };
  };
  return (model, step) => {
    if (step >= steps) return undefined;
    const { config } = model;
    counters = config.counters;
    doom = config.filter === undefined ? [] : DOOM_PREFIXES[config.filter];
    large = config.largeValues;
    /** An operation's weight: the configuration's, else `base`. */
    const w = (op: ModelOp["op"], base: number): number => config.weights?.[op] ?? base;
    const table: Array<[number, () => ModelOp | undefined]> = [
      [w("insert", 30), () => ({ op: "insert", key: pickKey(), ...value("v", step, config.maxPad) })],
      [
        w("fill", 6),
        () => ({
          op: "fill",
          from: rng.int(BULK_KEY_COUNT),
          count: rng.range(5, 30),
          stride: rng.pick([1, 1, 1, 3, 7]),
          ...value("f", step, config.maxPad),
          ...(rng.chance(0.3) ? { shared: true } : {}),
        }),
      ],
      [w("remove", 8), () => ({ op: "remove", key: pickKey() })],
      [
        w("removeWeak", 5),
        () => {
          for (let i = 0; i < 6; i++) {
            const key = pickKey();
            if (model.weakRemoveIsSafe(key)) return { op: "removeWeak", key };
          }
          return undefined;
        },
      ],
      [w("merge", config.counters ? 10 : 4), () => ({ op: "merge", key: mergeKey(), ...mergeValue("m", step, config.maxPad) })],
      [w("removeRange", 4), () => ({ op: "removeRange", ...rangeBounds(model) })],
      // Under a custom comparator removePrefix must throw TypeError (rarely tried).
      [model.bytewise ? w("removePrefix", 1.5) : 0.2, () => ({ op: "removePrefix", prefix: rng.pick(REMOVE_PREFIXES) })],
      [w("batch", 4), () => batch(model, step)],
      [w("rotate", 3), () => ({ op: "rotate" })],
      [w("flush", 9), () => (rng.chance(0.3) && !model.pendingFlush ? { op: "flush", background: true } : { op: "flush" })],
      [w("ingest", 3), () => ingest(model, step)],
      [w("leveled", 8), () => compaction(model, "leveled")],
      [w("sizeTiered", 4), () => compaction(model, "sizeTiered")],
      [w("major", 1.5), () => compaction(model, "major")],
      [model.backgroundJobs > 0 ? w("settle", 3) : 0, () => ({ op: "settle" })],
      [model.backgroundJobs > 0 ? w("tick", 3) : 0, () => ({ op: "tick" })],
      [w("reopen", 1), () => (rng.chance(0.5) ? { op: "reopen", clean: true } : { op: "reopen" })],
      [w("clear", 0.2), () => ({ op: "clear" })],
      [w("dropAll", 0.3), () => ({ op: "dropAll" })],
      [w("hold", 2), () => (model.held.length < 3 ? { op: "hold", take: rng.int(4), ...(rng.chance(0.3) ? { reverse: true } : {}) } : undefined)],
      [w("drain", 2), () => (model.held.length > 0 ? { op: "drain" } : undefined)],
      [config.watermark ? w("watermark", 4) : 0, () => ({ op: "watermark", back: rng.int(40) })],
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
    if (op.op === "ingest") {
      // Entries in shrinking chunks, then the inserts in between, then filler.
      for (let chunk = Math.max(1, op.entries.length >> 1); ; chunk >>= 1) {
        for (let end: number = op.entries.length; end > 0 && Date.now() < deadline; ) {
          const start = Math.max(0, end - chunk);
          const smaller: ModelOp = { ...op, entries: [...op.entries.slice(0, start), ...op.entries.slice(end)] };
          if (await replace(i, smaller)) op = smaller;
          end = start;
        }
        if (chunk <= 1) break;
      }
      if (op.op === "ingest" && op.between !== undefined && Date.now() < deadline) {
        const { between: _between, ...plain } = op;
        if (await replace(i, plain)) op = plain;
      }
      if (op.op === "ingest" && op.entries.some((e) => "pad" in e) && Date.now() < deadline) {
        await replace(i, { ...op, entries: op.entries.map((e) => (e.op === "insert" ? { op: e.op, key: e.key, value: e.value } : e)) });
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
  const target = config.target ?? PLAIN_TREE;
  return [
    `model test "${config.name}" failed with seed ${seed} at step ${failure.step} of ${ops.length}:`,
    failure.message,
    `(the whole run again: TALUS_MODEL_CONFIG=${config.name} TALUS_MODEL_SEED=${seed} TALUS_MODEL_SEEDS=1 TALUS_MODEL_STEPS=${STEPS ?? config.steps} npx vitest run ${target.testFile})`,
    "",
    `shrunk to ${shrunk.ops.length} operations (${shrunk.tries} replays${shrunk.complete ? "" : ", shrinking stopped early"}), failing with:`,
    shrunk.failure.message,
    "",
    `keep it in ${target.regressionsFile}:`,
    `  { name: "${config.name} seed ${seed}", config: "${config.name}", ops: [`,
    formatOps(shrunk.ops),
    "  ] },",
  ].join("\n");
}

// ---- running configurations -----------------------------------------------------------------------

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/** TALUS_MODEL_SEEDS, TALUS_MODEL_STEPS: undefined for a configuration's defaults. */
export const SEEDS = envInt("TALUS_MODEL_SEEDS");
export const STEPS = envInt("TALUS_MODEL_STEPS");
const FIRST_SEED = envInt("TALUS_MODEL_SEED") ?? 1;
/** TALUS_MODEL_CONFIG: run only configurations whose name contains it. */
export const ONLY = process.env["TALUS_MODEL_CONFIG"];
/** Whether a configuration runs with the default seeds and steps (then it must exercise what it is there for). */
export const DEFAULT_RUN = SEEDS === undefined && STEPS === undefined;
const SHRINK_BUDGET_MS = 120_000;
/** A test timeout for model runs (shrinking a failure takes long). */
export const LONG = 30 * 60_000;

/** Whether TALUS_MODEL_CONFIG leaves `config` out, or it runs on IoUringFs and io_uring is unavailable here. */
export const skipped = (config: ModelConfig): boolean => (ONLY !== undefined && !config.name.includes(ONLY)) || unavailableReason(config) !== undefined;

/** Why `config` cannot run on this machine (an IoUringFs configuration without io_uring), or undefined. */
export function unavailableReason(config: ModelConfig): string | undefined {
  return config.fs === "iouring" && IOURING_UNAVAILABLE !== undefined ? `io_uring is unavailable: ${IOURING_UNAVAILABLE}` : undefined;
}

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** What the runs of one configuration exercised, summed over its seeds. */
export interface ConfigTotals {
  readonly runs: number;
  ingestions: number;
  filterRuns: number;
  readonly verdicts: Set<string>;
  /** The targets' counts (Stats.custom), summed. */
  readonly custom: Record<string, number>;
}

/**
 * Runs `config` with its seeds (or TALUS_MODEL_SEEDS from TALUS_MODEL_SEED) and steps; a failure is
 * shrunk and thrown, printed for the regression list. With the default seeds and steps, asserts that the
 * runs exercised what every configuration must (ingestions; a filter's verdicts). Returns the totals.
 */
export async function runConfig(config: ModelConfig): Promise<ConfigTotals> {
  const seeds = SEEDS ?? config.seeds;
  const steps = STEPS ?? config.steps;
  const totals: ConfigTotals = { runs: 0, ingestions: 0, filterRuns: 0, verdicts: new Set<string>(), custom: {} };
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
    (totals as { runs: number }).runs++;
    totals.ingestions += result.stats.ingestions;
    totals.filterRuns += result.stats.filterRuns;
    for (const kind of Object.keys(result.stats.verdicts)) totals.verdicts.add(kind);
    for (const [name, n] of Object.entries(result.stats.custom)) totals.custom[name] = (totals.custom[name] ?? 0) + n;
  }
  // With the default seeds and steps, every configuration must have exercised what it is there for.
  if (DEFAULT_RUN) {
    expect(totals.ingestions, "ingestions with entries").toBeGreaterThan(0);
    if (config.filter !== undefined) {
      expect(totals.filterRuns, "compactions through the filter").toBeGreaterThan(0);
      expect([...totals.verdicts].sort(), "verdicts applied").toEqual(config.filter === "all" ? ["destroy", "remove", "removeWeak", "replace"] : ["remove", "replace"]);
    }
  }
  return totals;
}

/** Replays a kept sequence on its configuration (looked up in `configs`) with exhaustive checks. */
export async function replayRegression(case_: ModelRegression, configs: ReadonlyMap<string, ModelConfig>): Promise<void> {
  const config = configs.get(case_.config);
  if (config === undefined) throw new Error(`unknown configuration ${case_.config}`);
  const result = await run(config, replay(case_.ops), exhaustiveChecker, exhaustiveFinal);
  expect(result.invalid, "the sequence uses removeWeak where the configuration forbids it").toBe(false);
  if (result.failure !== undefined) {
    throw new Error(`regression "${case_.name}" (${case_.config}) fails at step ${result.failure.step}:\n${result.failure.message}\n\nops:\n${formatOps(case_.ops)}`);
  }
  expect(result.ops).toHaveLength(case_.ops.length);
}

/** A hand-written sequence through every operation kind (replayed on every configuration). */
export const EVERY_OPERATION: readonly ModelOp[] = [
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
  // Doomed values (filtered in the "filter-" configurations, plain values elsewhere) and ingestions.
  { op: "insert", key: "k07", value: "Xrgone" },
  { op: "insert", key: "k08", value: "Xpreplaced" },
  { op: "insert", key: "k09", value: "Xdold" },
  { op: "insert", key: "k09", value: "Xdnew" },
  { op: "insert", key: "k10", value: "Xqtwice" },
  { op: "insert", key: "k11", value: "Xwweak" },
  { op: "insert", key: "k12", value: "Xllast" },
  {
    op: "ingest",
    entries: [
      { op: "insert", key: "k05", value: "i1", pad: 50 },
      { op: "remove", key: "k07" },
      { op: "insert", key: "k05", value: "refused" },
      { op: "removeWeak", key: "k13" },
      { op: "insert", key: "k14", value: "Xrin" },
      { op: "insert", key: "\u0000", value: "first" },
    ],
    between: [{ key: "k06", value: "y1" }],
  },
  { op: "ingest", entries: [{ op: "insert", key: "k15", value: "never" }], abort: true },
  { op: "ingest", entries: [] },
  { op: "leveled" },
  { op: "major" },
  { op: "major" },
  { op: "reopen" },
  { op: "dropAll" },
  { op: "insert", key: "a", value: "3" },
  { op: "flush" },
  { op: "clear" },
  { op: "insert", key: "z", value: "4" },
  { op: "flush" },
  { op: "reopen" },
];
