// Point lookups through the per-block layout of src/table/block-point-index.ts: against a cursor seek
// in the same block, and through Table.get against a model, with keys built to tie on fingerprints.
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { newPointLookup } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { BlockBuilder } from "../src/table/block-builder.ts";
import { ABSENT, BlockPointIndex, FOUND, UNDECIDED } from "../src/table/block-point-index.ts";
import { BlockCursor } from "../src/table/block-reader.ts";
import { DataBlock } from "../src/table/data-block.ts";
import { KeyOrder } from "../src/table/keys.ts";
import { compareInternal, enc, modelGet, openTable, writeTable, type ModelEntry } from "./table-support.ts";

const cmp = BYTEWISE_COMPARATOR;

/** Keys under one prefix that tie on the 4 bytes after it: zero bytes appended, differences past byte 4, many versions. */
function tricky(rng: Random, count: number): ModelEntry[] {
  const prefix = [0x70, 0x70];
  const seen = new Set<string>();
  const out: ModelEntry[] = [];
  while (out.length < count) {
    const shape = rng.int(4);
    const tail: number[] =
      shape === 0
        ? [rng.int(3), rng.int(3)] // short: ties with the same key plus zero bytes
        : shape === 1
          ? [1, 2, 3, 4, rng.int(3), ...(rng.chance(0.5) ? [rng.int(2)] : [])] // tie on all 4 fingerprint bytes
          : shape === 2
            ? [rng.int(3), 0, 0, 0, ...(rng.chance(0.5) ? [0] : [])]
            : Array.from({ length: rng.int(8) }, () => rng.int(256));
    const key = Uint8Array.from([...prefix, ...tail]);
    const versions = 1 + rng.int(rng.chance(0.2) ? 6 : 2);
    for (let v = 0; v < versions; v++) {
      const seqno = 1 + rng.int(60);
      const id = `${Buffer.from(key).toString("hex")}#${seqno}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const kind = rng.chance(0.2) ? ValueKind.Tombstone : ValueKind.Value;
      out.push({ key, seqno, kind, value: kind === ValueKind.Value ? rng.bytes(rng.int(30)) : new Uint8Array(0) });
    }
  }
  return out.sort((a, b) => compareInternal(cmp, a, b));
}

const lastKeyOf = (entries: readonly ModelEntry[]): Uint8Array => (entries[entries.length - 1] as ModelEntry).key;

/** Lookup keys: every stored key, and neighbours that are absent or tie on fingerprints. */
function probes(rng: Random, entries: readonly ModelEntry[]): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (const e of entries) {
    keys.push(e.key, Uint8Array.from([...e.key, 0]), e.key.subarray(0, Math.max(0, e.key.length - 1)));
    const changed = Uint8Array.from(e.key);
    const at = rng.int(changed.length);
    changed[at] = ((changed[at] as number) + (rng.chance(0.5) ? 1 : 255)) & 0xff;
    keys.push(changed);
  }
  keys.push(Uint8Array.of(0x70), Uint8Array.of(0x71), new Uint8Array(0));
  return keys;
}

describe("BlockPointIndex", () => {
  it("agrees with a cursor seek in the block, and leaves only fingerprint ties undecided", () => {
    const rng = new Random(11);
    const order = new KeyOrder(cmp);
    let undecided = 0;
    let decided = 0;
    for (let round = 0; round < 40; round++) {
      const entries = tricky(rng, 1 + rng.int(120));
      const builder = new BlockBuilder(1 + rng.int(rng.chance(0.5) ? 3 : 16));
      for (const e of entries) builder.add(e.key, e.seqno, e.kind, e.value);
      const block = new DataBlock(Uint8Array.from(builder.finish()), "(test)", 0);
      const cursor = new BlockCursor(order);
      const points = BlockPointIndex.build(block, lastKeyOf(entries));
      expect(points).not.toBeNull();
      const out = newPointLookup();
      for (const key of probes(rng, entries)) {
        const seqno = rng.int(64);
        const found = (points as BlockPointIndex).find(block, key, seqno, out);
        cursor.reset(block);
        cursor.seek(key, seqno);
        const hit = cursor.valid() && cursor.compareKey(key) === 0;
        if (found === UNDECIDED) {
          undecided++;
          continue;
        }
        decided++;
        expect(found).toBe(hit ? FOUND : ABSENT);
        if (hit) {
          expect([out.kind, out.seqno]).toEqual([cursor.kind(), cursor.seqno()]);
          expect(Buffer.compare(out.value, cursor.value())).toBe(0);
        }
      }
    }
    // Both kinds occur: the cursor fallback is exercised as well.
    expect(decided).toBeGreaterThan(1000);
    expect(undecided).toBeGreaterThan(100);
  });

  it("decides every lookup itself when keys of one length differ within their fingerprint bytes", () => {
    const rng = new Random(13);
    const order = new KeyOrder(cmp);
    for (let round = 0; round < 20; round++) {
      const keys = Array.from({ length: 1 + rng.int(100) }, () => Uint8Array.from([9, 9, ...rng.bytes(10)]));
      keys.sort((a, b) => Buffer.compare(a, b));
      const builder = new BlockBuilder(1 + rng.int(16));
      keys.forEach((key, i) => {
        if (i === 0 || Buffer.compare(key, keys[i - 1] as Uint8Array) !== 0) builder.add(key, 5, ValueKind.Value, Uint8Array.of(i & 0xff));
      });
      const block = new DataBlock(Uint8Array.from(builder.finish()), "(test)", 0);
      const points = BlockPointIndex.build(block, keys[keys.length - 1] as Uint8Array) as BlockPointIndex;
      const out = newPointLookup();
      for (const key of keys) {
        expect(points.find(block, key, 10, out)).toBe(FOUND);
        expect(points.find(block, key, 4, out)).toBe(ABSENT);
        for (const at of [0, 3, 8, 11]) {
          const changed = Uint8Array.from(key);
          changed[at] = ((changed[at] as number) + (rng.chance(0.5) ? 1 : 255)) & 0xff;
          const stored = keys.some((k) => Buffer.compare(k, changed) === 0);
          expect(points.find(block, changed, 10, out)).toBe(stored ? FOUND : ABSENT);
        }
      }
    }
  });

  it("refuses a block whose keys do not all share the prefix of its first and the given last key", () => {
    const builder = new BlockBuilder(4);
    for (const k of ["aa1", "aa2", "ab1"]) builder.add(enc(k), 1, ValueKind.Value, new Uint8Array(0));
    const block = new DataBlock(Uint8Array.from(builder.finish()), "(test)", 0);
    expect(() => BlockPointIndex.build(block, enc("aa9"))).toThrow(/prefix/);
    expect(BlockPointIndex.build(block, enc("ab1"))).not.toBeNull();
  });

  it("is not built for a block without entries", () => {
    const block = new DataBlock(new BlockBuilder(4).finish(), "(test)", 0);
    expect(BlockPointIndex.build(block, new Uint8Array(0))).toBeNull();
  });
});

describe("Table.get through block layouts", () => {
  it("answers like the model on the first lookup of a block and on every later one", () => {
    const rng = new Random(12);
    for (let round = 0; round < 6; round++) {
      const fs = new MemFs();
      const entries = tricky(rng, 400 + rng.int(800));
      writeTable(fs, "/t.sst", entries, { blockSize: rng.pick([128, 512, 4096]), restartInterval: rng.pick([1, 2, 16]) });
      const table = openTable(fs, "/t.sst");
      const out = newPointLookup();
      const keys = probes(rng, entries);
      // Three passes: blocks get their layout during the first (several lookups per block), later ones use them throughout.
      for (let pass = 0; pass < 3; pass++) {
        for (const key of keys) {
          const readSeqno = rng.int(64);
          const expected = modelGet(cmp, entries, key, readSeqno);
          const found = table.get(key, readSeqno, out);
          expect(found).toBe(expected !== undefined);
          if (expected !== undefined) {
            expect([out.kind, out.seqno]).toEqual([expected.kind, expected.seqno]);
            expect(Buffer.compare(out.value, expected.value)).toBe(0);
          }
        }
      }
      table.close();
    }
  });
});
