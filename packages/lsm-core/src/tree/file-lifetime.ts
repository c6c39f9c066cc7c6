/**
 * When a file of the tree (a table, a blob file) may be deleted.
 *
 * Invariant, enforced here for both kinds: a file is deleted only when it is obsolete (no longer in the
 * current version) AND no super version references it (no reader, iterator or job can reach it), and
 * then exactly once. The owner says how to delete it; deletion goes through the tree's
 * `DeletionPause`, so a checkpoint in flight sees every file it captured.
 *
 * @module
 */
export class FileLifetime {
  readonly #delete: () => void;
  #refs = 0;
  #obsolete = false;
  #deleted = false;

  /** `remove` deletes the file; it must not throw (a failure leaves an orphan for the next open). */
  constructor(remove: () => void) {
    this.#delete = remove;
  }

  ref(): void {
    this.#refs++;
  }

  unref(): void {
    this.#refs--;
    this.#deleteIfUnneeded();
  }

  /** The current version no longer lists the file; it goes once nothing references it. */
  markObsolete(): void {
    this.#obsolete = true;
    this.#deleteIfUnneeded();
  }

  get isDeleted(): boolean {
    return this.#deleted;
  }

  #deleteIfUnneeded(): void {
    if (!this.#obsolete || this.#refs > 0 || this.#deleted) return;
    this.#deleted = true;
    this.#delete();
  }
}
