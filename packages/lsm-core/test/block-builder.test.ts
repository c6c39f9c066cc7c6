import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../src/coding/byte-writer.ts";
import { BlockBuilder } from "../src/table/block-builder.ts";

/** The block layout of block-builder.ts, spelled out with a plain ByteWriter: the reference encoding. */
function referenceBlock(entries: ReadonlyArray<readonly [Uint8Array, number, number, Uint8Array]>, interval: number): Uint8Array {
  const out = new ByteWriter();
  const restarts: number[] = [];
  let last: Uint8Array = new Uint8Array(0);
  entries.forEach(([key, seqno, kind, value], i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(out.length);
    else while (shared < Math.min(last.length, key.length) && last[shared] === key[shared]) shared++;
    out.varint(shared).varint(key.length - shared).varint(value.length).varint(seqno).u8(kind).raw(key.subarray(shared)).raw(value);
    last = key;
  });
  for (const r of restarts) out.u32(r);
  out.u32(restarts.length);
  return out.toBytes();
}

describe("BlockBuilder", () => {
  it("writes exactly the documented layout, for short and long keys and values and every seqno range", () => {
    const rng = new Random(7);
    for (let round = 0; round < 50; round++) {
      const interval = 1 + rng.int(20);
      const keys = Array.from({ length: 1 + rng.int(300) }, () => rng.bytes(1 + rng.int(rng.chance(0.2) ? 300 : 24)));
      keys.sort((a, b) => Buffer.compare(a, b));
      const entries = keys.map((key) => {
        const seqno = rng.pick([rng.int(200), rng.int(0x7fff_ffff) + 0x7fff_ffff, Number.MAX_SAFE_INTEGER - rng.int(1000)]);
        const value = rng.bytes(rng.chance(0.3) ? 0 : rng.int(rng.chance(0.2) ? 5000 : 40));
        return [key, seqno, rng.int(5), value] as const;
      });
      const builder = new BlockBuilder(interval);
      // A reused builder must not carry anything over from the previous block.
      builder.add(Uint8Array.of(255, 255), 1, 0, new Uint8Array(10));
      builder.finish();
      builder.reset();
      for (const [key, seqno, kind, value] of entries) builder.add(key, seqno, kind, value);
      const expected = referenceBlock(entries, interval);
      expect(builder.estimatedSize).toBe(expected.length);
      expect(Buffer.compare(builder.finish(), expected)).toBe(0);
    }
  });
});
