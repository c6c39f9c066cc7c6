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

export interface PlacedFile {
  /** Bytes the file holds (a hard link shares them with the source). */
  readonly bytes: number;
  readonly linked: boolean;
}

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
