/**
 * Putting one captured file into the checkpoint: a hard link when the source and the target are the same
 * path namespace, otherwise a streamed copy.
 *
 * Two backends share a namespace only when both name one (`backendId()`) and the names are equal; a link
 * is never attempted otherwise, because the source path would be resolved in the wrong namespace (a
 * MemFs path on the real disk). A link the backend cannot make (`ENOTSUP`) also falls back to a copy;
 * `StdFs` itself already copies on `EXDEV`.
 *
 * @module
 */
import { copyFileAcross, hasCode, type Fs } from "@talus/fs";

/** How {@link linkOrCopy} placed a file. */
export interface PlacedFile {
  /** Bytes the file holds (a hard link shares them with the source). */
  readonly bytes: number;
  /**
   * Whether `dst` was made by `hardLink` (which on `StdFs` may itself copy, across devices); false for a
   * streamed copy.
   */
  readonly linked: boolean;
}

/**
 * Puts the file `src` of `srcFs` at `dst` of `dstFs`: a hard link when both filesystems name the same path
 * namespace (`backendId()`), otherwise (or when the backend cannot link: `ENOTSUP`) a durable copy. `dst`
 * must not exist. What {@link createCheckpoint} does with every table and blob file it captures.
 *
 * @example
 * ```ts
 * import { StdFs } from "@talus/fs";
 * import { linkOrCopy } from "@talus/checkpoint";
 *
 * const fs = new StdFs();
 * const placed = linkOrCopy(fs, "/db/tables/7", fs, "/backup/tables/7");
 * console.log(placed.linked ? "linked" : `copied ${placed.bytes} bytes`);
 * ```
 */
export function linkOrCopy(srcFs: Fs, src: string, dstFs: Fs, dst: string): PlacedFile {
  const srcId = srcFs.backendId();
  if (srcId !== undefined && srcId === dstFs.backendId()) {
    try {
      dstFs.hardLink(src, dst);
      return { bytes: dstFs.metadata(dst).len, linked: true };
    } catch (error) {
      if (!hasCode(error, "ENOTSUP")) throw error;
    }
  }
  return { bytes: copyFileAcross(srcFs, src, dstFs, dst), linked: false };
}
