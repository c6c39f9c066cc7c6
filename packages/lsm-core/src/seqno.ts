/**
 * Sequence numbers order every write and every version change. They are plain JS numbers so that the
 * hot paths never touch BigInt; {@link SEQNO_MAX} is the largest integer a double holds exactly.
 *
 * Visibility is strict everywhere: a read at seqno `S` sees exactly the entries whose seqno is `< S`.
 *
 * @module
 */

/** The largest sequence number; reading at it sees everything. */
export const SEQNO_MAX = Number.MAX_SAFE_INTEGER;

/**
 * A monotonic counter of sequence numbers, shared by writers (`next()`) and readers (`get()` of the
 * visible counter). The writer convention: `const s = seqno.next(); tree.insert(k, v, s);
 * visible.fetchMax(s + 1)`.
 *
 * @example
 * ```ts
 * import { SequenceNumberCounter } from "@talus/lsm-core";
 * const seqno = new SequenceNumberCounter();
 * seqno.next(); // 0
 * seqno.next(); // 1
 * seqno.get(); // 2
 * ```
 */
export class SequenceNumberCounter {
  #value: number;

  constructor(initial = 0) {
    assertSeqno(initial, "initial");
    this.#value = initial;
  }

  /** Returns the current value and increments it. Throws once the counter would pass {@link SEQNO_MAX}. */
  next(): number {
    if (this.#value >= SEQNO_MAX) throw new RangeError("sequence numbers are exhausted");
    return this.#value++;
  }

  /** The current value (the next `next()` returns it). */
  get(): number {
    return this.#value;
  }

  /** Sets the value, even backwards: for initialisation and recovery only. */
  set(value: number): void {
    assertSeqno(value, "value");
    this.#value = value;
  }

  /** Raises the value to at least `value` (never lowers it) and returns the new value. */
  fetchMax(value: number): number {
    assertSeqno(value, "value");
    if (value > this.#value) this.#value = value;
    return this.#value;
  }
}

/** Throws a `TypeError`/`RangeError` unless `seqno` is an integer in [0, SEQNO_MAX]. */
export function assertSeqno(seqno: unknown, name = "seqno"): asserts seqno is number {
  if (typeof seqno !== "number" || !Number.isInteger(seqno)) {
    throw new TypeError(`${name} must be a non-negative integer, got ${describe(seqno)}`);
  }
  if (seqno < 0 || seqno > SEQNO_MAX) throw new RangeError(`${name} must be in [0, ${SEQNO_MAX}], got ${seqno}`);
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : typeof value;
}
