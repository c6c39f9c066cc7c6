import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { FaultFs, isInjected, Random } from "@talus/testkit";
import { LsmError } from "../src/errors.ts";
import { JOURNAL_HEADER_BYTES, JOURNAL_WRITE_OUT_BYTES } from "../src/journal/index.ts";
import { JournalWriter } from "../src/journal/journal-writer.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { caught } from "./helpers.ts";
import { appendModel, randomGroup, replayAll, summarize, SyncRecordingFs, type ModelGroup } from "./journal-support.ts";

const KEY = Uint8Array.of(1, 2, 3);
const VALUE = new Uint8Array(100).fill(7);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("JournalWriter buffering", () => {
  it("writes the buffer out in one write when it passes 64 KiB, on writeOut and on persist", async () => {
    const fs = new SyncRecordingFs(0);
    const writer = JournalWriter.create(fs, "/j", 1);
    let appended = 0;
    while (writer.writtenBytes === 0) {
      writer.appendPoint(++appended, ValueKind.Value, KEY, VALUE);
      expect(fs.writes).toBe(writer.writtenBytes === 0 ? 0 : 1);
    }
    expect(writer.writtenBytes).toBeGreaterThanOrEqual(JOURNAL_WRITE_OUT_BYTES);
    expect(writer.writtenBytes).toBeLessThan(JOURNAL_WRITE_OUT_BYTES + 200);
    expect(writer.writtenBytes).toBe(writer.appendedBytes);
    writer.appendPoint(++appended, ValueKind.Value, KEY, VALUE);
    expect(writer.writtenBytes).toBeLessThan(writer.appendedBytes);
    writer.writeOut();
    expect(fs.writes).toBe(2);
    writer.writeOut(); // nothing buffered: no write
    expect(fs.writes).toBe(2);
    writer.appendPoint(++appended, ValueKind.Value, KEY, VALUE);
    await writer.persist();
    expect(fs.writes).toBe(3);
    expect(writer.persistedBytes).toBe(writer.appendedBytes);
    expect(fs.metadata("/j").len).toBe(writer.appendedBytes);
    await writer.close();
    expect(replayAll(fs, "/j", 1).result.groups).toBe(appended);
  });

  it("takes a group of megabytes in one record", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 1);
    const big = new Random(3).bytes(3 * 1024 * 1024);
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    writer.appendGroup(2, [{ kind: ValueKind.Value, key: KEY, value: big }, { kind: ValueKind.MergeOperand, key: VALUE, value: big }], []);
    writer.appendPoint(3, ValueKind.Value, KEY, VALUE);
    await writer.close();
    const { groups } = replayAll(fs, "/j", 1);
    expect(groups.map((g) => g.seqno)).toEqual([1, 2, 3]);
    expect(Buffer.compare(groups[1]?.ops[1]?.value ?? new Uint8Array(0), big)).toBe(0);
  });

  it("refuses bad arguments before appending anything", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 1);
    expect(caught(() => writer.appendPoint(1, ValueKind.Indirection, KEY, VALUE))).toBeInstanceOf(RangeError);
    expect(caught(() => writer.appendPoint(-1, ValueKind.Value, KEY, VALUE))).toBeInstanceOf(RangeError);
    expect(caught(() => writer.appendRange(2 ** 53, KEY, VALUE))).toBeInstanceOf(RangeError);
    expect(caught(() => writer.appendPoint(1.5, ValueKind.Value, KEY, VALUE))).toBeInstanceOf(RangeError);
    const bad = [{ kind: ValueKind.Value, key: KEY, value: VALUE }, { kind: ValueKind.Indirection, key: KEY, value: VALUE }];
    expect(caught(() => writer.appendGroup(1, bad, []))).toBeInstanceOf(RangeError);
    expect(writer.appendedBytes).toBe(JOURNAL_HEADER_BYTES);
    expect(caught(() => JournalWriter.create(fs, "/k", -1))).toBeInstanceOf(RangeError);
    expect(caught(() => JournalWriter.create(fs, "/k", 2 ** 53))).toBeInstanceOf(RangeError);
    expect(fs.exists("/k")).toBe(false);
    expect(caught(() => JournalWriter.create(fs, "/j", 2))).toMatchObject({ code: "EEXIST" });
    await writer.close();
    expect(replayAll(fs, "/j", 1).result.groups).toBe(0);
  });

  it("refuses appends and persists after close, and close twice is one close", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 1);
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    const closing = writer.close();
    expect(writer.close()).toBe(closing);
    expect(caught(() => writer.appendPoint(2, ValueKind.Value, KEY, VALUE))).toMatchObject({ code: "CLOSED" });
    await closing;
    await writer.close();
    expect(await rejection(writer.persist())).toMatchObject({ code: "CLOSED" });
    expect(caught(() => writer.writeOut())).toBeInstanceOf(LsmError);
    expect(replayAll(fs, "/j", 1).result.groups).toBe(1);
  });

  it("abandon drops what was not written out and keeps what was", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 1);
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    await writer.persist();
    writer.appendPoint(2, ValueKind.Value, KEY, VALUE);
    const waiting = writer.persist();
    writer.abandon();
    writer.abandon();
    expect(await rejection(waiting)).toMatchObject({ code: "CLOSED" });
    expect(caught(() => writer.appendPoint(3, ValueKind.Value, KEY, VALUE))).toMatchObject({ code: "CLOSED" });
    await writer.close();
    expect(replayAll(fs, "/j", 1).groups.map((g) => g.seqno)).toEqual([1]);
  });
});

describe("JournalWriter group commit", () => {
  it("64 concurrent persists after appends cost one sync of the file and one of its directory", async () => {
    const fs = new SyncRecordingFs();
    fs.createDirAll("/db");
    const writer = JournalWriter.create(fs, "/db/j", 1);
    for (let i = 0; i < 64; i++) writer.appendPoint(i, ValueKind.Value, KEY, VALUE);
    await Promise.all(Array.from({ length: 64 }, () => writer.persist()));
    expect(fs.fileSyncs).toBe(1);
    expect(fs.directorySyncs).toBe(1);
    expect(fs.durableSize.get("/db/j")).toBe(writer.appendedBytes);
    // Nothing new: no sync at all, and the directory is never synced again.
    await Promise.all(Array.from({ length: 64 }, () => writer.persist()));
    writer.appendPoint(64, ValueKind.Value, KEY, VALUE);
    await writer.persist();
    expect(fs.fileSyncs).toBe(2);
    expect(fs.directorySyncs).toBe(1);
    await writer.close();
  });

  it("callers arriving during a sync share the one sync after it, and each waits for its records", async () => {
    const fs = new SyncRecordingFs(5);
    const writer = JournalWriter.create(fs, "/j", 1);
    writer.appendPoint(0, ValueKind.Value, KEY, VALUE);
    const first = writer.persist();
    await fs.delay(); // the first sync is in flight now
    expect(fs.fileSyncs).toBe(1);
    const settled: string[] = [];
    const waits = Array.from({ length: 64 }, (_, i) => {
      writer.appendPoint(i + 1, ValueKind.Value, KEY, VALUE);
      const target = writer.appendedBytes;
      return writer.persist().then(() => {
        expect(fs.durableSize.get("/j")).toBeGreaterThanOrEqual(target);
        settled.push(`caller ${i}`);
      });
    });
    await first;
    expect(fs.durableSize.get("/j")).toBeLessThan(writer.appendedBytes);
    expect(settled).toEqual([]);
    await Promise.all(waits);
    expect(fs.fileSyncs).toBe(2);
    expect(fs.durableSize.get("/j")).toBe(writer.appendedBytes);
    await writer.close();
  });

  it("concurrent committers appending at random times each see their records synced, with far fewer syncs than commits", async () => {
    const fs = new SyncRecordingFs(2);
    const writer = JournalWriter.create(fs, "/j", 1);
    const rng = new Random(5);
    let seqno = 0;
    const appended: ModelGroup[] = [];
    const committer = async (): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, rng.int(4)));
        const group = randomGroup(rng, seqno++, { bigValues: 0 });
        appendModel(writer, group, rng);
        appended.push(group);
        const target = writer.appendedBytes;
        await writer.persist();
        expect(fs.durableSize.get("/j")).toBeGreaterThanOrEqual(target);
      }
    };
    await Promise.all(Array.from({ length: 32 }, committer));
    expect(fs.fileSyncs).toBeLessThan(256 / 2);
    await writer.close();
    expect(summarize(replayAll(fs, "/j", 1).groups)).toEqual(summarize(appended));
  });

  it("with sync none, persist writes out and never syncs", async () => {
    const fs = new SyncRecordingFs();
    const writer = JournalWriter.create(fs, "/j", 1, { sync: "none" });
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    await writer.persist();
    expect(fs.metadata("/j").len).toBe(writer.appendedBytes);
    expect(writer.persistedBytes).toBe(writer.appendedBytes);
    await writer.close();
    expect(fs.fileSyncs + fs.directorySyncs).toBe(0);
    expect(replayAll(fs, "/j", 1).result.groups).toBe(1);
  });
});

describe("JournalWriter failures", () => {
  it("a failing sync rejects every waiting persist with its code and fails the writer", async () => {
    const fs = new FaultFs(new MemFs(), [{ ops: "sync", after: 1, error: "EIO" }]);
    const writer = JournalWriter.create(fs, "/j", 1);
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    await writer.persist();
    writer.appendPoint(2, ValueKind.Value, KEY, VALUE);
    const errors = await Promise.all([writer.persist(), writer.persist()].map(rejection));
    for (const error of errors) {
      expect(isInjected(error)).toBe(true);
      expect(error).toMatchObject({ code: "EIO" });
    }
    expect(writer.failure).toBe(errors[0]);
    expect(caught(() => writer.appendPoint(3, ValueKind.Value, KEY, VALUE))).toBe(errors[0]);
    expect(caught(() => writer.appendGroup(3, [], []))).toBe(errors[0]);
    expect(caught(() => writer.writeOut())).toBe(errors[0]);
    expect(await rejection(writer.persist())).toBe(errors[0]);
    // The rule fired once: a later sync would pass, but the writer must not claim durability again.
    expect(await rejection(writer.close())).toBe(errors[0]);
    expect(fs.injected).toHaveLength(1);
  });

  it("a failing directory sync on the first persist fails the writer too", async () => {
    const fs = new FaultFs(new MemFs(), [{ ops: "syncDirectory", error: "EIO" }]);
    const writer = JournalWriter.create(fs, "/j", 1);
    writer.appendPoint(1, ValueKind.Value, KEY, VALUE);
    expect(await rejection(writer.persist())).toMatchObject({ code: "EIO" });
    expect(caught(() => writer.appendPoint(2, ValueKind.Value, KEY, VALUE))).toMatchObject({ code: "EIO" });
    writer.abandon();
  });

  it("a failing write fails the append that filled the buffer, or the persist, and the writer", async () => {
    const fs = new FaultFs(new MemFs(), [{ ops: "write", error: "ENOSPC" }]);
    const writer = JournalWriter.create(fs, "/j", 1);
    let error: unknown;
    for (let i = 0; error === undefined; i++) {
      try {
        writer.appendPoint(i, ValueKind.Value, KEY, VALUE);
      } catch (thrown) {
        error = thrown;
      }
    }
    expect(error).toMatchObject({ code: "ENOSPC" });
    expect(await rejection(writer.persist())).toBe(error);

    const fs2 = new FaultFs(new MemFs(), [{ ops: "write", error: { torn: true, keepBytes: 30 } }]);
    const writer2 = JournalWriter.create(fs2, "/j", 1);
    writer2.appendPoint(1, ValueKind.Value, KEY, VALUE);
    expect(await rejection(writer2.persist())).toMatchObject({ code: "EIO" });
    expect(caught(() => writer2.appendPoint(2, ValueKind.Value, KEY, VALUE))).toMatchObject({ code: "EIO" });
    writer2.abandon();
    // What the torn write left is a torn tail: the header and nothing else.
    expect(replayAll(fs2.inner, "/j", 1).result).toMatchObject({ groups: 0, bytesReplayed: JOURNAL_HEADER_BYTES, tornBytes: 30 - JOURNAL_HEADER_BYTES });
  });
});
