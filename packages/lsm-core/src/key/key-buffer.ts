/**
 * A key copied into memory kept from one key to the next: a loop that remembers "the current key" (a
 * compaction stream, a table writer's last key) allocates only when a longer key arrives, instead of
 * once per key.
 *
 * Invariant: {@link view} is a view of the latest copy, valid until the next {@link set}; the same view
 * object is handed out again while key lengths stay equal, so a hot loop makes no view per key.
 *
 * @module
 */
export class KeyBuffer {
  #bytes = new Uint8Array(64);
  #view: Uint8Array = this.#bytes.subarray(0, 0);

  /** The latest key set (empty before the first). */
  get view(): Uint8Array {
    return this.#view;
  }

  /** Copies `key` in and returns the view of the copy. */
  set(key: Uint8Array): Uint8Array {
    const n = key.length;
    if (n > this.#bytes.length) this.#bytes = new Uint8Array(Math.max(n, 2 * this.#bytes.length));
    const bytes = this.#bytes;
    // A byte loop beats TypedArray#set for the short keys of the common case.
    if (n <= 32) for (let i = 0; i < n; i++) bytes[i] = key[i] as number;
    else bytes.set(key);
    if (this.#view.length !== n || this.#view.buffer !== bytes.buffer) this.#view = bytes.subarray(0, n);
    return this.#view;
  }
}
