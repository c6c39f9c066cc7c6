/**
 * The `current` pointer: names the live version file and its CRC. Publishing a version is one atomic
 * rename of a fully synced temp file over `current`, followed by a sync of the directory, so after a
 * crash `current` names either the old or the new version, both intact.
 *
 * ```
 *  offset  size  field
 *  0       4     magic "TLCP" (54 4C 43 50)
 *  4       1     format version = 1
 *  5       8     version id (u64, < 2^53): the live version file is `v<id>`
 *  13      4     CRC-32 of `v<id>` without its last 4 bytes (= its trailer; see versionFileChecksum)
 *  17      4     CRC-32 of bytes [0, 17)
 *  21            end (exactly 21 bytes)
 * ```
 *
 * As for the version file, every future format keeps magic + format byte first and a CRC-32 of all
 * preceding bytes last; readers check magic, CRC, then format.
 *
 * @module
 */
import { hasCode, type Fs, type FsFile } from "@talus/fs";
import { ByteWriter } from "../coding/byte-writer.ts";
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { runBlocking, type DurableSteps } from "./durable-steps.ts";
import { joinPath, readWholeFile, removeQuietly } from "./file-io.ts";

/** The pointer's file name. */
export const CURRENT_FILE_NAME = "current";
/** Prefix of the temp files `writeCurrent` renames over `current`. */
export const CURRENT_TMP_PREFIX = "current.tmp-";
/** "TLCP": Talus current pointer. */
export const CURRENT_MAGIC: Uint8Array = Uint8Array.of(0x54, 0x4c, 0x43, 0x50);
export const CURRENT_FORMAT = 1;
const CURRENT_BYTES = 21;
// Larger than any pointer format will be; a bigger `current` is not ours and is not read into memory.
const MAX_CURRENT_BYTES = 4096;
// Temp names tried before giving up: only leftovers of crashed writers can occupy them.
const MAX_TMP_ATTEMPTS = 1000;

/** What `current` says. */
export interface CurrentPointer {
  readonly versionId: number;
  /** CRC-32 of the version file's bytes except its 4-byte trailer (`versionFileChecksum`). */
  readonly versionChecksum: number;
}

export function encodeCurrent(pointer: CurrentPointer): Uint8Array {
  const { versionId, versionChecksum } = pointer;
  if (!Number.isSafeInteger(versionId) || versionId < 0) throw new RangeError(`version id must be a non-negative safe integer, got ${versionId}`);
  if (!Number.isInteger(versionChecksum) || versionChecksum < 0 || versionChecksum > 0xffff_ffff) {
    throw new RangeError(`version checksum must be a u32, got ${versionChecksum}`);
  }
  const out = new ByteWriter(CURRENT_BYTES);
  out.raw(CURRENT_MAGIC).u8(CURRENT_FORMAT).u64(versionId).u32(versionChecksum);
  out.u32(checksum(out.bytes()));
  return out.toBytes();
}

/** Parses a `current` file; `fileName` goes into every error. */
export function decodeCurrent(bytes: Uint8Array, fileName: string): CurrentPointer {
  if (bytes.length < CURRENT_MAGIC.length + 1 + 4) throw corruption(fileName, `truncated pointer (${bytes.length} bytes)`);
  for (let i = 0; i < CURRENT_MAGIC.length; i++) {
    if (bytes[i] !== CURRENT_MAGIC[i]) throw corruption(fileName, "not a Talus current pointer (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.length - 4;
  if (view.getUint32(body, true) !== checksum(bytes.subarray(0, body))) throw corruption(fileName, "checksum mismatch");
  const format = bytes[CURRENT_MAGIC.length] as number;
  if (format !== CURRENT_FORMAT) {
    throw new LsmError("UNSUPPORTED_FORMAT", `${fileName} is pointer format ${format}; this build reads format ${CURRENT_FORMAT}`);
  }
  if (bytes.length !== CURRENT_BYTES) throw corruption(fileName, `pointer of ${bytes.length} bytes, expected ${CURRENT_BYTES}`);
  const low = view.getUint32(5, true);
  const high = view.getUint32(9, true);
  if (high > 0x1f_ffff) throw corruption(fileName, "version id exceeds 2^53");
  return { versionId: high * 0x1_0000_0000 + low, versionChecksum: view.getUint32(13, true) };
}

/**
 * Reads `<dir>/current`: `undefined` when it does not exist, `CORRUPTION` (naming `current`) when it is
 * damaged, any other filesystem error as thrown.
 */
export function readCurrent(fs: Fs, dir: string): CurrentPointer | undefined {
  const path = joinPath(dir, CURRENT_FILE_NAME);
  let bytes: Uint8Array;
  try {
    bytes = readWholeFile(fs, path, MAX_CURRENT_BYTES);
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw error;
  }
  return decodeCurrent(bytes, path);
}

/** How far a {@link writeCurrent} got, for callers that must know whether the pointer moved. */
export interface PointerProgress {
  /** Set once the rename over `current` succeeded: from then on the live directory names the new version. */
  renamed: boolean;
}

/**
 * Atomically points `<dir>/current` at version `versionId`: writes `current.tmp-<n>` with exclusive
 * create (the next `n` while one exists), syncs and closes it, renames it over `current`, then syncs the
 * directory. A failure before the rename removes the temp file and leaves `current` as it was. A
 * failure of the final directory sync leaves the new pointer in place but not known to be durable:
 * after a crash either pointer may be found, and both name intact versions.
 */
export function writeCurrent(fs: Fs, dir: string, versionId: number, versionChecksum: number, progress?: PointerProgress): void {
  runBlocking(fs, writeCurrentSteps(fs, dir, versionId, versionChecksum, progress));
}

/** {@link writeCurrent} as durable steps (see ./durable-steps.ts). */
export function* writeCurrentSteps(fs: Fs, dir: string, versionId: number, versionChecksum: number, progress?: PointerProgress): DurableSteps<void> {
  const bytes = encodeCurrent({ versionId, versionChecksum });
  const tmp = createTmp(fs, dir);
  try {
    tmp.file.write(bytes);
    yield { file: tmp.file };
  } catch (error) {
    try {
      tmp.file.close();
    } catch {
      // The write already failed; report that.
    }
    removeQuietly(fs, tmp.path);
    throw error;
  }
  try {
    tmp.file.close();
    fs.rename(tmp.path, joinPath(dir, CURRENT_FILE_NAME));
  } catch (error) {
    removeQuietly(fs, tmp.path);
    throw error;
  }
  if (progress !== undefined) progress.renamed = true;
  yield { dir };
}

function createTmp(fs: Fs, dir: string): { path: string; file: FsFile } {
  for (let n = 0; ; n++) {
    const path = joinPath(dir, `${CURRENT_TMP_PREFIX}${n}`);
    try {
      return { path, file: fs.open(path, { write: true, createNew: true }) };
    } catch (error) {
      if (!hasCode(error, "EEXIST") || n + 1 >= MAX_TMP_ATTEMPTS) throw error;
    }
  }
}
