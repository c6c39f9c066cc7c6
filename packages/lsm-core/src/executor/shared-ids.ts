/**
 * Table ids shared between the main thread and worker threads, so a job on a worker names its output
 * tables from the same sequence as the main thread's flushes and ingestions, without a round trip.
 *
 * Layouts (all little-endian, in `SharedArrayBuffer`s):
 *
 *   id counter:  [ next id : i64 ]                       taken with one Atomics.add
 *   job claims:  [ count : i32 | pad : i32 | id : f64 × capacity ]
 *
 * A job records every id it takes in its claims before it creates the file, so when its worker dies
 * the main thread knows which files to remove. Claims past the capacity are not recorded: those
 * files stay as orphans, which the next open removes (they are in no version).
 *
 * @module
 */

/** The tree's next table id, readable and advanced from any thread. */
export class SharedIdCounter {
  readonly buffer: SharedArrayBuffer;
  readonly #cell: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.buffer = buffer;
    this.#cell = new BigInt64Array(buffer, 0, 1);
  }

  get next(): number {
    return Number(Atomics.load(this.#cell, 0));
  }

  set next(id: number) {
    Atomics.store(this.#cell, 0, BigInt(id));
  }

  take(): number {
    return Number(Atomics.add(this.#cell, 0, 1n));
  }
}

const CLAIMS_HEADER = 8;

/** The ids one job took, in order. */
export class JobClaims {
  readonly buffer: SharedArrayBuffer;
  readonly #count: Int32Array;
  readonly #ids: Float64Array;

  constructor(bufferOrCapacity: SharedArrayBuffer | number) {
    this.buffer = typeof bufferOrCapacity === "number" ? new SharedArrayBuffer(CLAIMS_HEADER + 8 * bufferOrCapacity) : bufferOrCapacity;
    this.#count = new Int32Array(this.buffer, 0, 1);
    this.#ids = new Float64Array(this.buffer, CLAIMS_HEADER);
  }

  claim(id: number): void {
    const at = Atomics.load(this.#count, 0);
    if (at >= this.#ids.length) return;
    this.#ids[at] = id;
    // The count is published after the id it covers.
    Atomics.store(this.#count, 0, at + 1);
  }

  ids(): number[] {
    return Array.from(this.#ids.subarray(0, Atomics.load(this.#count, 0)));
  }
}
