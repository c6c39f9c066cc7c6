/**
 * Explicit snapshots (`db.snapshot()`): a tree snapshot behind abstract-level's token. Reads given
 * `{ snapshot }` read at its seqno; closing it releases the tree snapshot, so automatic maintenance may
 * collect what only it still pinned.
 *
 * @module
 */
import { AbstractSnapshot } from "abstract-level";
import type { Snapshot, Tree } from "@talus/lsm-core";

/** abstract-level's constructor takes `{ owner }` (its type declarations omit it). */
const SnapshotBase = AbstractSnapshot as unknown as new (options: object) => AbstractSnapshot;

export class TalusSnapshot extends SnapshotBase {
  readonly #hold: Snapshot;
  readonly #tree: Tree;

  constructor(options: object, tree: Tree) {
    // Taken first: a tree that refuses (closed) leaves no half-made resource attached to the database.
    const hold = tree.snapshot();
    super(options);
    this.#tree = tree;
    this.#hold = hold;
  }

  /**
   * The seqno reads of `tree` with `snapshot` read at; undefined when it is not a snapshot of that tree
   * (another database's, or one taken before a reopen). A static function rather than a property: the
   * seqno stays the adapter's business.
   */
  static seqnoOf(snapshot: unknown, tree: Tree): number | undefined {
    if (typeof snapshot !== "object" || snapshot === null || !(#hold in snapshot)) return undefined;
    return snapshot.#tree === tree ? snapshot.#hold.seqno : undefined;
  }

  async _close(): Promise<void> {
    this.#hold.release();
  }
}
