import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { checksum } from "../src/coding/checksum.ts";
import { LsmError } from "../src/errors.ts";
import { newPointLookup } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { maskChecksum } from "../src/table/block-framing.ts";
import { BlockCursor } from "../src/table/block-reader.ts";
import { BloomFilter } from "../src/table/bloom-filter.ts";
import { DataBlock } from "../src/table/data-block.ts";
import { decodeFooter, FOOTER_SIZE, type Footer } from "../src/table/footer.ts";
import { BLOCK_TRAILER_SIZE, type BlockHandle } from "../src/table/format.ts";
import { IndexBlock } from "../src/table/index-block.ts";
import { KeyOrder } from "../src/table/keys.ts";
import { decodeProperties } from "../src/table/meta.ts";
import { decodeMetaindex } from "../src/table/metaindex.ts";
import type { Table } from "../src/table/table.ts";
import { caches, flipBit, lsmErrorOf, openTable, randomEntries, randomKey, readFile, scanAll, show, writeFile, writeTable, type ModelEntry } from "./table-support.ts";

const PATH = "/db/tables/7.sst";
const order = new KeyOrder(BYTEWISE_COMPARATOR);

/** A small table (a few KB, several blocks of each kind of content) and its bytes and footer. */
function fixture(count = 60, options: Parameters<typeof writeTable>[3] = {}): { fs: MemFs; model: ModelEntry[]; bytes: Uint8Array; footer: Footer } {
  const fs = new MemFs();
  fs.createDirAll("/db/tables");
  const model = randomEntries(new Random(99), BYTEWISE_COMPARATOR, count, { maxValue: 20 });
  writeTable(fs, PATH, model, { blockSize: 128, restartInterval: 4, ...options });
  const bytes = readFile(fs, PATH);
  return { fs, model, bytes, footer: decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), bytes.length, PATH) };
}

function regions(bytes: Uint8Array, footer: Footer): Record<string, readonly [number, number]> {
  const span = (h: BlockHandle): readonly [number, number] => [h.offset, h.offset + h.size + BLOCK_TRAILER_SIZE];
  if (footer.filter === null) throw new Error("the fixture has a filter");
  return {
    header: [0, 12],
    "data block": [12, footer.dataEnd],
    filter: span(footer.filter),
    index: span(footer.index),
    meta: span(footer.meta),
    metaindex: span(footer.metaindex),
    footer: [bytes.length - FOOTER_SIZE, bytes.length],
  };
}

function expectTableError(error: LsmError | undefined, codes: readonly string[] = ["CORRUPTION"]): void {
  expect(error).toBeInstanceOf(LsmError);
  expect(codes).toContain(error?.code);
  expect(error?.message).toContain(PATH);
}

/** Every read of a possibly damaged table either fails with CORRUPTION naming the file, or answers exactly like the model. */
function readsAreRightOrCorrupt(table: Table, model: readonly ModelEntry[]): void {
  let scanned: ModelEntry[] | undefined;
  const scanError = lsmErrorOf(() => (scanned = scanAll(table)));
  if (scanError !== undefined) expectTableError(scanError);
  else expect(show(scanned ?? [])).toEqual(show(model));
  const out = newPointLookup();
  for (const e of model) {
    let found = false;
    const error = lsmErrorOf(() => (found = table.get(e.key, e.seqno + 1, out)));
    if (error !== undefined) expectTableError(error);
    else {
      expect(found).toBe(true);
      expect([out.seqno, out.kind]).toEqual([e.seqno, e.kind]);
    }
  }
}

describe("damaged table files", () => {
  it("reports a flipped bit in each region as CORRUPTION naming the file", () => {
    const { fs, model, bytes, footer } = fixture();
    const rng = new Random(1);
    for (const [region, [start, end]] of Object.entries(regions(bytes, footer))) {
      for (let n = 0; n < 12; n++) {
        const bit = (start + rng.int(end - start)) * 8 + rng.int(8);
        writeFile(fs, PATH, flipBit(bytes, bit));
        let table: Table | undefined;
        const openError = lsmErrorOf(() => (table = openTable(fs, PATH, { tableId: 1 })));
        if (region === "data block") {
          expect(openError).toBeUndefined();
          const t = table as Table;
          expectTableError(lsmErrorOf(() => scanAll(t)));
          expectTableError(lsmErrorOf(() => t.verify()));
          readsAreRightOrCorrupt(t, model);
        } else {
          // Only the footer's format version field may read as a newer format instead.
          const codes = region === "footer" ? ["CORRUPTION", "UNSUPPORTED_FORMAT"] : ["CORRUPTION"];
          expectTableError(openError, codes);
        }
      }
    }
  });

  it("catches every single flipped bit of the file: open or verify() fails, reads are never wrong", () => {
    const { fs, model, bytes } = fixture(25);
    expect(bytes.length).toBeLessThan(2500);
    const c = caches();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      writeFile(fs, PATH, flipBit(bytes, bit));
      c.fileCache.closeAll();
      c.blockCache.clear();
      let table: Table | undefined;
      const openError = lsmErrorOf(() => (table = openTable(fs, PATH, c)));
      if (openError !== undefined) {
        expectTableError(openError, ["CORRUPTION", "UNSUPPORTED_FORMAT"]);
        continue;
      }
      const t = table as Table;
      expectTableError(lsmErrorOf(() => t.verify()));
      readsAreRightOrCorrupt(t, model);
    }
  });

  it("reports a truncated or extended file as CORRUPTION", () => {
    const { fs, bytes } = fixture();
    const cuts = [0, 1, 11, 12, 40, 87, 88, 200, bytes.length - FOOTER_SIZE - 1, bytes.length - FOOTER_SIZE, bytes.length - 9, bytes.length - 1];
    for (let cut = 0; cut < bytes.length; cut += 97) cuts.push(cut);
    for (const cut of cuts) {
      writeFile(fs, PATH, bytes.subarray(0, cut));
      expectTableError(lsmErrorOf(() => openTable(fs, PATH)));
    }
    writeFile(fs, PATH, new Uint8Array([...bytes, 0, 0, 0]));
    expectTableError(lsmErrorOf(() => openTable(fs, PATH)));
  });

  it("reports a file that shrank after open from the read that touches it", () => {
    const { fs, bytes, model } = fixture();
    const table = openTable(fs, PATH);
    writeFile(fs, PATH, bytes.subarray(0, 200));
    expectTableError(lsmErrorOf(() => scanAll(table)));
    expectTableError(lsmErrorOf(() => table.verify()));
    expect(model.length).toBeGreaterThan(0);
  });

  it("forged block checksums never crash a reader, and verify() still catches them", () => {
    const { fs, bytes, footer, model } = fixture();
    const rng = new Random(2);
    const blocks: BlockHandle[] = [footer.index, footer.meta, footer.metaindex];
    if (footer.filter !== null) blocks.push(footer.filter);
    const index = new IndexBlock(bytes.subarray(footer.index.offset, footer.index.offset + footer.index.size), PATH, footer.index.offset, order, footer.dataEnd);
    for (let i = 0; i < index.count; i++) blocks.push({ offset: index.blockOffset(i), size: index.blockSize(i) });
    for (let n = 0; n < 600; n++) {
      const handle = rng.pick(blocks);
      const copy = bytes.slice();
      const flips = 1 + rng.int(3);
      for (let f = 0; f < flips; f++) {
        const at = handle.offset + rng.int(handle.size);
        copy[at] = (copy[at] as number) ^ (1 + rng.int(255));
      }
      // Recompute the block's CRC so the damage reaches the decoders behind it. The file checksum still
      // differs because block CRCs are stored masked (unmasked, CRC(M ‖ CRC(M)) would be a constant).
      const crc = maskChecksum(checksum(copy.subarray(handle.offset, handle.offset + handle.size + 1)));
      new DataView(copy.buffer).setUint32(handle.offset + handle.size + 1, crc, true);
      writeFile(fs, PATH, copy);
      let table: Table | undefined;
      const openError = lsmErrorOf(() => (table = openTable(fs, PATH)));
      if (openError !== undefined) {
        expectTableError(openError, ["CORRUPTION", "UNSUPPORTED_FORMAT", "COMPARATOR_MISMATCH"]);
        continue;
      }
      const t = table as Table;
      lsmErrorOf(() => scanAll(t));
      lsmErrorOf(() => {
        const c = t.cursor();
        for (c.seekToLast(); c.valid(); c.prev());
        for (let i = 0; i < 20; i++) c.seek(randomKey(rng), rng.int(1000));
        for (let i = 0; i < 20; i++) c.seekForPrev(randomKey(rng));
      });
      for (const e of model.slice(0, 20)) lsmErrorOf(() => t.get(e.key, e.seqno + 1, newPointLookup()));
      expectTableError(lsmErrorOf(() => t.verify()));
    }
  });
});

describe("decoders given random bytes", () => {
  const { bytes, footer } = fixture(200);
  const slice = (h: BlockHandle): Uint8Array => bytes.slice(h.offset, h.offset + h.size);
  const firstData = (): Uint8Array => {
    const index = new IndexBlock(slice(footer.index), PATH, footer.index.offset, order, footer.dataEnd);
    return slice({ offset: index.blockOffset(0), size: index.blockSize(0) });
  };
  const inputs = (valid: Uint8Array, rng: Random): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) {
      if (i % 3 === 0) out.push(rng.bytes(rng.int(200)));
      else if (i % 3 === 1) out.push(valid.map((b) => (rng.chance(0.03) ? rng.int(256) : b)));
      else out.push(valid.subarray(0, rng.int(valid.length + 1)));
    }
    return out;
  };
  const onlyCorruption = (fn: () => unknown, codes: readonly string[] = ["CORRUPTION"]): void => {
    const error = lsmErrorOf(fn);
    if (error !== undefined) {
      expect(codes).toContain(error.code);
      expect(error.message).toContain("/fuzz");
    }
  };

  it("data block and its cursor", () => {
    const rng = new Random(3);
    for (const input of inputs(firstData(), rng)) {
      onlyCorruption(() => {
        const cursor = new BlockCursor(order);
        cursor.reset(new DataBlock(input, "/fuzz", 0));
        let steps = 0;
        for (cursor.seekToFirst(); cursor.valid() && steps < 1000; cursor.next()) steps++;
        steps = 0;
        for (cursor.seekToLast(); cursor.valid() && steps < 1000; cursor.prev()) steps++;
        for (let i = 0; i < 5; i++) {
          cursor.seek(randomKey(rng), rng.int(1000));
          if (cursor.valid()) cursor.prev();
          cursor.seekForPrev(randomKey(rng));
          if (cursor.valid()) cursor.next();
        }
      });
    }
  });

  it("index block", () => {
    for (const input of inputs(slice(footer.index), new Random(4))) onlyCorruption(() => new IndexBlock(input, "/fuzz", 0, order, footer.dataEnd));
  });

  it("meta block", () => {
    for (const input of inputs(slice(footer.meta), new Random(5))) onlyCorruption(() => decodeProperties(input, "/fuzz", 0));
  });

  it("metaindex block", () => {
    for (const input of inputs(slice(footer.metaindex), new Random(6))) onlyCorruption(() => decodeMetaindex(input, "/fuzz", 0), ["CORRUPTION", "UNSUPPORTED_FORMAT"]);
  });

  it("filter block", () => {
    const filter = footer.filter as BlockHandle;
    for (const input of inputs(slice(filter), new Random(7))) {
      onlyCorruption(() => new BloomFilter(input, "/fuzz", 0).mayContainKey(new Uint8Array([1, 2, 3])));
    }
  });

  it("footer, with and without a repaired footer checksum", () => {
    const rng = new Random(8);
    const valid = bytes.slice(bytes.length - FOOTER_SIZE);
    for (const input of inputs(valid, rng)) {
      onlyCorruption(() => decodeFooter(input, bytes.length, "/fuzz"), ["CORRUPTION", "UNSUPPORTED_FORMAT"]);
      if (input.length !== FOOTER_SIZE) continue;
      const repaired = input.slice();
      repaired.set(valid.subarray(64), 64);
      new DataView(repaired.buffer).setUint32(60, checksum(repaired.subarray(64), checksum(repaired.subarray(0, 60))), true);
      onlyCorruption(() => decodeFooter(repaired, bytes.length, "/fuzz"));
    }
  });
});
