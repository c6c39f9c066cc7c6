import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { LsmError } from "../src/errors.ts";
import type { PointLookup } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { LZ4_CODEC, Table, TableWriter, type TableWriterOptions } from "../src/table/index.ts";
import { caches, modelGet, openTable, randomEntries, REVERSE, scanAll, show, type ModelEntry } from "./table-support.ts";

const OPTIONS: TableWriterOptions = { tableId: 7, createdAtMs: 1234, codec: LZ4_CODEC, blockSize: 512 };

function written(fs: MemFs, path: string, entries: readonly ModelEntry[], options: TableWriterOptions = OPTIONS): TableWriter {
  const writer = new TableWriter(fs, path, options);
  for (const e of entries) writer.add(e.key, e.seqno, e.kind, e.value);
  writer.finish();
  return writer;
}

describe("Table.fromWriter", () => {
  const entries = randomEntries(new Random(11), BYTEWISE_COMPARATOR, 5_000);

  it("opens the table its writer finished as Table.open would: same meta, entries and lookups", () => {
    for (const filterBitsPerKey of [10, 0]) {
      const fs = new MemFs();
      const writer = written(fs, "/t", entries, { ...OPTIONS, filterBitsPerKey });
      const adopted = Table.fromWriter(fs, writer.written(), { tableId: 7, ...caches() });
      const opened = openTable(fs, "/t", { tableId: 7 });
      expect(adopted.meta).toEqual(opened.meta);
      expect(show(scanAll(adopted))).toEqual(show(entries));
      const rng = new Random(5);
      for (let i = 0; i < 300; i++) {
        const probe = rng.pick(entries);
        const seqno = rng.int(1200);
        const want = modelGet(BYTEWISE_COMPARATOR, entries, probe.key, seqno);
        const out: PointLookup = { seqno: 0, kind: ValueKind.Value, value: new Uint8Array(0) };
        expect(adopted.get(probe.key, seqno, out)).toBe(want !== undefined);
        if (want !== undefined) expect([out.seqno, Buffer.from(out.value).toString("hex")]).toEqual([want.seqno, Buffer.from(want.value).toString("hex")]);
      }
    }
  });

  it("is refused before the writer finished, and keeps Table.open's identity checks", async () => {
    const fs = new MemFs();
    const open = new TableWriter(fs, "/open", OPTIONS);
    open.add(new Uint8Array([1]), 1, ValueKind.Value, new Uint8Array([2]));
    expect(() => open.written()).toThrow(/not finished/);
    open.abort();
    expect(() => open.written()).toThrow(/not finished/);

    const pending = new TableWriter(fs, "/async", { ...OPTIONS, backgroundSyncBytes: 1024 });
    for (const e of entries) pending.add(e.key, e.seqno, e.kind, e.value);
    const finishing = pending.finishAsync(() => new Promise((resolve) => setImmediate(resolve)));
    // Sealed but not yet synced: a version must not name the table yet.
    expect(() => pending.written()).toThrow(/not finished/);
    await finishing;
    expect(Table.fromWriter(fs, pending.written(), { tableId: 7, ...caches() }).meta.entryCount).toBe(entries.length);

    const writer = written(fs, "/t", entries);
    const wrongId = (): unknown => Table.fromWriter(fs, writer.written(), { tableId: 8, ...caches() });
    expect(wrongId).toThrow(LsmError);
    expect(wrongId).toThrow(/expected table 8/);
    const wrongOrder = (): unknown => Table.fromWriter(fs, writer.written(), { tableId: 7, comparator: REVERSE, ...caches() });
    expect(wrongOrder).toThrow(expect.objectContaining({ code: "COMPARATOR_MISMATCH" }));
  });
});
