/**
 * Snapshots: a seqno a reader holds on to, which the tree's automatic maintenance must not garbage-
 * collect below. Trees driven by hand pass their own watermarks and may ignore them.
 *
 * Invariant (enforced by {@link SnapshotList.oldest}): while a snapshot at `S` is held, every GC
 * watermark the maintenance uses is `<= S`, so compaction keeps, for every key, the newest version
 * below `S`, and reads at `S` answer as they did when the snapshot was taken.
 *
 * @module
 */

/**
 * A point in the tree's history that reads can go back to.
 *
 * @example
 * ```ts
 * using snapshot = tree.snapshot(); // or: const snapshot = tree.snapshot(); ... snapshot.release();
 * tree.insert("k", "new", seqno.next());
 * tree.get("k", snapshot.seqno); // the value from before the insert, whatever compactions ran since
 * ```
 */
export interface Snapshot {
  /** Reads at this seqno see the tree as it was when the snapshot was taken. */
  readonly seqno: number;
  /** Whether {@link release} was called. */
  readonly released: boolean;
  /** Stops pinning the seqno. Idempotent. */
  release(): void;
  /** {@link release}, for `using`. */
  [Symbol.dispose](): void;
}

/** One held seqno: shared by the handle and the finalizer, which must not hold the handle itself. */
interface Hold {
  readonly seqno: number;
  released: boolean;
}

/** The seqnos held by live snapshots, as a multiset. */
export class SnapshotList {
  readonly #counts = new Map<number, number>();
  /** A snapshot garbage-collected without `release()` stops pinning then. */
  readonly #finalizer = new FinalizationRegistry<Hold>((hold) => this.#drop(hold));

  /** Takes a snapshot at `seqno`. */
  take(seqno: number): Snapshot {
    const hold: Hold = { seqno, released: false };
    this.#counts.set(seqno, (this.#counts.get(seqno) ?? 0) + 1);
    const list = this;
    const snapshot: Snapshot = {
      seqno,
      get released() {
        return hold.released;
      },
      release() {
        list.#finalizer.unregister(hold);
        list.#drop(hold);
      },
      [Symbol.dispose]() {
        this.release();
      },
    };
    this.#finalizer.register(snapshot, hold, hold);
    return snapshot;
  }

  /** The oldest held seqno, or undefined when none is held. */
  oldest(): number | undefined {
    let oldest: number | undefined;
    for (const seqno of this.#counts.keys()) if (oldest === undefined || seqno < oldest) oldest = seqno;
    return oldest;
  }

  /** Live snapshots. */
  get size(): number {
    let n = 0;
    for (const count of this.#counts.values()) n += count;
    return n;
  }

  #drop(hold: Hold): void {
    if (hold.released) return;
    hold.released = true;
    const count = this.#counts.get(hold.seqno) ?? 0;
    if (count <= 1) this.#counts.delete(hold.seqno);
    else this.#counts.set(hold.seqno, count - 1);
  }
}
