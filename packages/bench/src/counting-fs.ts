/**
 * An {@link Fs} that delegates to another and counts the bytes going through it, for write
 * amplification (bytes Talus wrote / bytes the user wrote) without guessing from file sizes: table
 * files written and then compacted away, version files and `current` rewrites all count. Positional reads
 * are counted too (one per `readAt` and per request of `readMany`): with the block cache off, one per block
 * read (prefixscan's blocks per scan).
 *
 * @module
 */
import { ForwardingFs, type FsFile, type FsOpenOptions, type FsReadRequest } from "@talus/fs";

export interface IoCounts {
  bytesWritten: number;
  bytesRead: number;
  /** Positional reads: `readAt` calls plus `readMany` requests. */
  reads: number;
  filesCreated: number;
  syncs: number;
}

export class CountingFs extends ForwardingFs {
  readonly counts: IoCounts = { bytesWritten: 0, bytesRead: 0, reads: 0, filesCreated: 0, syncs: 0 };

  override open(path: string, options: FsOpenOptions): FsFile {
    const file = this.inner.open(path, options);
    if (options.createNew === true || options.create === true) this.counts.filesCreated++;
    return new CountingFile(file, this.counts);
  }

  override syncDirectory(path: string): void {
    this.counts.syncs++;
    this.inner.syncDirectory(path);
  }

  // Counted and forwarded in its async form too, so that the engine's syncs stay off the event loop as
  // they would without the counting wrapper (an Fs wrapper must intercept the async form or hide it).
  override syncDirectoryAsync(path: string): Promise<void> {
    this.counts.syncs++;
    return this.inner.syncDirectoryAsync?.(path) ?? Promise.resolve().then(() => this.inner.syncDirectory(path));
  }

  override readMany(requests: readonly FsReadRequest[]): number[] {
    // The inner backend may batch by its own file type, so it gets its own handles back.
    const unwrapped = requests.map((r) => ({ ...r, file: r.file instanceof CountingFile ? r.file.inner : r.file }));
    const sizes = this.inner.readMany(unwrapped);
    for (const n of sizes) this.counts.bytesRead += n;
    this.counts.reads += requests.length;
    return sizes;
  }
}

class CountingFile implements FsFile {
  readonly inner: FsFile;
  readonly #counts: IoCounts;

  constructor(inner: FsFile, counts: IoCounts) {
    this.inner = inner;
    this.#counts = counts;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const n = this.inner.readAt(buffer, position);
    this.#counts.bytesRead += n;
    this.#counts.reads++;
    return n;
  }

  write(buffer: Uint8Array): void {
    this.inner.write(buffer);
    this.#counts.bytesWritten += buffer.length;
  }

  sync(): void {
    this.#counts.syncs++;
    this.inner.sync();
  }

  syncAsync(): Promise<void> {
    this.#counts.syncs++;
    return this.inner.syncAsync?.() ?? Promise.resolve().then(() => this.inner.sync());
  }

  syncData(): void {
    this.#counts.syncs++;
    this.inner.syncData();
  }

  len(): number {
    return this.inner.len();
  }

  setLen(length: number): void {
    this.inner.setLen(length);
  }

  close(): void {
    this.inner.close();
  }
}
