/**
 * A blob file as a blob tree holds it: what the value log told of it, how much of it is garbage, and
 * how many snapshots still reference it.
 *
 * Deleted as tables are (./file-lifetime.ts): only once obsolete and unreferenced, so a reader at an old
 * snapshot can still resolve its handles.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { BlobFileHandle, DeletionPause } from "../version/index.ts";
import type { BlobFileInfo, ValueLog } from "../separation/value-log.ts";
import { FileLifetime } from "./file-lifetime.ts";

/** The garbage of a blob file: values no table references any more. */
export interface BlobGarbage {
  readonly count: number;
  readonly valueBytes: number;
  readonly storedBytes: number;
}

export class BlobFile implements BlobFileHandle {
  readonly id: number;
  readonly info: BlobFileInfo;
  readonly fs: Fs;
  readonly path: string;
  readonly #lifetime: FileLifetime;

  constructor(info: BlobFileInfo, fs: Fs, path: string, pause: DeletionPause, log: ValueLog) {
    this.id = info.id;
    this.info = info;
    this.fs = fs;
    this.path = path;
    this.#lifetime = new FileLifetime(() => {
      try {
        log.forget(this.id);
      } catch {
        // Forgetting only closes cached handles; unlinking below does not need them closed.
      }
      pause.deleteInBackgroundOrDefer(fs, path);
    });
  }

  /** Bytes on disk. */
  get size(): number {
    return this.info.fileSize;
  }

  ref(): void {
    this.#lifetime.ref();
  }

  unref(): void {
    this.#lifetime.unref();
  }

  /** The current version no longer lists this file; delete it once nothing references it. */
  markObsolete(): void {
    this.#lifetime.markObsolete();
  }

  get isDeleted(): boolean {
    return this.#lifetime.isDeleted;
  }
}
