/**
 * Cooperative time slicing for the engine's background work (flush, compaction, table finishing), so
 * that the host's event loop keeps turning while it runs.
 *
 * Every job holds a {@link Slice}. It does its work in small pieces, asks the slice between pieces, and
 * when the slice is spent awaits {@link Slice.pause}, which resumes on a later event-loop turn (after
 * pending I/O callbacks and timers have run). All jobs that paused resume together in one turn and
 * split one budget of {@link TURN_BUDGET_MS} evenly: each gets its share from the moment it resumes. So
 * the engine adds about one budget to a turn however many jobs or trees run, and no job starves
 * another (a long compaction cannot hold up a short flush).
 *
 * A job that starts or resumes some other way (from the host's code, after an awaited fsync) has no
 * share yet: it pauses at its first check and gets one on the next turn.
 *
 * @module
 */

/**
 * The engine's budget per event-loop turn, in milliseconds. Small enough that a turn stays well under
 * 10 ms with the host's own work in it; large enough that the cost of pausing (a few microseconds) is
 * noise.
 */
export const TURN_BUDGET_MS = 3;

/** Pieces of work between clock reads in {@link Slice.tick}: a clock read costs ~30-50 ns. */
const TICKS_PER_CLOCK_READ = 32;

let budgetMs = TURN_BUDGET_MS;
/** What each job resuming in the current turn may use. */
let share = budgetMs;
let scheduled = false;
let waiters: Array<() => void> = [];

/**
 * Changes the budget (0: pause at every check) and returns the previous one. For tests that need a
 * job to still be running after a few turns, whatever the machine's speed.
 */
export function setTurnBudgetMs(ms: number): number {
  const previous = budgetMs;
  budgetMs = ms;
  return previous;
}

function startTurn(): void {
  scheduled = false;
  const ready = waiters;
  waiters = [];
  share = budgetMs / ready.length;
  // Each continuation runs after this callback, in order, and takes its share when it starts.
  for (const resolve of ready) resolve();
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiters.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(startTurn);
    }
  });
}

/**
 * One job's time slice.
 *
 * @example
 * ```ts
 * const slice = new Slice();
 * while (stream.next()) {
 *   writer.add(stream.key(), stream.seqno(), stream.kind(), stream.value());
 *   if (slice.tick()) await slice.pause();
 * }
 * ```
 */
export class Slice {
  /** Spent until the job first pauses: it has no share of the current turn. */
  #deadline = 0;
  #resumed = false;
  #ticks = 0;

  /** Counts one small piece of work (an entry); true when the slice is spent. Reads the clock only every few calls. */
  tick(): boolean {
    if (++this.#ticks < TICKS_PER_CLOCK_READ) return false;
    this.#ticks = 0;
    return this.expired();
  }

  /** Whether the slice is spent (reads the clock). */
  expired(): boolean {
    const now = performance.now();
    if (this.#resumed) {
      // The share starts at the job's first check after resuming, not at the resumption: the jobs of a
      // turn resume together and then run one after another, each up to its first pause.
      this.#resumed = false;
      this.#deadline = now + share;
      return false;
    }
    return now >= this.#deadline;
  }

  /** Resumes on a later turn, with a fresh share of it from the next check on. */
  async pause(): Promise<void> {
    await nextTurn();
    this.#resumed = true;
  }

  /**
   * A promise to wait for when the slice is spent, else `undefined` (go on, no microtask paid): the
   * shape of a pause point for code that does not know about slices (see `TableWriter.finishAsync`).
   */
  readonly pausePoint = (): Promise<void> | undefined => {
    return this.expired() ? this.pause() : undefined;
  };
}
