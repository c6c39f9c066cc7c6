/**
 * `BlobTree`: a Talus tree with key-value separation. It is an lsm-core {@link Tree} opened with a
 * {@link BlobValueLog}, so it has every method of `Tree` with the same behaviour; values of at least
 * `kvSeparation.separationThreshold` bytes live in blob files under `<path>/blobs/` and the tables hold
 * small handles, so compactions move handles instead of rewriting large values.
 *
 * @module
 */
import { StdFs } from "@talus/fs";
import { BLOBS_DIR_NAME, Tree, type TreeOptions } from "@talus/lsm-core";
import { BlobValueLog } from "./blob-value-log.ts";
import { resolveKvSeparation, type KvSeparationOptions } from "./options.ts";

/** `Tree.open`'s options plus `kvSeparation` (every field optional, the reference's defaults). */
export interface BlobTreeOptions extends Omit<TreeOptions, "valueLog"> {
  /** How values are separated: threshold, blob file size, garbage collection, compression. */
  readonly kvSeparation?: KvSeparationOptions;
}

/** A blob tree: a {@link Tree} whose large values live in blob files. */
export type BlobTree = Tree;

/** `BlobTree.open` (documented there). */
async function open(options: BlobTreeOptions): Promise<BlobTree> {
  if (typeof options !== "object" || options === null) throw new TypeError("BlobTree.open needs an options object");
  if (typeof options.path !== "string" || options.path.length === 0) throw new TypeError("options.path must be a non-empty string");
  if ("valueLog" in options) throw new TypeError("BlobTree.open makes its own value log: pass kvSeparation, not valueLog");
  const { kvSeparation, ...treeOptions } = options;
  const separation = resolveKvSeparation(kvSeparation);
  const fs = options.fs ?? new StdFs();
  // Blob files are read like tables: through memory maps unless the tree's `mapTables` says no.
  const log = new BlobValueLog(fs, joinPath(options.path, BLOBS_DIR_NAME), separation, options.mapTables !== false);
  return Tree.open({ ...treeOptions, fs, valueLog: log });
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Opens blob trees: `BlobTree.open(options)`. */
export const BlobTree = {
  /**
   * Opens (creating if needed) the blob tree at `options.path`.
   *
   * @example
   * ```ts
   * import { MemFs } from "@talus/fs";
   * import { SequenceNumberCounter } from "@talus/lsm-core";
   * import { BlobTree } from "@talus/vlog";
   *
   * const seqno = new SequenceNumberCounter();
   * const tree = await BlobTree.open({ path: "/photos", fs: new MemFs(), seqno, kvSeparation: { separationThreshold: 4096 } });
   * tree.insert("cat.jpg", new Uint8Array(100_000), seqno.next());
   * await tree.flushActiveMemtable(0); // the 100 kB value goes to blobs/, the table keeps a handle
   * tree.get("cat.jpg", seqno.get())?.length; // 100000
   * tree.blobFileCount(); // 1
   * await tree.close();
   * ```
   */
  open,
} as const;
