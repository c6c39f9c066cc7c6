/**
 * Automatic maintenance (`Tree.open({ maintenance })`): the tree flushes its memtable when it grows past
 * `memtableBytes` and compacts with its strategy until there is nothing left to do, so a user's write
 * loop needs no flush trigger, compaction loop or write stall of its own.
 *
 * Two background tasks, each one at a time: the flusher (flushes every sealed memtable, then wakes the
 * compactor) and the compactor (compaction steps until the strategy has nothing to do: one compaction
 * at a time, so at most one per level pair). Both are tracked jobs of the tree, so `close()` waits for
 * them; both stop taking new work once `close()` has begun.
 *
 * Backpressure, the Node way: writes never block. `writeStall` turns true when the sealed memtables or
 * L0 pile up past their thresholds, and `drained()` resolves once the pile has gone down again (L0 below
 * `l0SlowdownRuns`, no sealed memtable waiting): a writer that waits for it when `writeStall` is true, as
 * it would for a stream's `'drain'`, keeps the tree's memory bounded.
 *
 * @module
 */
import { LsmError } from "../errors.ts";
import { Leveled, type CompactionStrategy } from "../compaction/strategies/index.ts";
import type { CompactionResult } from "./jobs.ts";
import type { TreeState } from "./tree-state.ts";

/** What `maintenance` accepts besides `true` (every field optional). */
export interface MaintenanceOptions {
  /** The active memtable is sealed and flushed once it holds this many bytes (default 64 MiB). */
  readonly memtableBytes?: number;
  /** Chooses the compactions (default `new Leveled()`). */
  readonly strategy?: CompactionStrategy;
  /** `drained()` waits until L0 has fewer sorted runs than this (default 8). */
  readonly l0SlowdownRuns?: number;
  /** `writeStall` turns true when L0 has this many sorted runs (default 12). */
  readonly l0StopRuns?: number;
}

export interface ResolvedMaintenance {
  readonly memtableBytes: number;
  readonly strategy: CompactionStrategy;
  readonly l0SlowdownRuns: number;
  readonly l0StopRuns: number;
}

export const DEFAULT_MEMTABLE_BYTES = 64 * 1024 * 1024;
/** Sealed memtables at which writers are asked to wait: one being flushed, one more waiting. */
const STALL_SEALED_MEMTABLES = 2;

/** `maintenance` resolved, or undefined when it is off. */
export function resolveMaintenance(option: boolean | MaintenanceOptions | undefined): ResolvedMaintenance | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== "object" || option === null)) throw new TypeError(`maintenance must be true, false or an options object, got ${String(option)}`);
  const o: MaintenanceOptions = option === true ? {} : option;
  const integer = (name: string, value: number | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) throw new RangeError(`maintenance.${name} must be an integer >= ${min}, got ${String(value)}`);
    return value;
  };
  const strategy = o.strategy ?? new Leveled();
  if (typeof strategy?.choose !== "function") throw new TypeError("maintenance.strategy must be a compaction strategy (Leveled, SizeTiered, Fifo)");
  const l0SlowdownRuns = integer("l0SlowdownRuns", o.l0SlowdownRuns, 8, 1);
  const l0StopRuns = integer("l0StopRuns", o.l0StopRuns, Math.max(12, l0SlowdownRuns), 1);
  if (l0StopRuns < l0SlowdownRuns) throw new RangeError(`maintenance.l0StopRuns (${l0StopRuns}) must be at least l0SlowdownRuns (${l0SlowdownRuns})`);
  return { memtableBytes: integer("memtableBytes", o.memtableBytes, DEFAULT_MEMTABLE_BYTES, 1), strategy, l0SlowdownRuns, l0StopRuns };
}

/** What the maintenance asks of the tree. */
export interface MaintainedTree {
  readonly state: TreeState;
  /** The GC watermark: the oldest live snapshot, or the visible seqno when none is held. */
  watermark(): number;
  /** Flushes every sealed memtable (a job already accepted). */
  flush(watermark: number): Promise<number>;
  /** One compaction step (a job already accepted). */
  compactStep(strategy: CompactionStrategy, watermark: number): Promise<CompactionResult>;
}

export class Maintenance {
  readonly options: ResolvedMaintenance;
  readonly #tree: MaintainedTree;
  #flusher: Promise<void> | undefined;
  #compactor: Promise<void> | undefined;
  /** Set when a new flush is wanted while the flusher runs (it loops once more). */
  #compactAgain = false;
  /** The first background failure since the last `settle()`/`drained()` reported one. */
  #failure: { readonly error: unknown } | undefined;
  /** Writers waiting in `drained()`. */
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(tree: MaintainedTree, options: ResolvedMaintenance) {
    this.#tree = tree;
    this.options = options;
  }

  /**
   * After every write: seals the active memtable once it holds `memtableBytes` (at the write, so the
   * next write goes to a fresh one) and starts a flush. `size` is the active memtable's size.
   */
  afterWrite(size: number): void {
    if (size < this.options.memtableBytes) return;
    const state = this.#tree.state;
    if (state.rotate()) this.#startFlusher();
  }

  /** Whether writers should wait for {@link drained} before writing more. */
  get writeStall(): boolean {
    const latest = this.#tree.state.latest;
    return latest.sealed.length >= STALL_SEALED_MEMTABLES || latest.version.l0RunCount >= this.options.l0StopRuns;
  }

  /** Whether the pile-up that stalled writers has gone: nothing sealed waits, L0 is below the slowdown mark. */
  #isDrained(): boolean {
    const latest = this.#tree.state.latest;
    return latest.sealed.length === 0 && latest.version.l0RunCount < this.options.l0SlowdownRuns;
  }

  /**
   * Resolves once the sealed memtables are flushed and L0 is below `l0SlowdownRuns`; at once when it
   * already is. Rejects with a background flush's or compaction's error.
   */
  drained(): Promise<void> {
    const failure = this.#takeFailure();
    if (failure !== undefined) return Promise.reject(failure.error);
    if (this.#isDrained()) return Promise.resolve();
    // Both: the pile-up may be L0 runs alone (left by an earlier session), which only compaction clears.
    this.#startFlusher();
    this.#startCompactor();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Resolves when no flush or compaction is pending or running (the strategy has nothing to do).
   * Rejects with the first background error since the last report.
   */
  async settle(): Promise<void> {
    for (;;) {
      const running = [this.#flusher, this.#compactor].filter((p): p is Promise<void> => p !== undefined);
      if (running.length === 0) {
        if (this.#tree.state.latest.sealed.length > 0 && !this.#tree.state.closing) {
          this.#startFlusher();
          continue;
        }
        break;
      }
      await Promise.all(running);
    }
    const failure = this.#takeFailure();
    if (failure !== undefined) throw failure.error;
  }

  #startFlusher(): void {
    if (this.#flusher !== undefined || this.#tree.state.closing) return;
    const state = this.#tree.state;
    const run = async (): Promise<void> => {
      // Never settle synchronously: the field is set after run() returns, and a finally that ran
      // before that would leave a settled promise in it for good (no flush would ever start again).
      await null;
      try {
        while (state.latest.sealed.length > 0 && !state.closing) {
          await this.#tree.flush(this.#tree.watermark());
          this.#startCompactor();
          this.#wakeDrained();
        }
      } catch (error) {
        this.#fail(error);
      } finally {
        this.#flusher = undefined;
      }
    };
    this.#flusher = state.track(run());
  }

  #startCompactor(): void {
    if (this.#compactor !== undefined) {
      this.#compactAgain = true;
      return;
    }
    const state = this.#tree.state;
    if (state.closing) return;
    const run = async (): Promise<void> => {
      await null; // as in #startFlusher
      try {
        do {
          this.#compactAgain = false;
          while (!state.closing) {
            const result = await this.#tree.compactStep(this.options.strategy, this.#tree.watermark());
            this.#wakeDrained();
            if (result.action === "nothing") break;
          }
        } while (this.#compactAgain && !state.closing);
      } catch (error) {
        this.#fail(error);
      } finally {
        this.#compactor = undefined;
        this.#wakeDrained();
      }
    };
    this.#compactor = state.track(run());
  }

  /**
   * At open: compaction work an earlier session left (L0 runs piled up by clean closes, say) starts
   * now rather than after the first flush.
   */
  start(): void {
    this.#startCompactor();
  }

  /** At close: writers waiting for a drain are let go (their next write fails with `CLOSED`). */
  stop(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #wakeDrained(): void {
    if (this.#drainWaiters.length === 0 || !this.#isDrained()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #fail(error: unknown): void {
    if (this.#tree.state.closed || (error instanceof LsmError && error.code === "CLOSED")) return;
    this.#failure ??= { error };
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    if (waiters.length > 0) this.#failure = undefined;
    for (const waiter of waiters) waiter.reject(error);
  }

  #takeFailure(): { readonly error: unknown } | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }
}
