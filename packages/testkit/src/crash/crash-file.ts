import { fsError, type FsFile } from "@talus/fs";
import type { FileInode } from "./inode.ts";
import type { PowerSupply } from "./power-cut.ts";

/**
 * A handle on a {@link FileInode}. Access modes are enforced with Linux's errors (`EBADF` for the
 * wrong direction, `EINVAL` for truncating a read-only handle), because code that works here must not
 * break on disk. Every write is logged on the inode until the next sync of any handle on it.
 */
export class CrashFile implements FsFile {
  readonly #inode: FileInode;
  readonly #power: PowerSupply;
  readonly #canRead: boolean;
  readonly #canWrite: boolean;
  readonly #append: boolean;
  #position = 0;
  #closed = false;

  constructor(inode: FileInode, access: { read: boolean; write: boolean; append: boolean }, power: PowerSupply) {
    this.#inode = inode;
    this.#power = power;
    this.#canRead = access.read;
    this.#canWrite = access.write;
    this.#append = access.append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    this.#assertUsable();
    if (!this.#canRead) throw fsError("EBADF", "read");
    if (!isOffset(position)) throw fsError("EINVAL", "read");
    return this.#inode.data.read(buffer, position);
  }

  write(buffer: Uint8Array): void {
    this.#assertUsable();
    if (!this.#canWrite) throw fsError("EBADF", "write");
    const at = this.#append ? this.#inode.data.size : this.#position;
    this.#inode.write(at, buffer);
    this.#position = at + buffer.length;
  }

  /** Same as {@link syncData}: the model has no metadata that fdatasync could leave behind. */
  sync(): void {
    this.#assertUsable();
    this.#power.syncPoint();
    this.#inode.sync();
  }

  syncData(): void {
    this.sync();
  }

  len(): number {
    this.#assertUsable();
    return this.#inode.data.size;
  }

  setLen(length: number): void {
    this.#assertUsable();
    if (!this.#canWrite || !isOffset(length)) throw fsError("EINVAL", "ftruncate");
    this.#inode.setLen(length);
  }

  close(): void {
    this.#power.assertPowered();
    this.#closed = true;
  }

  #assertUsable(): void {
    this.#power.assertPowered();
    if (this.#closed) throw fsError("EBADF", "closed handle");
  }
}

function isOffset(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
