/**
 * A FIFO async mutex. The engine's async jobs (flush, compaction, version installs) interleave at their
 * awaits; the few sections that must not interleave (one flush at a time, one version edit at a time)
 * run under one of these.
 *
 * @module
 */
export class AsyncMutex {
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  /** Whether some holder has the lock now. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Runs `fn` while holding the lock; the lock is released even if `fn` throws. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    // Hand the lock straight to the next waiter, so no one can barge in between.
    if (next !== undefined) next();
    else this.#locked = false;
  }
}

/** Lets the event loop run pending I/O and timers: long jobs call this between chunks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
