/**
 * Which kind of tree a directory holds, read from its current version without opening the tree: so a
 * tool handed a path can choose `Tree.open` or `BlobTree.open` (from `@talus/vlog`) before opening, instead
 * of learning from the `UNRECOVERABLE` that opening a tree as the other kind fails with.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import { LsmError } from "../errors.ts";
import { readCurrent } from "./current.ts";
import { loadLatestVersion } from "./persist.ts";
import { classifyTreeDir } from "./tree-dir.ts";
import type { TreeKind } from "./version.ts";

// A tree open elsewhere replaces its version file each time it publishes one; that many publications in
// the instant between reading `current` and reading the version file it names is not a race any more.
const MAX_ATTEMPTS = 8;

/**
 * The kind of tree in `dir`, as its current version records it: `"standard"` (open it with `Tree.open`)
 * or `"blob"` (a tree created with a value log, such as `BlobTree.open` from `@talus/vlog`). `undefined`
 * when `dir` does not exist or holds no tree (no `current`, and no tree artifacts or only what an
 * interrupted creation leaves; a `Tree.open` there would create a new tree).
 *
 * Reads `current` and the version file it names, and changes nothing: it takes no lock, so it also
 * answers while the tree is open elsewhere, retrying when a concurrent publication replaces the version
 * file it was about to read. Throws what opening would: `INVALID_DATA` for a directory with version
 * artifacts but no `current` (a half-written checkpoint), `CORRUPTION` (naming the file) for a damaged
 * `current` or version file, `UNSUPPORTED_FORMAT`; and filesystem errors as they are (`ENOTDIR` when
 * `dir` is a file).
 *
 * @example
 * ```ts
 * import { StdFs } from "@talus/fs";
 * import { readTreeKind, Tree } from "@talus/lsm-core";
 *
 * const kind = readTreeKind(new StdFs(), "/var/db/orders");
 * if (kind === undefined) throw new Error("/var/db/orders holds no tree");
 * // A blob tree opens with BlobTree.open of @talus/vlog (which lsm-core does not depend on).
 * if (kind === "standard") console.log((await Tree.open({ path: "/var/db/orders" })).tableCount());
 * ```
 */
export function readTreeKind(fs: Fs, dir: string): TreeKind | undefined {
  if (classifyTreeDir(fs, dir) !== "tree") return undefined;
  for (let attempt = 1; ; attempt++) {
    const before = readCurrent(fs, dir);
    try {
      const loaded = loadLatestVersion(fs, dir);
      if (loaded === undefined) throw new LsmError("INVALID_DATA", `${dir}: \`current\` disappeared while reading the tree kind`);
      return loaded.record.treeKind;
    } catch (error) {
      // A failure while `current` moved on is the replaced version file of a live tree: read again.
      // Anything else (the pointer did not move) is what it says.
      const after = readCurrent(fs, dir);
      const moved = before !== undefined && after !== undefined && after.versionId !== before.versionId;
      if (!moved || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
