/**
 * The namespace of paths the kernel resolves. `StdFs` and `IoUringFs` name the same files with the same
 * paths, so they may hard-link between each other.
 */
export const KERNEL_BACKEND_ID = "kernel";

let nextMemoryVolume = 1;

/** A fresh identifier for one in-memory volume: no two volumes ever share files. */
export function newMemoryBackendId(kind: string): string {
  return `${kind}:${nextMemoryVolume++}`;
}
