/**
 * `@talus/fs`: the filesystem layer of Talus. See {@link Fs} for the contract every backend keeps.
 *
 * @module
 */
export type { Fs, FsDirEntry, FsFile, FsLock, FsMetadata, FsOpenOptions, FsReadRequest, FsThreadShare } from "./types.ts";
export { KERNEL_BACKEND_ID } from "./backend-id.ts";
export { COPY_CHUNK_BYTES, copyFileAcross } from "./copy.ts";
export { fsError, hasCode, type FsError, type FsErrorFields } from "./errors.ts";
export { handleAccess, openFlags, validateOpenOptions } from "./open-options.ts";
export { StdFs } from "./std/std-fs.ts";
export type { LockScope } from "./std/std-lock.ts";
export { MemFs } from "./mem/mem-fs.ts";
export { DEFAULT_RING_SIZE, DEFAULT_SPIN_MICROS, IoUringFs, type IoUringFsOptions } from "./iouring/iouring-fs.ts";
export type { IoUringFile } from "./iouring/iouring-file.ts";
export { NO_IOURING_ENV, ioUringUnavailableReason, isIoUringAvailable, type Ring, type RingStats } from "./iouring/ring.ts";
export { newMemoryBackendId } from "./backend-id.ts";
export { ForwardingFs } from "./forwarding-fs.ts";
export { readFileBytes, writeFileBytes } from "./file-bytes.ts";
