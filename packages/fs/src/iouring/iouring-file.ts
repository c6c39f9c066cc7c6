import { Descriptor } from "../descriptor.ts";
import { fsError } from "../errors.ts";
import type { FsFile } from "../types.ts";
import type { Ring } from "./ring.ts";

/**
 * A kernel file descriptor whose reads, writes and syncs go through an {@link IoUringFs}'s ring; `len`,
 * `setLen` and `close` are plain system calls. The kernel enforces access modes (`EBADF` for a write
 * through a read-only handle), as for `StdFile`.
 */
export class IoUringFile implements FsFile {
  readonly #fd: Descriptor;
  #writePosition = 0;
  readonly #append: boolean;
  /** The ring of the IoUringFs that opened this handle. */
  readonly ring: Ring;

  constructor(ring: Ring, fd: number, append: boolean) {
    this.ring = ring;
    this.#fd = new Descriptor(fd);
    this.#append = append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const fd = this.#fd.get();
    checkPosition(position);
    if (buffer.length === 0) return 0;
    return this.ring.read(fd, buffer, position);
  }

  write(buffer: Uint8Array): void {
    const fd = this.#fd.get();
    if (buffer.length === 0) return;
    // In append mode the file is O_APPEND: the kernel writes at its end whatever the position (-1 says so).
    this.ring.write(fd, buffer, this.#append ? -1 : this.#writePosition);
    this.#writePosition += buffer.length;
  }

  sync(): void {
    this.ring.fsync(this.#fd.get(), false);
  }

  syncData(): void {
    this.ring.fsync(this.#fd.get(), true);
  }

  syncAsync(): Promise<void> {
    return this.#fd.track((fd) => this.ring.fsyncAsync(fd, false));
  }

  len(): number {
    return this.#fd.len();
  }

  setLen(length: number): void {
    this.#fd.setLen(length);
  }

  close(): void {
    this.#fd.close();
  }

  /** The descriptor for a read of `IoUringFs.readMany`: `EBADF` when closed. */
  descriptor(): number {
    return this.#fd.get();
  }
}

/** Positions are byte offsets: a non-negative safe integer, `EINVAL` otherwise. */
export function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw fsError("EINVAL", "read");
}
