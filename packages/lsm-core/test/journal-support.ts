/** Shared pieces of the journal tests: random groups, a model of what was appended, replay into it, a sync-recording Fs. */
import { ForwardingFs, MemFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { ForwardingFile, type Random } from "@talus/testkit";
import { checksum } from "../src/coding/checksum.ts";
import { RANGE_TAG, replayJournal, type JournalOpTag, type JournalPoint, type JournalRange, type ReplayResult } from "../src/journal/index.ts";
import { JournalWriter } from "../src/journal/journal-writer.ts";
import { ValueKind } from "../src/key/value-kind.ts";

export interface ModelOp {
  readonly tag: JournalOpTag;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface ModelGroup {
  readonly seqno: number;
  /** Points first, then ranges: the order appendGroup writes them in. */
  readonly ops: readonly ModelOp[];
}

const EMPTY = new Uint8Array(0);
const POINT_KINDS = [ValueKind.Value, ValueKind.Tombstone, ValueKind.WeakTombstone, ValueKind.MergeOperand] as const;

export interface GroupShape {
  /** Chance of a value of 64 KiB or more (crossing the write-out threshold on its own). */
  readonly bigValues?: number;
  readonly maxOps?: number;
}

/** A random group at `seqno`: points of every kind, ranges, empty values, now and then a big value or no op at all. */
export function randomGroup(rng: Random, seqno: number, shape: GroupShape = {}): ModelGroup {
  const big = shape.bigValues ?? 0.02;
  const count = rng.chance(0.03) ? 0 : rng.range(1, shape.maxOps ?? 6);
  const points: ModelOp[] = [];
  const ranges: ModelOp[] = [];
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.15)) {
      ranges.push({ tag: RANGE_TAG, key: rng.bytes(rng.range(1, 24)), value: rng.bytes(rng.range(1, 24)) });
      continue;
    }
    const tag = rng.pick(POINT_KINDS);
    const deletion = tag === ValueKind.Tombstone || tag === ValueKind.WeakTombstone;
    let value: Uint8Array = EMPTY;
    if (!deletion && !rng.chance(0.2)) value = rng.bytes(rng.chance(big) ? rng.range(64 * 1024, 200 * 1024) : rng.range(1, 300));
    points.push({ tag, key: rng.bytes(rng.range(1, 40)), value });
  }
  return { seqno, ops: [...points, ...ranges] };
}

/** Appends `group` through whichever append method fits it (chosen at random when several do). */
export function appendModel(writer: JournalWriter, group: ModelGroup, rng: Random): void {
  const only = group.ops.length === 1 ? (group.ops[0] as ModelOp) : undefined;
  if (only !== undefined && rng.chance(0.7)) {
    if (only.tag === RANGE_TAG) writer.appendRange(group.seqno, only.key, only.value);
    else writer.appendPoint(group.seqno, only.tag, only.key, only.value);
    return;
  }
  const points: JournalPoint[] = [];
  const ranges: JournalRange[] = [];
  for (const op of group.ops) {
    if (op.tag === RANGE_TAG) ranges.push({ start: op.key, end: op.value });
    else points.push({ kind: op.tag, key: op.key, value: op.value });
  }
  writer.appendGroup(group.seqno, points, ranges);
}

/** Every group of the journal, copied out of the replay's views. */
export function replayAll(fs: Fs, path: string, number: number): { groups: ModelGroup[]; result: ReplayResult } {
  const groups: ModelGroup[] = [];
  const result = replayJournal(fs, path, number, (group) => {
    const ops: ModelOp[] = [];
    group.forEachOp((tag, key, value) => ops.push({ tag, key: key.slice(), value: value.slice() }));
    if (ops.length !== group.opCount) throw new Error(`opCount ${group.opCount} but ${ops.length} ops`);
    groups.push({ seqno: group.seqno, ops });
  });
  return { groups, result };
}

/**
 * The groups as strings, one per group, for comparisons: vitest's deep equality walks a Uint8Array
 * element by element, which takes seconds for the megabytes these tests write. Big values appear as
 * their length and CRC.
 */
export function summarize(groups: readonly ModelGroup[]): string[] {
  const show = (bytes: Uint8Array): string => (bytes.length <= 64 ? Buffer.from(bytes).toString("hex") : `${bytes.length}B:${checksum(bytes).toString(16)}`);
  return groups.map((group) => `${group.seqno}:${group.ops.map((op) => `${op.tag}/${show(op.key)}/${show(op.value)}`).join(",")}`);
}

/** A file's bytes. */
export function fileBytes(fs: Fs, path: string): Uint8Array {
  const file = fs.open(path, { read: true });
  try {
    const out = new Uint8Array(file.len());
    file.readAt(out, 0);
    return out;
  } finally {
    file.close();
  }
}

/** Writes `bytes` as the whole of a new file `path`. */
export function writeBytes(fs: Fs, path: string, bytes: Uint8Array): void {
  const file = fs.open(path, { write: true, create: true, truncate: true });
  file.write(bytes);
  file.close();
}

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * MemFs whose file syncs take a few milliseconds (async, like StdFs's threadpool) and are recorded:
 * how many, and how long the file was when each finished, so a test can tell what a sync covered.
 */
export class SyncRecordingFs extends ForwardingFs {
  fileSyncs = 0;
  directorySyncs = 0;
  writes = 0;
  /** Size of the file (by path) when its last sync finished. */
  readonly durableSize = new Map<string, number>();
  readonly #delayMs: number;

  constructor(delayMs = 3, inner: Fs = new MemFs()) {
    super(inner);
    this.#delayMs = delayMs;
  }

  override open(path: string, options: FsOpenOptions): FsFile {
    return new RecordingFile(this.inner.open(path, options), path, this);
  }

  override syncDirectory(path: string): void {
    this.directorySyncs++;
    this.inner.syncDirectory(path);
  }

  override syncDirectoryAsync(path: string): Promise<void> {
    this.directorySyncs++;
    return later(this.#delayMs).then(() => this.inner.syncDirectory(path));
  }

  delay(): Promise<void> {
    return later(this.#delayMs);
  }
}

class RecordingFile extends ForwardingFile {
  readonly #path: string;
  readonly #fs: SyncRecordingFs;

  constructor(inner: FsFile, path: string, fs: SyncRecordingFs) {
    super(inner);
    this.#path = path;
    this.#fs = fs;
  }

  override write(buffer: Uint8Array): void {
    this.#fs.writes++;
    super.write(buffer);
  }

  override sync(): void {
    this.#fs.fileSyncs++;
    const size = this.inner.len();
    this.inner.sync();
    this.#fs.durableSize.set(this.#path, size);
  }

  async syncAsync(): Promise<void> {
    this.#fs.fileSyncs++;
    // What the sync covers is what was written when it started.
    const size = this.inner.len();
    await this.#fs.delay();
    this.inner.sync();
    this.#fs.durableSize.set(this.#path, size);
  }

  override syncData(): void {
    this.sync();
  }
}
