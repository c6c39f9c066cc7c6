/**
 * A deliberately simple {@link ValueLog} for testing lsm-core's key-value separation hooks without
 * `@talus/vlog` (which depends on lsm-core): a blob file is the values one after another, a handle is
 * `file id | offset | length` (3 x u32 LE), the file checksum is the CRC-32 of the whole file.
 */
import { crc32 } from "node:zlib";
import type { Fs } from "@talus/fs";
import { LsmError, type BlobFileInfo, type BlobReference, type BlobWriter, type ValueLog } from "../src/index.ts";

export class FakeValueLog implements ValueLog {
  readonly separationThreshold: number;
  readonly maxValueBytes = 64 * 1024 * 1024;
  stalenessThreshold = 0.5;
  ageCutoff = 1;
  /** Values copied by `relocate`. */
  relocations = 0;
  /** Blob reads served (`read` calls), so tests can tell a read that does not touch blobs. */
  reads = 0;
  readonly forgotten: number[] = [];
  readonly #fs: Fs;
  readonly #dir: string;

  constructor(fs: Fs, treePath: string, separationThreshold: number) {
    this.#fs = fs;
    this.#dir = `${treePath}/blobs`;
    this.separationThreshold = separationThreshold;
  }

  newWriter(nextId: () => number): BlobWriter {
    const fs = this.#fs;
    const dir = this.#dir;
    const log = this;
    let id: number | undefined;
    let chunks: Uint8Array[] = [];
    let offset = 0;
    let state: "open" | "finished" | "aborted" = "open";
    return {
      get bytesWritten() {
        return offset;
      },
      add(_key, _seqno, value) {
        id ??= nextId();
        const handle = new Uint8Array(12);
        const view = new DataView(handle.buffer);
        view.setUint32(0, id, true);
        view.setUint32(4, offset, true);
        view.setUint32(8, value.length, true);
        chunks.push(value.slice());
        offset += value.length;
        return handle;
      },
      relocate(key, seqno, handle) {
        log.relocations++;
        return this.add(key, seqno, log.read(key, handle));
      },
      async finish() {
        if (id === undefined) return [];
        const bytes = concat(chunks);
        const path = `${dir}/${id}`;
        const file = fs.open(path, { write: true, createNew: true });
        file.write(bytes);
        file.sync();
        file.close();
        fs.syncDirectory(dir);
        state = "finished";
        chunks = [];
        return [info(id, bytes)];
      },
      abort() {
        if (state !== "open" || id === undefined) return;
        state = "aborted";
        if (fs.exists(`${dir}/${id}`)) fs.removeFile(`${dir}/${id}`);
      },
    };
  }

  read(_key: Uint8Array, handle: Uint8Array): Uint8Array {
    this.reads++;
    const { blobFileId, offset, length } = decode(handle);
    const path = `${this.#dir}/${blobFileId}`;
    const file = this.#fs.open(path, { read: true });
    try {
      if (offset + length > file.len()) throw new LsmError("CORRUPTION", `blob file ${path}: handle points past the end`);
      const out = new Uint8Array(length);
      file.readAt(out, offset);
      return out;
    } finally {
      file.close();
    }
  }

  valueSize(handle: Uint8Array): number {
    return decode(handle).length;
  }

  reference(handle: Uint8Array): BlobReference {
    const { blobFileId, length } = decode(handle);
    return { blobFileId, valueBytes: length, storedBytes: length };
  }

  describe(id: number): BlobFileInfo {
    const path = `${this.#dir}/${id}`;
    const file = this.#fs.open(path, { read: true });
    try {
      const bytes = new Uint8Array(file.len());
      file.readAt(bytes, 0);
      return info(id, bytes);
    } finally {
      file.close();
    }
  }

  verifyFile(id: number): void {
    this.describe(id);
  }

  forget(id: number): void {
    this.forgotten.push(id);
  }

  close(): void {}
}

function info(id: number, bytes: Uint8Array): BlobFileInfo {
  return { id, fileSize: bytes.length, fileChecksum: crc32(bytes) >>> 0, itemCount: 0, valueBytes: bytes.length, storedBytes: bytes.length };
}

function decode(handle: Uint8Array): { blobFileId: number; offset: number; length: number } {
  if (handle.length !== 12) throw new LsmError("CORRUPTION", `bad handle of ${handle.length} bytes`);
  const view = new DataView(handle.buffer, handle.byteOffset, handle.byteLength);
  return { blobFileId: view.getUint32(0, true), offset: view.getUint32(4, true), length: view.getUint32(8, true) };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
