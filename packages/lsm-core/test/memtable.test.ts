import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { EMPTY, newPointLookup, type EntryCursor } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { Memtable, MEMTABLE_ENTRY_OVERHEAD } from "../src/memtable/index.ts";
import { SEQNO_MAX } from "../src/seqno.ts";

/** Bytewise order, but not the built-in object, so the memtable takes its custom-comparator path. */
const CUSTOM_BYTEWISE: Comparator = { name: "custom-bytewise", compare: (a, b) => Buffer.compare(a, b) };
const REVERSE: Comparator = { name: "reverse-bytewise", compare: (a, b) => Buffer.compare(b, a) };

interface Entry {
  key: Uint8Array;
  seqno: number;
  kind: ValueKind;
  value: Uint8Array;
  /** Insertion order: repeats of one (key, seqno) sort by it. */
  order: number;
}

interface Seen {
  key: Uint8Array;
  seqno: number;
  kind: ValueKind;
  value: Uint8Array;
}

const KINDS: readonly ValueKind[] = [
  ValueKind.Value,
  ValueKind.Tombstone,
  ValueKind.WeakTombstone,
  ValueKind.MergeOperand,
  ValueKind.Indirection,
];

/** The reference: a sorted array of entries. */
class Model {
  readonly entries: Entry[] = [];
  readonly #cmp: Comparator;

  constructor(cmp: Comparator) {
    this.#cmp = cmp;
  }

  add(entry: Entry): void {
    this.entries.push(entry);
  }

  sort(): void {
    this.entries.sort((a, b) => this.#cmp.compare(a.key, b.key) || b.seqno - a.seqno || a.order - b.order);
  }

  /** Index of the first entry at or after (key, seqno); length if none. */
  seek(key: Uint8Array, seqno: number): number {
    const i = this.entries.findIndex((e) => {
      const c = this.#cmp.compare(e.key, key);
      return c > 0 || (c === 0 && e.seqno <= seqno);
    });
    return i < 0 ? this.entries.length : i;
  }

  /** Index of the last entry with key <= key; -1 if none. */
  seekForPrev(key: Uint8Array): number {
    return this.entries.findLastIndex((e) => this.#cmp.compare(e.key, key) <= 0);
  }

  /** The newest entry of key with seqno < readSeqno. */
  get(key: Uint8Array, readSeqno: number): Entry | undefined {
    return this.entries.find((e) => this.#cmp.compare(e.key, key) === 0 && e.seqno < readSeqno);
  }
}

function seen(cursor: EntryCursor): Seen {
  return { key: Uint8Array.from(cursor.key()), seqno: cursor.seqno(), kind: cursor.kind(), value: Uint8Array.from(cursor.value()) };
}

function expected(e: Entry): Seen {
  return { key: Uint8Array.from(e.key), seqno: e.seqno, kind: e.kind, value: Uint8Array.from(e.value) };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** One string per entry: vitest compares arrays of strings far faster than arrays of byte arrays. */
function show(e: Seen): string {
  return `${hex(e.key)}@${e.seqno}#${e.kind}=${hex(e.value)}`;
}

function forward(cursor: EntryCursor): Seen[] {
  const out: Seen[] = [];
  for (cursor.seekToFirst(); cursor.valid(); cursor.next()) out.push(seen(cursor));
  return out;
}

function backward(cursor: EntryCursor): Seen[] {
  const out: Seen[] = [];
  for (cursor.seekToLast(); cursor.valid(); cursor.prev()) out.push(seen(cursor));
  return out;
}

/** Where the cursor is, in {@link show} form ("-" when invalid). */
function position(cursor: EntryCursor): string {
  return cursor.valid() ? show(seen(cursor)) : "-";
}

/** The model entry at `index` in {@link show} form ("-" past either end). */
function modelAt(model: Model, index: number): string {
  const entry = model.entries[index];
  return entry === undefined ? "-" : show(expected(entry));
}

/** Checks the cursor is where the model says (invalid for an index past either end). */
function expectAt(cursor: EntryCursor, model: Model, index: number, what: string): void {
  expect(position(cursor), what).toBe(modelAt(model, index));
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

type KeyShape = "short" | "long-prefix";
const ALPHABET = [0x00, 0x61, 0x80, 0xff];

function randomKey(rng: Random, shape: KeyShape): Uint8Array {
  // A 4-letter alphabet and lengths 1..5 make many repeats, prefixes of other keys, and absent neighbours.
  // Zero bytes meet the memtable's zero-padded 4-byte key prefixes; 0x80 and 0xff their sign bit.
  const suffix = new Uint8Array(rng.int(5) + 1);
  for (let i = 0; i < suffix.length; i++) suffix[i] = ALPHABET[rng.int(4)] as number;
  if (shape === "short") return suffix;
  // Past 64 shared bytes the bytewise compare switches from its JS loop to Buffer#compare.
  const prefixLength = 60 + rng.int(10);
  const key = new Uint8Array(prefixLength + suffix.length).fill(0x70, 0, prefixLength);
  key.set(suffix, prefixLength);
  return key;
}

function buildRandom(seed: number, cmp: Comparator, shape: KeyShape, count: number): { mem: Memtable; model: Model; rng: Random } {
  const rng = new Random(seed);
  const mem = new Memtable(cmp, 1);
  const model = new Model(cmp);
  for (let order = 0; order < count; order++) {
    const key = randomKey(rng, shape);
    // Seqnos from a small range repeat, so equal (key, seqno) pairs occur.
    const seqno = rng.int(count);
    const kind = rng.chance(0.2) ? (rng.pick(KINDS) as ValueKind) : ValueKind.Value;
    const value = kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone ? EMPTY : rng.bytes(rng.int(20));
    mem.insert(key, seqno, kind, value);
    model.add({ key: Uint8Array.from(key), seqno, kind, value: Uint8Array.from(value), order });
  }
  model.sort();
  return { mem, model, rng };
}

const CASES: readonly { name: string; cmp: Comparator; shape: KeyShape }[] = [
  { name: "bytewise, short keys", cmp: BYTEWISE_COMPARATOR, shape: "short" },
  { name: "bytewise, long shared prefixes", cmp: BYTEWISE_COMPARATOR, shape: "long-prefix" },
  { name: "custom comparator, short keys", cmp: CUSTOM_BYTEWISE, shape: "short" },
  { name: "reverse comparator, short keys", cmp: REVERSE, shape: "short" },
];

describe("Memtable against a sorted-array model", () => {
  for (const { name, cmp, shape } of CASES) {
    for (const seed of [1, 2, 3]) {
      it(`${name}, seed ${seed}`, () => {
        const { mem, model, rng } = buildRandom(seed, cmp, shape, 1500);
        const cursor = mem.cursor();

        const want = model.entries.map((e) => show(expected(e)));
        expect(forward(cursor).map(show)).toEqual(want);
        expect(backward(cursor).map(show)).toEqual(want.reverse());

        // The empty key sorts before everything, 6 x 0xff after everything (bytewise); bytewise-adjacent keys too.
        const probes: Uint8Array[] = [EMPTY, bytes(0), bytes(0, 0), bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), bytes(0x61), bytes(0x61, 0)];
        for (let i = 0; i < 300; i++) {
          probes.push(rng.chance(0.5) ? (rng.pick(model.entries) as Entry).key : randomKey(rng, shape));
        }
        // Mismatches are collected rather than asserted one by one: thousands of expect() calls dominate the run time.
        const problems: string[] = [];
        const check = (what: string, actual: string, wanted: string): void => {
          if (actual !== wanted) problems.push(`${what}: got ${actual}, want ${wanted}`);
        };
        const out = newPointLookup();
        for (const probe of probes) {
          const seqnos = [0, 1, SEQNO_MAX, rng.int(1600)];
          for (const e of model.entries) {
            if (cmp.compare(e.key, probe) === 0 && seqnos.length < 12) seqnos.push(e.seqno, e.seqno + 1, e.seqno - 1);
          }
          for (const s of seqnos) {
            if (s < 0) continue;
            cursor.seek(probe, s);
            check(`seek(${hex(probe)}, ${s})`, position(cursor), modelAt(model, model.seek(probe, s)));
            const want = model.get(probe, s);
            const found = mem.get(probe, s, out);
            check(
              `get(${hex(probe)}, ${s})`,
              found ? show({ key: probe, seqno: out.seqno, kind: out.kind, value: out.value }) : "-",
              want === undefined ? "-" : show({ ...want, key: probe }),
            );
          }
          cursor.seek(probe);
          check(`seek(${hex(probe)})`, position(cursor), modelAt(model, model.seek(probe, SEQNO_MAX)));
          cursor.seekForPrev(probe);
          check(`seekForPrev(${hex(probe)})`, position(cursor), modelAt(model, model.seekForPrev(probe)));
        }
        expect(problems.slice(0, 10)).toEqual([]);
        cursor.close();
      });
    }
  }

  it("next/prev alternation follows the model", () => {
    const { mem, model, rng } = buildRandom(7, BYTEWISE_COMPARATOR, "short", 800);
    const cursor = mem.cursor();
    for (let walk = 0; walk < 20; walk++) {
      const probe = randomKey(rng, "short");
      const s = rng.int(900);
      cursor.seek(probe, s);
      let index = model.seek(probe, s);
      expectAt(cursor, model, index, `walk ${walk} start`);
      for (let step = 0; step < 200 && cursor.valid(); step++) {
        if (rng.chance(0.5)) {
          cursor.next();
          index++;
        } else {
          cursor.prev();
          index--;
        }
        expectAt(cursor, model, index < 0 ? model.entries.length : index, `walk ${walk} step ${step}`);
      }
    }
  });
});

describe("Memtable", () => {
  it("get is strict in seqno and sees nothing at 0", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    mem.insert(text("k"), 5, ValueKind.Value, text("five"));
    mem.insert(text("k"), 10, ValueKind.Value, text("ten"));
    mem.insert(text("j"), 7, ValueKind.Value, text("j"));
    mem.insert(text("kk"), 3, ValueKind.Value, text("kk"));
    const out = newPointLookup();
    const read = (s: number): string | undefined =>
      mem.get(text("k"), s, out) ? `${out.seqno}:${new TextDecoder().decode(out.value)}` : undefined;
    expect(read(0)).toBeUndefined();
    expect(read(5)).toBeUndefined();
    expect(read(6)).toBe("5:five");
    expect(read(10)).toBe("5:five");
    expect(read(11)).toBe("10:ten");
    expect(read(SEQNO_MAX)).toBe("10:ten");
    expect(mem.get(text("a"), SEQNO_MAX, out)).toBe(false);
    expect(mem.get(text("z"), SEQNO_MAX, out)).toBe(false);
    expect(mem.get(text("k\0"), SEQNO_MAX, out)).toBe(false);
  });

  it("returns tombstones and other kinds as they were written", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    mem.insert(text("a"), 1, ValueKind.Value, text("v"));
    mem.insert(text("a"), 2, ValueKind.Tombstone, EMPTY);
    mem.insert(text("b"), 3, ValueKind.WeakTombstone, EMPTY);
    mem.insert(text("c"), 4, ValueKind.MergeOperand, text("+1"));
    mem.insert(text("d"), 5, ValueKind.Indirection, bytes(1, 2, 3));
    const out = newPointLookup();
    expect(mem.get(text("a"), 10, out)).toBe(true);
    expect(out).toEqual({ kind: ValueKind.Tombstone, seqno: 2, value: EMPTY });
    expect(mem.get(text("a"), 2, out)).toBe(true);
    expect(out.kind).toBe(ValueKind.Value);
    expect(mem.get(text("b"), 10, out) && out.kind).toBe(ValueKind.WeakTombstone);
    expect(mem.get(text("c"), 10, out) && out.kind).toBe(ValueKind.MergeOperand);
    expect(mem.get(text("d"), 10, out) && out.kind).toBe(ValueKind.Indirection);
    expect(Array.from(out.value)).toEqual([1, 2, 3]);
    expect(forward(mem.cursor()).map((e) => e.kind)).toEqual([
      ValueKind.Tombstone,
      ValueKind.Value,
      ValueKind.WeakTombstone,
      ValueKind.MergeOperand,
      ValueKind.Indirection,
    ]);
  });

  it("keeps every repeat of one (key, seqno), later ones after earlier ones", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    mem.insert(text("k"), 4, ValueKind.MergeOperand, text("first"));
    mem.insert(text("k"), 4, ValueKind.MergeOperand, text("second"));
    mem.insert(text("k"), 5, ValueKind.Value, text("newer"));
    mem.insert(text("k"), 4, ValueKind.MergeOperand, text("third"));
    mem.insert(text("k"), 3, ValueKind.Value, text("older"));
    const decode = (e: Seen): string => `${e.seqno}:${new TextDecoder().decode(e.value)}`;
    const cursor = mem.cursor();
    expect(forward(cursor).map(decode)).toEqual(["5:newer", "4:first", "4:second", "4:third", "3:older"]);
    expect(backward(cursor).map(decode)).toEqual(["3:older", "4:third", "4:second", "4:first", "5:newer"]);
    cursor.seek(text("k"), 4);
    expect(decode(seen(cursor))).toBe("4:first");
    cursor.next();
    cursor.next();
    cursor.prev();
    expect(decode(seen(cursor))).toBe("4:second");
    expect(mem.entryCount()).toBe(5);
  });

  it("orders keys by a custom comparator with seqnos still descending within a key", () => {
    const mem = new Memtable(REVERSE, 0);
    for (const [key, seqno] of [["a", 1], ["c", 2], ["b", 3], ["a", 4], ["c", 5]] as const) {
      mem.insert(text(key), seqno, ValueKind.Value, EMPTY);
    }
    const cursor = mem.cursor();
    expect(forward(cursor).map((e) => `${String.fromCharCode(...e.key)}${e.seqno}`)).toEqual(["c5", "c2", "b3", "a4", "a1"]);
    cursor.seek(text("bb"));
    expect(String.fromCharCode(...cursor.key())).toBe("b");
    cursor.seekForPrev(text("bb"));
    expect(`${String.fromCharCode(...cursor.key())}${cursor.seqno()}`).toBe("c2");
  });

  it("copies keys and values: mutating the caller's buffers changes nothing", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    const key = text("key1");
    const value = text("value1");
    mem.insert(key, 1, ValueKind.Value, value);
    key.fill(0x7a);
    value.fill(0x21);
    key[3] = 0x32;
    mem.insert(key, 2, ValueKind.Value, value);
    key.fill(0);
    value.fill(0);
    const out = newPointLookup();
    expect(mem.get(text("key1"), 10, out)).toBe(true);
    expect(new TextDecoder().decode(out.value)).toBe("value1");
    expect(forward(mem.cursor()).map((e) => new TextDecoder().decode(e.key))).toEqual(["key1", "zzz2"]);
  });

  it("stores 1 MiB values and 65535-byte keys among small entries, views staying valid", () => {
    const rng = new Random(11);
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    const big = rng.bytes(1024 * 1024);
    const longKey = rng.bytes(65_535);
    const mid = rng.bytes(300 * 1024);
    mem.insert(text("small1"), 1, ValueKind.Value, text("x"));
    mem.insert(text("big"), 2, ValueKind.Value, big);
    mem.insert(longKey, 3, ValueKind.Value, text("long key"));
    mem.insert(text("mid"), 4, ValueKind.Value, mid);
    const longKey2 = Uint8Array.from(longKey);
    longKey2[65_534] = (longKey2[65_534] as number) ^ 1;
    mem.insert(longKey2, 5, ValueKind.Value, big);
    mem.insert(text("small2"), 6, ValueKind.Value, text("y"));
    const out = newPointLookup();
    expect(mem.get(text("big"), SEQNO_MAX, out)).toBe(true);
    const bigView = out.value;
    expect(Buffer.compare(bigView, big)).toBe(0);
    expect(mem.get(longKey, SEQNO_MAX, out) && new TextDecoder().decode(out.value)).toBe("long key");
    expect(mem.get(longKey2, SEQNO_MAX, out) && Buffer.compare(out.value, big)).toBe(0);
    expect(mem.get(text("mid"), SEQNO_MAX, out) && Buffer.compare(out.value, mid)).toBe(0);
    const cursor = mem.cursor();
    cursor.seek(longKey);
    expect(cursor.key().length).toBe(65_535);
    cursor.next();
    expect(Buffer.compare(cursor.key(), longKey2)).toBe(0);
    // Many more small inserts open new chunks; the views taken earlier must not change.
    for (let i = 0; i < 20_000; i++) mem.insert(rng.bytes(16), 10 + i, ValueKind.Value, rng.bytes(100));
    expect(Buffer.compare(bigView, big)).toBe(0);
    expect(mem.get(text("small1"), SEQNO_MAX, out) && new TextDecoder().decode(out.value)).toBe("x");
  });

  it("keeps a cursor correct while entries are inserted mid-iteration", () => {
    const rng = new Random(21);
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    const model = new Model(BYTEWISE_COMPARATOR);
    let order = 0;
    const add = (key: Uint8Array, seqno: number): void => {
      mem.insert(key, seqno, ValueKind.Value, key);
      model.add({ key: Uint8Array.from(key), seqno, kind: ValueKind.Value, value: Uint8Array.from(key), order: order++ });
    };
    for (let i = 0; i < 500; i++) add(rng.bytes(rng.int(3) + 1), rng.int(1000));
    const cursor = mem.cursor();
    const ordered = (a: Seen, b: Seen): boolean => {
      const c = Buffer.compare(a.key, b.key);
      return c < 0 || (c === 0 && a.seqno >= b.seqno);
    };
    let previous: Seen | undefined;
    let steps = 0;
    const problems: string[] = [];
    for (cursor.seekToFirst(); cursor.valid(); cursor.next()) {
      const current = seen(cursor);
      if (previous !== undefined && !ordered(previous, current)) problems.push(`out of order at step ${steps}`);
      previous = current;
      // Enough inserts per step to force node-array and link-array growth while the cursor is held.
      for (let i = 0; i < 2; i++) add(rng.bytes(rng.int(3) + 1), rng.int(1000));
      add(current.key, current.seqno); // lands right after the cursor: must be seen next
      cursor.next();
      if (!cursor.valid() || show(seen(cursor)) !== show(current)) problems.push(`repeat not seen at step ${steps}`);
      steps++;
    }
    expect(problems).toEqual([]);
    expect(steps).toBeGreaterThan(500);
    model.sort();
    expect(forward(cursor).map(show)).toEqual(model.entries.map((e) => show(expected(e))));
    // Backwards with inserts on both sides.
    const backSteps: Seen[] = [];
    for (cursor.seekToLast(); cursor.valid(); cursor.prev()) {
      backSteps.push(seen(cursor));
      if (backSteps.length < 300) add(rng.bytes(rng.int(3) + 1), rng.int(1000));
    }
    for (let i = 1; i < backSteps.length; i++) {
      if (!ordered(backSteps[i] as Seen, backSteps[i - 1] as Seen)) problems.push(`backwards out of order at ${i}`);
    }
    expect(problems).toEqual([]);
    model.sort();
    expect(backward(cursor).map(show)).toEqual(model.entries.map((e) => show(expected(e))).reverse());
  });

  it("tracks approximateSize, entryCount and seqno bounds", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 42);
    expect(mem.id).toBe(42);
    expect(mem.isEmpty()).toBe(true);
    expect(mem.entryCount()).toBe(0);
    expect(mem.approximateSize()).toBe(0);
    expect(mem.highestSeqno()).toBeUndefined();
    expect(mem.lowestSeqno()).toBeUndefined();
    expect(mem.insert(text("abc"), 7, ValueKind.Value, text("12345"))).toBe(8 + MEMTABLE_ENTRY_OVERHEAD);
    expect(mem.insert(text("a"), 3, ValueKind.Tombstone, EMPTY)).toBe(1 + MEMTABLE_ENTRY_OVERHEAD);
    expect(mem.insert(text("z"), 0, ValueKind.Value, text("q"))).toBe(2 + MEMTABLE_ENTRY_OVERHEAD);
    expect(mem.insert(text("z"), 9, ValueKind.Value, text("q"))).toBe(2 + MEMTABLE_ENTRY_OVERHEAD);
    expect(mem.isEmpty()).toBe(false);
    expect(mem.entryCount()).toBe(4);
    expect(mem.approximateSize()).toBe(13 + 4 * MEMTABLE_ENTRY_OVERHEAD);
    expect(mem.highestSeqno()).toBe(9);
    expect(mem.lowestSeqno()).toBe(0);
    expect(mem.arenaBytes()).toBeGreaterThanOrEqual(13);
  });

  it("an empty memtable has no entries anywhere", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    const cursor = mem.cursor();
    expect(cursor.valid()).toBe(false);
    for (const move of [
      () => cursor.seekToFirst(),
      () => cursor.seekToLast(),
      () => cursor.seek(text("a")),
      () => cursor.seekForPrev(text("a")),
    ]) {
      move();
      expect(cursor.valid()).toBe(false);
    }
    expect(mem.get(text("a"), SEQNO_MAX, newPointLookup())).toBe(false);
  });

  it("handles empty keys and values at the edges", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    mem.insert(EMPTY, 1, ValueKind.Value, EMPTY);
    mem.insert(text("a"), 2, ValueKind.Value, EMPTY);
    const cursor = mem.cursor();
    cursor.seekToFirst();
    expect(cursor.key().length).toBe(0);
    expect(cursor.value()).toBe(EMPTY);
    cursor.seekForPrev(EMPTY);
    expect(cursor.valid() && cursor.seqno()).toBe(1);
    cursor.seekToLast();
    cursor.next();
    expect(cursor.valid()).toBe(false);
    cursor.seekToFirst();
    cursor.prev();
    expect(cursor.valid()).toBe(false);
  });

  it("throws on accessors of an unpositioned cursor and on use after close", () => {
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    mem.insert(text("a"), 1, ValueKind.Value, text("v"));
    const cursor = mem.cursor();
    expect(() => cursor.key()).toThrow(RangeError);
    expect(() => cursor.next()).toThrow(RangeError);
    cursor.seekToFirst();
    cursor.close();
    cursor.close();
    expect(cursor.valid()).toBe(false);
    expect(() => cursor.seekToFirst()).toThrow(expect.objectContaining({ code: "CLOSED" }));
    expect(() => cursor.next()).toThrow(expect.objectContaining({ code: "CLOSED" }));
  });

  it("holds 200k entries in order (nothing quadratic)", () => {
    const rng = new Random(99);
    const mem = new Memtable(BYTEWISE_COMPARATOR, 0);
    const n = 200_000;
    const value = new Uint8Array(8);
    for (let i = 0; i < n; i++) {
      // Mostly random keys plus an ascending run, the pattern of sequential writers.
      const key = i % 4 === 0 ? text(`seq${String(i).padStart(8, "0")}`) : rng.bytes(12);
      mem.insert(key, i, ValueKind.Value, value);
    }
    expect(mem.entryCount()).toBe(n);
    const cursor = mem.cursor();
    let count = 0;
    let previous: Uint8Array | undefined;
    let disorder = 0;
    for (cursor.seekToFirst(); cursor.valid(); cursor.next()) {
      const key = cursor.key();
      if (previous !== undefined && Buffer.compare(previous, key) > 0) disorder++;
      previous = key; // memtable views stay valid after the cursor moves
      count++;
    }
    expect(count).toBe(n);
    expect(disorder).toBe(0);
    const out = newPointLookup();
    expect(mem.get(text("seq00100000"), SEQNO_MAX, out) && out.seqno).toBe(100_000);
    expect(mem.get(text("seq00100000"), 100_000, out)).toBe(false);
  });
});
