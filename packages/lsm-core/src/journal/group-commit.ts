/**
 * Group commit for an append-only file: turns many "make what I appended durable" requests into few
 * syncs. At most one sync runs at a time. A request that the running sync already covers waits for it;
 * any other waits for the next sync, which all of them share and which starts when the running one
 * ends (or, when none runs, in a microtask, so the requests of one synchronous run share it too). So
 * N concurrent committers cost at most two syncs, and a committer never waits for more than the sync
 * running when it came plus one.
 *
 * @module
 */

/** The callers waiting for one sync. */
class Round {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** What the file's owner does for a round. */
export interface GroupCommitFile {
  /**
   * Hands everything appended so far to the file and returns the file's size: what the sync to follow
   * makes durable. Throws when that cannot be done (the round's waiters get the error).
   */
  writeOut(): number;
  /** Makes the file durable up to the last `writeOut`. */
  sync(): Promise<void>;
  /** Called with the error of a failed sync, before the round's waiters are rejected with it. */
  syncFailed(error: unknown): void;
}

/** The rounds of syncs of one file. Failure handling (what a failed file refuses) is the owner's. */
export class GroupCommit {
  readonly #file: GroupCommitFile;
  #durable = 0;
  /** The sync running now, and the file size it makes durable. */
  #inFlight: Promise<void> | undefined;
  #inFlightTarget = 0;
  /** Callers that need more than the sync in flight covers: they share the next one. */
  #nextRound: Round | undefined;

  constructor(file: GroupCommitFile) {
    this.#file = file;
  }

  /** The file size the last finished sync made durable. */
  get durable(): number {
    return this.#durable;
  }

  /** Resolves once a sync that began after the file reached `size` (or one covering it) has finished. */
  commit(size: number): Promise<void> {
    if (this.#durable >= size) return RESOLVED;
    if (this.#inFlight !== undefined && this.#inFlightTarget >= size) return this.#inFlight;
    let round = this.#nextRound;
    if (round === undefined) {
      round = new Round();
      this.#nextRound = round;
      if (this.#inFlight === undefined) queueMicrotask(() => this.#startRound());
    }
    return round.promise;
  }

  /** Rejects the callers waiting for the next sync (the running one still settles its own). */
  rejectWaiting(error: unknown): void {
    const round = this.#nextRound;
    this.#nextRound = undefined;
    round?.reject(error);
  }

  #startRound(): void {
    const round = this.#nextRound;
    if (round === undefined) return;
    this.#nextRound = undefined;
    let target: number;
    try {
      target = this.#file.writeOut();
    } catch (error) {
      round.reject(error);
      return;
    }
    this.#inFlight = round.promise;
    this.#inFlightTarget = target;
    this.#file.sync().then(
      () => {
        this.#durable = Math.max(this.#durable, target);
        this.#inFlight = undefined;
        round.resolve();
        // Whoever came during this sync (appending after it began) shares the next one.
        if (this.#nextRound !== undefined) this.#startRound();
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        this.#file.syncFailed(error);
        round.reject(error);
      },
    );
  }
}
