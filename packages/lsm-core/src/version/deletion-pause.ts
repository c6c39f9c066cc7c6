/**
 * A reference-counted gate on file deletion. While any pause is held (a checkpoint linking files, for
 * instance), obsolete table and blob files are queued instead of unlinked; when the last pause is
 * released the queue is drained, each file removed through the `Fs` it lives on.
 *
 * Invariants:
 * - a path passed to {@link DeletionPause.deleteOrDefer} while a pause is held is not removed before
 *   the count of held pauses has dropped to zero;
 * - the queue is drained one item at a time and the drain stops as soon as a pause is held again (an
 *   `onError` callback or a removal through a wrapping `Fs` may acquire one): the rest stays queued for
 *   that new generation's last release. This is the reference's generation race, which in single-threaded
 *   JS can only arise by re-entrance, handled without locks;
 * - releasing never throws: removal errors (other than `ENOENT`, which means the file is already gone)
 *   go to `onError`, and an `onError` that throws is ignored;
 * - {@link DeletionPause.deleteInBackgroundOrDefer} starts a removal only while no pause is held, so a
 *   pause acquired later may still see the file for a moment, never lose one it needs: the file was
 *   already in no version that a later capture could return. {@link DeletionPause.idle} waits for those
 *   removals.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * import { DeletionPause } from "@talus/lsm-core";
 * const fs = new MemFs();
 * const pause = new DeletionPause();
 * {
 *   using guard = pause.acquire();
 *   pause.deleteOrDefer(fs, "/db/tables/7"); // queued
 * } // released: /db/tables/7 is removed now
 * ```
 *
 * @module
 */
import { hasCode, type Fs } from "@talus/fs";

/** A held pause. Releasing twice is a no-op. */
export interface PauseGuard {
  /** Whether {@link release} was called. */
  readonly released: boolean;
  /** Gives the pause up; when it was the last one held, the deletions queued meanwhile run. */
  release(): void;
  /** {@link release}, for `using guard = pause.acquire()`. */
  [Symbol.dispose](): void;
}

export interface DeletionPauseOptions {
  /** Told about each deferred removal that failed (anything but `ENOENT`). */
  readonly onError?: (error: unknown, path: string) => void;
}

interface Pending {
  readonly fs: Fs;
  readonly path: string;
}

/**
 * Holds back file deletions while a guard is held: what a checkpoint takes so that the table and blob files
 * it is linking are not unlinked under it. Every tree has one (`tree.deletionPause`); see the module comment
 * for its guarantees.
 *
 * @example
 * ```ts
 * {
 *   using guard = tree.deletionPause.acquire();
 *   // ... link the files of the current version: none of them is deleted meanwhile ...
 * } // released: deletions queued in the meantime run now
 * ```
 */
export class DeletionPause {
  #active = 0;
  #queue: Pending[] = [];
  #draining = false;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #onError: ((error: unknown, path: string) => void) | undefined;

  constructor(options: DeletionPauseOptions = {}) {
    this.#onError = options.onError;
  }

  /** Holds deletions until the returned guard (and every other held guard) is released. */
  acquire(): PauseGuard {
    this.#active++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#active--;
      if (this.#active === 0) this.#drain();
    };
    return {
      get released() {
        return released;
      },
      release,
      [Symbol.dispose]: release,
    };
  }

  /** Whether at least one pause is held. */
  isActive(): boolean {
    return this.#active > 0;
  }

  /**
   * Removes `path` through `fs` now when no pause is held (a missing file is fine; any other error is
   * thrown to the caller, who is still there to handle it), or queues it until the last pause is released.
   */
  deleteOrDefer(fs: Fs, path: string): "deleted" | "deferred" {
    if (this.#active > 0) {
      this.#queue.push({ fs, path });
      return "deferred";
    }
    try {
      fs.removeFile(path);
    } catch (error) {
      if (!hasCode(error, "ENOENT")) throw error;
    }
    return "deleted";
  }

  /**
   * Like {@link deleteOrDefer}, but a removal done now goes through `fs.removeFileAsync` when the
   * filesystem offers it, off the event loop (unlinking a large cached file costs ~0.25 ms per MiB on
   * the calling thread); its errors other than `ENOENT` go to `onError`, as for deferred removals.
   * Never throws for a removal error.
   */
  deleteInBackgroundOrDefer(fs: Fs, path: string): "deleting" | "deferred" {
    if (this.#active > 0) {
      this.#queue.push({ fs, path });
      return "deferred";
    }
    let removal: Promise<void>;
    if (fs.removeFileAsync === undefined) {
      try {
        fs.removeFile(path);
        removal = Promise.resolve();
      } catch (error) {
        removal = Promise.reject(error);
      }
    } else {
      removal = fs.removeFileAsync(path);
    }
    const tracked = removal.then(
      () => undefined,
      (error: unknown) => {
        if (!hasCode(error, "ENOENT")) this.#report(error, path);
      },
    );
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return "deleting";
  }

  /** Resolves once every removal started by {@link deleteInBackgroundOrDefer} so far has finished. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Deletions queued and not yet performed. */
  pendingCount(): number {
    return this.#queue.length;
  }

  #drain(): void {
    // A release inside the drain (from a callback) returns here: the outer loop goes on, having seen
    // the count drop back to zero, or stops if a pause is still held.
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#active === 0) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        try {
          next.fs.removeFile(next.path);
        } catch (error) {
          if (!hasCode(error, "ENOENT")) this.#report(error, next.path);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #report(error: unknown, path: string): void {
    try {
      this.#onError?.(error, path);
    } catch {
      // Release must not throw; the callback had its chance to record the failure.
    }
  }
}
