import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { Random, useTempDirs } from "@talus/testkit";
import { checksum } from "../src/coding/checksum.ts";
import { LsmError } from "../src/errors.ts";
import { JOURNAL_HEADER_BYTES, JOURNAL_MAGIC, journalPreviousLength, RANGE_TAG, replayJournal } from "../src/journal/index.ts";
import { encodeJournalHeader } from "../src/journal/journal-format.ts";
import { JournalWriter } from "../src/journal/journal-writer.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { caught } from "./helpers.ts";
import { appendModel, fileBytes, randomGroup, replayAll, summarize, writeBytes, type ModelGroup } from "./journal-support.ts";

const dirs = useTempDirs(afterEach);

function expectLsmError(fn: () => unknown, code: string, name: string): void {
  const error = caught(fn);
  expect(error).toBeInstanceOf(LsmError);
  expect((error as LsmError).code).toBe(code);
  expect((error as LsmError).message).toContain(name);
}

/** Writes `count` random groups to journal `number` at `path`; returns them and each record's end offset. */
async function writeJournal(fs: Fs, path: string, number: number, rng: Random, count: number, bigValues = 0.02): Promise<{ groups: ModelGroup[]; ends: number[] }> {
  const writer = JournalWriter.create(fs, path, number);
  const groups: ModelGroup[] = [];
  const ends: number[] = [];
  let seqno = rng.chance(0.3) ? Number.MAX_SAFE_INTEGER - 10 * count : rng.int(1000);
  for (let i = 0; i < count; i++) {
    const group = randomGroup(rng, seqno, { bigValues });
    seqno += rng.range(1, 5);
    appendModel(writer, group, rng);
    groups.push(group);
    ends.push(writer.appendedBytes);
    if (rng.chance(0.05)) await writer.persist();
    else if (rng.chance(0.05)) writer.writeOut();
  }
  await writer.close();
  return { groups, ends };
}

describe("journal round trip", () => {
  const backends: [string, () => { fs: Fs; dir: string }][] = [
    ["MemFs", () => ({ fs: new MemFs(), dir: "/db" })],
    ["StdFs", () => ({ fs: new StdFs(), dir: dirs.make("journal") })],
  ];
  for (const [name, make] of backends) {
    it(`replays every group as appended (${name})`, async () => {
      for (const seed of [1, 2, 3]) {
        const rng = new Random(seed);
        const { fs, dir } = make();
        fs.createDirAll(dir);
        const path = join(dir, `journal-${seed}`);
        const { groups, ends } = await writeJournal(fs, path, 40 + seed, rng, 400, 0.03);
        const size = fs.metadata(path).len;
        expect(size).toBe(ends.at(-1));
        expect(size).toBeGreaterThan(3 * 64 * 1024); // big values crossed the write-out threshold
        const { groups: replayed, result } = replayAll(fs, path, 40 + seed);
        expect(summarize(replayed)).toEqual(summarize(groups));
        const maxSeqno = Math.max(...groups.map((g) => g.seqno));
        expect(result).toEqual({ groups: groups.length, bytesReplayed: size, tornBytes: 0, maxSeqno, previousLength: 0 });
      }
    });
  }

  it("keeps every op kind, empty values and seqnos up to 2^53 - 1", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 0);
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    writer.appendPoint(0, ValueKind.Value, bytes("a"), new Uint8Array(0));
    writer.appendPoint(1, ValueKind.Tombstone, bytes("b"), new Uint8Array(0));
    writer.appendPoint(2 ** 31, ValueKind.WeakTombstone, bytes("c"), new Uint8Array(0));
    writer.appendPoint(2 ** 32 + 5, ValueKind.MergeOperand, bytes("d"), bytes("+1"));
    writer.appendRange(Number.MAX_SAFE_INTEGER, bytes("e"), bytes("f"));
    writer.appendGroup(7, [], []);
    writer.appendGroup(8, [{ kind: ValueKind.Value, key: bytes("k"), value: bytes("v") }], [{ start: bytes("x"), end: bytes("y") }]);
    await writer.close();
    const { groups, result } = replayAll(fs, "/j", 0);
    expect(groups.map((g) => [g.seqno, g.ops.map((op) => [op.tag, new TextDecoder().decode(op.key), new TextDecoder().decode(op.value)])])).toEqual([
      [0, [[ValueKind.Value, "a", ""]]],
      [1, [[ValueKind.Tombstone, "b", ""]]],
      [2 ** 31, [[ValueKind.WeakTombstone, "c", ""]]],
      [2 ** 32 + 5, [[ValueKind.MergeOperand, "d", "+1"]]],
      [Number.MAX_SAFE_INTEGER, [[RANGE_TAG, "e", "f"]]],
      [7, []],
      [8, [[ValueKind.Value, "k", "v"], [RANGE_TAG, "x", "y"]]],
    ]);
    expect(result.maxSeqno).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("hands out views valid during the visit only, and forEachOp may run twice", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 3);
    writer.appendPoint(5, ValueKind.Value, Uint8Array.of(1), Uint8Array.of(2));
    await writer.close();
    let kept: { forEachOp(fn: () => void): void } | undefined;
    let calls = 0;
    replayJournal(fs, "/j", 3, (group) => {
      group.forEachOp(() => calls++);
      group.forEachOp(() => calls++);
      kept = group;
    });
    expect(calls).toBe(2);
    expect(() => kept?.forEachOp(() => undefined)).toThrow(/while it is being visited/);
  });

  it("passes an error thrown by the visitor through", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 3);
    writer.appendPoint(5, ValueKind.Value, Uint8Array.of(1), Uint8Array.of(2));
    await writer.close();
    const boom = new Error("boom");
    expect(
      caught(() =>
        replayJournal(fs, "/j", 3, () => {
          throw boom;
        }),
      ),
    ).toBe(boom);
  });
});

describe("journal torn tails", () => {
  it("cuts a truncated file at the last whole record, at every byte offset of the last records", async () => {
    const rng = new Random(11);
    const fs = new MemFs();
    const { groups, ends } = await writeJournal(fs, "/j", 9, rng, 40, 0);
    const bytes = fileBytes(fs, "/j");
    const expected = summarize(groups);
    const firstCut = ends[ends.length - 6] as number;
    for (let cut = firstCut; cut <= bytes.length; cut++) {
      writeBytes(fs, "/cut", bytes.subarray(0, cut));
      const { groups: replayed, result } = replayAll(fs, "/cut", 9);
      const whole = ends.filter((end) => end <= cut).length;
      const end = whole === 0 ? JOURNAL_HEADER_BYTES : (ends[whole - 1] as number);
      expect(summarize(replayed)).toEqual(expected.slice(0, whole));
      expect(result.bytesReplayed).toBe(end);
      expect(result.tornBytes).toBe(cut - end);
    }
  });

  it("cuts at a record with any flipped bit, and at garbage or zeros after the last record", async () => {
    const rng = new Random(12);
    const fs = new MemFs();
    const { groups, ends } = await writeJournal(fs, "/j", 9, rng, 30, 0);
    const bytes = fileBytes(fs, "/j");
    const expected = summarize(groups);
    for (let record = 0; record < groups.length; record += 7) {
      const start = record === 0 ? JOURNAL_HEADER_BYTES : (ends[record - 1] as number);
      const end = ends[record] as number;
      for (let at = start; at < end; at++) {
        const damaged = bytes.slice();
        damaged[at] = (damaged[at] as number) ^ (1 << rng.int(8));
        writeBytes(fs, "/bad", damaged);
        const { groups: replayed, result } = replayAll(fs, "/bad", 9);
        expect(summarize(replayed)).toEqual(expected.slice(0, record));
        expect(result.bytesReplayed).toBe(start);
      }
    }
    for (const tail of [new Uint8Array(4096), rng.bytes(4096), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5)]) {
      const longer = new Uint8Array(bytes.length + tail.length);
      longer.set(bytes);
      longer.set(tail, bytes.length);
      writeBytes(fs, "/long", longer);
      const { groups: replayed, result } = replayAll(fs, "/long", 9);
      expect(summarize(replayed)).toEqual(expected);
      expect(result).toMatchObject({ bytesReplayed: bytes.length, tornBytes: tail.length });
    }
  });

  it("reports a record whose CRC matches but whose contents do not parse as CORRUPTION", () => {
    const fs = new MemFs();
    const cases = [
      Uint8Array.of(5, 1, 0x04, 1, 0x61, 0), // tag 4 (indirection) never appears in a journal
      Uint8Array.of(5, 2, 0x00, 1, 0x61, 0), // op count 2, one op
      Uint8Array.of(5, 1, 0x00, 9, 0x61, 0), // key length past the payload
      Uint8Array.of(5, 0, 7), // a byte after the last op
    ];
    for (const payload of cases) {
      const header = encodeJournalHeader(1);
      const file = new Uint8Array(header.length + 8 + payload.length);
      file.set(header);
      const view = new DataView(file.buffer);
      view.setUint32(header.length, payload.length, true);
      view.setUint32(header.length + 4, checksum(payload), true);
      file.set(payload, header.length + 8);
      writeBytes(fs, "/j1", file);
      expectLsmError(() => replayAll(fs, "/j1", 1), "CORRUPTION", "/j1");
    }
  });
});

describe("journal header", () => {
  it("reads an empty or shorter-than-header file as an empty journal", () => {
    const fs = new MemFs();
    const header = encodeJournalHeader(4);
    for (let length = 0; length < JOURNAL_HEADER_BYTES; length++) {
      writeBytes(fs, "/j", header.subarray(0, length));
      expect(replayAll(fs, "/j", 4)).toEqual({ groups: [], result: { groups: 0, bytesReplayed: 0, tornBytes: length, maxSeqno: undefined, previousLength: 0 } });
    }
    writeBytes(fs, "/j", header);
    expect(replayAll(fs, "/j", 4).result).toEqual({ groups: 0, bytesReplayed: JOURNAL_HEADER_BYTES, tornBytes: 0, maxSeqno: undefined, previousLength: 0 });
  });

  it("leaves a created journal empty until something is written out", async () => {
    const fs = new MemFs();
    const writer = JournalWriter.create(fs, "/j", 4);
    writer.appendPoint(1, ValueKind.Value, Uint8Array.of(1), Uint8Array.of(1));
    expect(fs.metadata("/j").len).toBe(0);
    expect(replayAll(fs, "/j", 4).result.groups).toBe(0);
    writer.writeOut();
    expect(replayAll(fs, "/j", 4).result.groups).toBe(1);
    await writer.close();
  });

  it("reports a damaged header, another magic or another journal's number as CORRUPTION naming the file", async () => {
    const fs = new MemFs();
    fs.createDirAll("/db");
    const writer = JournalWriter.create(fs, "/db/j7", 7);
    writer.appendPoint(1, ValueKind.Value, Uint8Array.of(1), Uint8Array.of(1));
    await writer.close();
    const bytes = fileBytes(fs, "/db/j7");
    for (let at = 0; at < JOURNAL_HEADER_BYTES; at++) {
      for (const bit of [0, 3, 7]) {
        const damaged = bytes.slice();
        damaged[at] = (damaged[at] as number) ^ (1 << bit);
        writeBytes(fs, "/db/j7", damaged);
        expectLsmError(() => replayAll(fs, "/db/j7", 7), "CORRUPTION", "/db/j7");
      }
    }
    writeBytes(fs, "/db/j7", bytes);
    expectLsmError(() => replayAll(fs, "/db/j7", 8), "CORRUPTION", "/db/j7");
    const renamed = bytes.slice();
    renamed.set(encodeJournalHeader(2 ** 40));
    writeBytes(fs, "/db/j7", renamed);
    expectLsmError(() => replayAll(fs, "/db/j7", 7), "CORRUPTION", "/db/j7");
    const other = bytes.slice();
    other.set(Uint8Array.of(0x54, 0x4c, 0x56, 0x46)); // a version file's magic
    writeBytes(fs, "/db/j7", other);
    expectLsmError(() => replayAll(fs, "/db/j7", 7), "CORRUPTION", "/db/j7");
  });

  it("reports an intact header of another format version as UNSUPPORTED_FORMAT", () => {
    const fs = new MemFs();
    const header = encodeJournalHeader(7);
    header[JOURNAL_MAGIC.length] = 3;
    const crcAt = JOURNAL_HEADER_BYTES - 4;
    new DataView(header.buffer).setUint32(crcAt, checksum(header.subarray(0, crcAt)), true);
    writeBytes(fs, "/j7", header);
    expectLsmError(() => replayAll(fs, "/j7", 7), "UNSUPPORTED_FORMAT", "/j7");
  });

  it("records the previous journal's length in the header, and reads a zero header as an empty journal", () => {
    const fs = new MemFs();
    writeBytes(fs, "/j9", encodeJournalHeader(9, 123_456_789_012));
    expect(replayAll(fs, "/j9", 9).result.previousLength).toBe(123_456_789_012);
    expect(journalPreviousLength(fs, "/j9", 9)).toBe(123_456_789_012);
    // A file whose first write never landed (zeros where the header should be) but a later one did.
    const zeros = new Uint8Array(JOURNAL_HEADER_BYTES + 100);
    zeros.fill(7, JOURNAL_HEADER_BYTES);
    writeBytes(fs, "/j10", zeros);
    expect(replayAll(fs, "/j10", 10).result).toEqual({ groups: 0, bytesReplayed: 0, tornBytes: zeros.length, maxSeqno: undefined, previousLength: 0 });
    expect(journalPreviousLength(fs, "/j10", 10)).toBe(0);
  });

  it("fails a missing file with ENOENT", () => {
    expect(caught(() => replayAll(new MemFs(), "/nope", 1))).toMatchObject({ code: "ENOENT" });
  });
});
