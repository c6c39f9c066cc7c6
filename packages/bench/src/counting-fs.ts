/**
 * An {@link Fs} that delegates to another and counts the bytes going through it, for write
 * amplification (bytes Talus wrote / bytes the user wrote) without guessing from file sizes: table
 * files written and then compacted away, version files and `current` rewrites all count. Positional reads
 * are counted too (one per `readAt` and per request of `readMany`): with the block cache off, one per block
 * read (prefixscan's blocks per scan).
 *
 * The counters live in a `SharedArrayBuffer`: over `StdFs` (or `IoUringFs` with its default options), the
 * wrapper tells the engine how a worker thread makes the same wrapper ({@link CountingFs.threadShare}), so
 * the compactions Talus runs on worker threads are counted too, into the same counters.
 *
 * @module
 */
import { ForwardingFs, IoUringFs, StdFs, type Fs, type FsFile, type FsOpenOptions, type FsReadRequest, type FsThreadShare } from "@talus/fs";

export interface IoCounts {
  bytesWritten: number;
  bytesRead: number;
  /** Positional reads: `readAt` calls plus `readMany` requests. */
  reads: number;
  filesCreated: number;
  syncs: number;
}

const FIELDS = ["bytesWritten", "bytesRead", "reads", "filesCreated", "syncs"] as const;
type Field = (typeof FIELDS)[number];
const SLOT: Record<Field, number> = { bytesWritten: 0, bytesRead: 1, reads: 2, filesCreated: 3, syncs: 4 };

/** Counters any thread can add to. */
class Tally {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;

  constructor(buffer = new SharedArrayBuffer(8 * FIELDS.length)) {
    this.buffer = buffer;
    this.#cells = new BigInt64Array(buffer);
  }

  add(field: Field, n: number): void {
    Atomics.add(this.#cells, SLOT[field], BigInt(n));
  }

  snapshot(): IoCounts {
    const out = {} as IoCounts;
    for (const field of FIELDS) out[field] = Number(Atomics.load(this.#cells, SLOT[field]));
    return out;
  }
}

export class CountingFs extends ForwardingFs {
  readonly #tally: Tally;

  /** `counters`: another wrapper's (a worker thread's copy counts into the same ones). */
  constructor(inner: Fs, counters?: SharedArrayBuffer) {
    super(inner);
    this.#tally = new Tally(counters);
  }

  /** The counts so far (a snapshot). */
  get counts(): IoCounts {
    return this.#tally.snapshot();
  }

  /**
   * Over the real disk, a worker thread counts through a {@link CountingStdFs} (or, over an `IoUringFs`
   * with default options, a {@link CountingIoUringFs}: a ring of its own) of the same counters.
   */
  threadShare(): FsThreadShare | undefined {
    const share = this.inner.threadShare?.();
    if (share === undefined || (share.args?.length ?? 0) > 0) return undefined;
    if (share.exportName === "StdFs") return { module: import.meta.url, exportName: "CountingStdFs", args: [this.#tally.buffer] };
    if (share.exportName === "IoUringFs") return { module: import.meta.url, exportName: "CountingIoUringFs", args: [this.#tally.buffer] };
    return undefined;
  }

  override open(path: string, options: FsOpenOptions): FsFile {
    const file = this.inner.open(path, options);
    if (options.createNew === true || options.create === true) this.#tally.add("filesCreated", 1);
    return new CountingFile(file, this.#tally);
  }

  override syncDirectory(path: string): void {
    this.#tally.add("syncs", 1);
    this.inner.syncDirectory(path);
  }

  // Counted and forwarded in its async form too, so that the engine's syncs stay off the event loop as
  // they would without the counting wrapper (an Fs wrapper must intercept the async form or hide it).
  override syncDirectoryAsync(path: string): Promise<void> {
    this.#tally.add("syncs", 1);
    return this.inner.syncDirectoryAsync?.(path) ?? Promise.resolve().then(() => this.inner.syncDirectory(path));
  }

  override readMany(requests: readonly FsReadRequest[]): number[] {
    // The inner backend may batch by its own file type, so it gets its own handles back.
    const unwrapped = requests.map((r) => ({ ...r, file: r.file instanceof CountingFile ? r.file.inner : r.file }));
    const sizes = this.inner.readMany(unwrapped);
    let bytes = 0;
    for (const n of sizes) bytes += n;
    this.#tally.add("bytesRead", bytes);
    this.#tally.add("reads", requests.length);
    return sizes;
  }
}

/** A {@link CountingFs} over `StdFs`, as a worker thread makes it from {@link CountingFs.threadShare}. */
export class CountingStdFs extends CountingFs {
  constructor(counters: SharedArrayBuffer) {
    super(new StdFs(), counters);
  }
}

/** A {@link CountingFs} over a new `IoUringFs`, as a worker thread makes it from {@link CountingFs.threadShare}. */
export class CountingIoUringFs extends CountingFs {
  constructor(counters: SharedArrayBuffer) {
    super(new IoUringFs(), counters);
  }
}

class CountingFile implements FsFile {
  readonly inner: FsFile;
  readonly #tally: Tally;

  constructor(inner: FsFile, tally: Tally) {
    this.inner = inner;
    this.#tally = tally;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const n = this.inner.readAt(buffer, position);
    this.#tally.add("bytesRead", n);
    this.#tally.add("reads", 1);
    return n;
  }

  write(buffer: Uint8Array): void {
    this.inner.write(buffer);
    this.#tally.add("bytesWritten", buffer.length);
  }

  sync(): void {
    this.#tally.add("syncs", 1);
    this.inner.sync();
  }

  syncAsync(): Promise<void> {
    this.#tally.add("syncs", 1);
    return this.inner.syncAsync?.() ?? Promise.resolve().then(() => this.inner.sync());
  }

  syncData(): void {
    this.#tally.add("syncs", 1);
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
