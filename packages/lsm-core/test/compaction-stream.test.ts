import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ValueKind, isTombstone } from "../src/key/value-kind.ts";
import { ArrayCursor, sortEntries, type Entry } from "../src/iter/array-cursor.ts";
import { CompactionStream } from "../src/compaction/compaction-stream.ts";
import { enc, randomEntries } from "./helpers.ts";

const cmp = BYTEWISE_COMPARATOR;

function run(entries: Entry[], gcWatermark: number, evictTombstones: boolean): { out: Entry[]; dropped: number } {
  const stream = new CompactionStream(new ArrayCursor(cmp, entries), { comparator: cmp, gcWatermark, evictTombstones });
  const out: Entry[] = [];
  while (stream.next()) out.push({ key: stream.key().slice(), seqno: stream.seqno(), kind: stream.kind(), value: stream.value().slice() });
  return { out, dropped: stream.droppedCount };
}

/** What a reader at `S` gets for `key`: the value, undefined for a deletion or nothing, or the raw operand. */
function read(entries: readonly Entry[], key: Uint8Array, s: number): string | undefined {
  let best: Entry | undefined;
  for (const e of entries) if (cmp.compare(e.key, key) === 0 && e.seqno < s && (best === undefined || e.seqno > best.seqno)) best = e;
  if (best === undefined || isTombstone(best.kind)) return undefined;
  return new TextDecoder().decode(best.value);
}

/** All merge operands a reader at S would collect above the first non-operand (merge resolution input). */
function operands(entries: readonly Entry[], key: Uint8Array, s: number): string[] {
  const versions = entries.filter((e) => cmp.compare(e.key, key) === 0 && e.seqno < s).sort((a, b) => b.seqno - a.seqno);
  const out: string[] = [];
  for (const v of versions) {
    out.push(`${v.kind}:${new TextDecoder().decode(v.value)}`);
    if (v.kind !== ValueKind.MergeOperand) break;
  }
  // A deletion under the operands and nothing under them mean the same to a merge: no base value.
  if (out.length > 0 && isTombstone(Number((out[out.length - 1] as string).split(":")[0]))) out.pop();
  return out;
}

const e = (key: string, seqno: number, kind: ValueKind, value = ""): Entry => ({ key: enc(key), seqno, kind, value: enc(value) });

describe("CompactionStream", () => {
  it("answers every read at S >= T exactly as its input did (random model, all watermarks)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Random(seed);
      const input = randomEntries(rng, 120, 12);
      const keys = [...new Set(input.map((x) => new TextDecoder().decode(x.key)))].map(enc);
      for (const t of [0, 1, 30, 60, 90, 121, 1000]) {
        for (const evict of [false, true]) {
          const { out } = run(input, t, evict);
          for (const key of keys) {
            for (let s = Math.max(t, 0); s <= 122; s += 1 + rng.int(7)) {
              expect(read(out, key, s), `seed ${seed} T ${t} evict ${evict} S ${s}`).toBe(read(input, key, s));
              const expected = operands(input, key, s);
              // A merge resolution needs every operand down to the first non-operand, as it was.
              if (expected[0]?.startsWith(`${ValueKind.MergeOperand}:`)) expect(operands(out, key, s)).toEqual(expected);
            }
          }
        }
      }
    }
  });

  it("keeps merge operands and everything below them so they can still be resolved", () => {
    const input = sortEntries(cmp, [e("a", 9, ValueKind.MergeOperand, "+1"), e("a", 5, ValueKind.MergeOperand, "+2"), e("a", 2, ValueKind.Value, "10"), e("a", 1, ValueKind.Value, "0")]);
    const { out } = run(input, 100, true);
    expect(out.map((x) => x.seqno)).toEqual([9, 5, 2]);
  });

  it("keeps everything with watermark 0 except bottom tombstones with nothing below", () => {
    const input = sortEntries(cmp, [e("a", 3, ValueKind.Value, "new"), e("a", 1, ValueKind.Value, "old"), e("b", 4, ValueKind.Tombstone), e("c", 6, ValueKind.Tombstone), e("c", 2, ValueKind.Value, "x")]);
    expect(run(input, 0, false).out).toHaveLength(5);
    const evicted = run(input, 0, true);
    expect(evicted.out.map((x) => `${new TextDecoder().decode(x.key)}#${x.seqno}`)).toEqual(["a#3", "a#1", "c#6", "c#2"]);
    expect(evicted.dropped).toBe(1);
  });

  it("drops versions shadowed below the watermark, keeping the newest one below it", () => {
    const input = sortEntries(cmp, [e("k", 10, ValueKind.Value, "v10"), e("k", 3, ValueKind.Value, "v3"), e("k", 2, ValueKind.Value, "v2")]);
    // A reader at S = 7 (>= T = 5) sees v3, so v3 must stay; v2 is shadowed by v3 for every S >= 5.
    expect(run(input, 5, false).out.map((x) => x.seqno)).toEqual([10, 3]);
    expect(run(input, 11, false).out.map((x) => x.seqno)).toEqual([10]);
  });

  it("evicts a tombstone below the watermark at the bottom with everything under it, and keeps it elsewhere", () => {
    const input = sortEntries(cmp, [e("k", 8, ValueKind.Tombstone), e("k", 4, ValueKind.Value, "v")]);
    expect(run(input, 100, true).out).toEqual([]);
    expect(run(input, 100, false).out.map((x) => x.kind)).toEqual([ValueKind.Tombstone]);
  });

  it("annihilates a weak tombstone below the watermark with the value directly under it", () => {
    const input = sortEntries(cmp, [e("k", 8, ValueKind.WeakTombstone), e("k", 4, ValueKind.Value, "v"), e("k", 2, ValueKind.Value, "older")]);
    const { out, dropped } = run(input, 100, false);
    expect(out).toEqual([]);
    expect(dropped).toBe(3);
    // Above the watermark nothing may go.
    expect(run(input, 5, false).out.map((x) => x.seqno)).toEqual([8, 4]);
  });

  it("keeps a weak tombstone over a tombstone, hiding what is below", () => {
    const input = sortEntries(cmp, [e("k", 8, ValueKind.WeakTombstone), e("k", 4, ValueKind.Tombstone), e("k", 2, ValueKind.Value, "v")]);
    expect(run(input, 100, false).out.map((x) => x.seqno)).toEqual([8]);
  });

  it("reports every dropped entry to onDrop", () => {
    const input = sortEntries(cmp, [e("a", 5, ValueKind.Value, "new"), e("a", 2, ValueKind.Value, "old"), e("b", 3, ValueKind.Tombstone)]);
    const seen: string[] = [];
    const stream = new CompactionStream(new ArrayCursor(cmp, input), {
      comparator: cmp,
      gcWatermark: 10,
      evictTombstones: true,
      onDrop: (key, seqno) => seen.push(`${new TextDecoder().decode(key)}#${seqno}`),
    });
    while (stream.next());
    expect(seen).toEqual(["a#2", "b#3"]);
  });
});

/**
 * A cursor whose key and value views die when it moves, the way a table cursor's do once its block's
 * memory is recycled: every view it handed out is overwritten when it steps.
 */
class ScribblingCursor extends ArrayCursor {
  readonly #handedOut: Uint8Array[] = [];

  override key(): Uint8Array {
    return this.#handOut(super.key());
  }

  override value(): Uint8Array {
    return this.#handOut(super.value());
  }

  override next(): void {
    for (const view of this.#handedOut) view.fill(0xee);
    this.#handedOut.length = 0;
    super.next();
  }

  #handOut(bytes: Uint8Array): Uint8Array {
    const view = bytes.slice();
    this.#handedOut.push(view);
    return view;
  }
}

describe("CompactionStream over an input whose views die when it moves", () => {
  it("emits exactly what it emits over stable views, tombstones with values included", () => {
    for (let seed = 1; seed <= 20; seed++) {
      // Tombstones with a payload too: the stream must not keep any view across a step of its input.
      const input = randomEntries(new Random(seed), 150, 10).map((x) => (x.value.length === 0 ? { ...x, value: enc(`t${x.seqno}`) } : x));
      for (const t of [0, 40, 151]) {
        for (const evict of [false, true]) {
          const expected = run(input, t, evict).out;
          const stream = new CompactionStream(new ScribblingCursor(cmp, input), { comparator: cmp, gcWatermark: t, evictTombstones: evict });
          const out: Entry[] = [];
          while (stream.next()) out.push({ key: stream.key().slice(), seqno: stream.seqno(), kind: stream.kind(), value: stream.value().slice() });
          expect(out, `seed ${seed} T ${t} evict ${evict}`).toEqual(expected);
        }
      }
    }
  });
});
