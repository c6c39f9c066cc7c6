/**
 * A blob file as a blob tree holds it: what the value log told of it, how much of it is garbage, and
 * how many snapshots still reference it.
 *
 * Invariant (as for tables, ./table-file.ts): the file is deleted only when it is obsolete (no longer in
 * the current version) AND no super version references it, so a reader at an old snapshot can still
 * resolve its handles. Deletion goes through the tree's `DeletionPause`, so a checkpoint in flight sees
 * every file it captured.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { BlobFileHandle, DeletionPause } from "../version/index.ts";
import type { BlobFileInfo, ValueLog } from "../separation/value-log.ts";

/** The garbage of a blob file: values no table references any more. */
export interface BlobGarbage {
  readonly count: number;
  readonly valueBytes: number;
  readonly storedBytes: number;
}

export const NO_GARBAGE: BlobGarbage = { count: 0, valueBytes: 0, storedBytes: 0 };

export class BlobFile implements BlobFileHandle {
  readonly id: number;
  readonly info: BlobFileInfo;
  readonly fs: Fs;
  readonly path: string;
  readonly #pause: DeletionPause;
  readonly #log: ValueLog;
  #refs = 0;
  #obsolete = false;
  #deleted = false;

  constructor(info: BlobFileInfo, fs: Fs, path: string, pause: DeletionPause, log: ValueLog) {
    this.id = info.id;
    this.info = info;
    this.fs = fs;
    this.path = path;
    this.#pause = pause;
    this.#log = log;
  }

  /** Bytes on disk. */
  get size(): number {
    return this.info.fileSize;
  }

  ref(): void {
    this.#refs++;
  }

  unref(): void {
    this.#refs--;
    this.#deleteIfUnneeded();
  }

  /** The current version no longer lists this file; delete it once nothing references it. */
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
    try {
      this.#log.forget(this.id);
    } catch {
      // Forgetting only closes cached handles; unlinking below does not need them closed.
    }
    this.#pause.deleteInBackgroundOrDefer(this.fs, this.path);
  }
}
