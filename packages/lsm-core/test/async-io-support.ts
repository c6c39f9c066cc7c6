/** A filesystem whose async syncs and removals really are asynchronous, for the write path's tests. */
import { ForwardingFs, MemFs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { ForwardingFile } from "@talus/testkit";

/** Counts of what went through a {@link SlowAsyncFs}. */
export interface AsyncIoCounts {
  syncs: number;
  asyncSyncs: number;
  asyncDirSyncs: number;
  asyncRemovals: number;
}

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * MemFs whose `syncAsync`, `syncDirectoryAsync` and `removeFileAsync` settle a few milliseconds later
 * (like StdFs's threadpool calls), so that jobs really interleave at those awaits. `failAsyncSync`
 * makes every later `syncAsync` reject with EIO.
 */
export class SlowAsyncFs extends ForwardingFs {
  readonly counts: AsyncIoCounts = { syncs: 0, asyncSyncs: 0, asyncDirSyncs: 0, asyncRemovals: 0 };
  failAsyncSync = false;
  readonly #delayMs: number;

  constructor(delayMs = 2, inner = new MemFs()) {
    super(inner);
    this.#delayMs = delayMs;
  }

  override open(path: string, options: FsOpenOptions): FsFile {
    return new SlowFile(this.inner.open(path, options), this);
  }

  override syncDirectoryAsync(path: string): Promise<void> {
    this.counts.asyncDirSyncs++;
    return later(this.#delayMs).then(() => this.inner.syncDirectory(path));
  }

  override removeFileAsync(path: string): Promise<void> {
    this.counts.asyncRemovals++;
    return later(this.#delayMs).then(() => this.inner.removeFile(path));
  }

  delay(): Promise<void> {
    return later(this.#delayMs);
  }
}

class SlowFile extends ForwardingFile {
  readonly #fs: SlowAsyncFs;

  constructor(inner: FsFile, fs: SlowAsyncFs) {
    super(inner);
    this.#fs = fs;
  }

  override sync(): void {
    this.#fs.counts.syncs++;
    super.sync();
  }

  syncAsync(): Promise<void> {
    this.#fs.counts.asyncSyncs++;
    const failing = this.#fs.failAsyncSync;
    return this.#fs.delay().then(() => {
      if (failing) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      // The handle may have been closed meanwhile (allowed by the contract): the data is in memory anyway.
    });
  }
}
