// Tools shared by the range tombstone and write batch tests: an MVCC oracle that knows range
// tombstones (the reference's `tests/prop_range_tombstone.rs` rule), and a check that every read path
// of a tree (get, containsKey, sizeOf, multiGet, first/last, len, isEmpty, iter, range with bounds,
// reverse and limits, prefix) agrees with it at a read seqno.
import { expect } from "vitest";
import { BYTEWISE_COMPARATOR, SEQNO_MAX, type Comparator, type RangeOptions, type Tree } from "../src/index.ts";

/** Keys and values as latin1 strings: one char per byte, so `"\xff"` is the byte 0xff. */
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
export const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1"));

type Version = { readonly key: string; readonly seqno: number; readonly value: string | undefined };
type Tombstone = { readonly start: string; readonly end: string | undefined; readonly seqno: number };

/**
 * Every write made to a tree, and what a read at `S` must return: for each key the newest version
 * with seqno `< S`; absent when that is a deletion, or when a range tombstone with seqno `T < S` and
 * `T > version.seqno` covers the key (`start <= key < end`).
 */
export class RtOracle {
  readonly #versions: Version[] = [];
  readonly #tombstones: Tombstone[] = [];
  readonly #cmp: (a: string, b: string) => number;

  constructor(comparator: Comparator = BYTEWISE_COMPARATOR) {
    this.#cmp = (a, b) => comparator.compare(bytes(a), bytes(b));
  }

  insert(key: string, value: string, seqno: number): void {
    this.#versions.push({ key, seqno, value });
  }

  remove(key: string, seqno: number): void {
    this.#versions.push({ key, seqno, value: undefined });
  }

  /** `end` undefined: to the end of the key space. `start >= end` deletes nothing. */
  removeRange(start: string, end: string | undefined, seqno: number): void {
    if (end !== undefined && this.#cmp(start, end) >= 0) return;
    this.#tombstones.push({ start, end, seqno });
  }

  /** Every key ever written, in comparator order. */
  keys(): string[] {
    return [...new Set(this.#versions.map((v) => v.key))].sort(this.#cmp);
  }

  get(key: string, readSeqno: number): string | undefined {
    let newest: Version | undefined;
    for (const v of this.#versions) {
      if (v.key === key && v.seqno < readSeqno && (newest === undefined || v.seqno >= newest.seqno)) newest = v;
    }
    if (newest === undefined || newest.value === undefined) return undefined;
    const n = newest;
    const covered = this.#tombstones.some(
      (t) => t.seqno < readSeqno && t.seqno > n.seqno && this.#cmp(t.start, key) <= 0 && (t.end === undefined || this.#cmp(key, t.end) < 0),
    );
    return covered ? undefined : newest.value;
  }

  /** The visible `[key, value]` pairs at `readSeqno`, in comparator order. */
  at(readSeqno: number): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const key of this.keys()) {
      const value = this.get(key, readSeqno);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  compare(a: string, b: string): number {
    return this.#cmp(a, b);
  }
}

const pairs = (it: Iterable<[Uint8Array, Uint8Array]>): Array<[string, string]> => [...it].map(([k, v]) => [str(k) as string, str(v) as string]);

export interface ReadCheckOptions {
  /** Extra keys to probe with point reads (absent ones included). */
  readonly probes?: readonly string[];
  /** Keys to use as range bounds (default: the probes). */
  readonly bounds?: readonly string[];
  /** Prefixes to scan (bytewise trees only; default: the first char of every probe). */
  readonly prefixes?: readonly string[];
  readonly context?: string;
}

/**
 * Checks every read of `tree` at `readSeqno` against `expected` (the visible pairs in comparator
 * order). Ranges are tried between pairs of bound keys with every bound kind, forward and reverse,
 * with limits 1, 2 and 17 (small limits read eagerly, 17 lazily).
 */
export function expectReads(tree: Tree, readSeqno: number, expected: Array<[string, string]>, options: ReadCheckOptions = {}): void {
  const ctx = `${options.context ?? ""} @${readSeqno}`;
  const map = new Map(expected);
  const cmp = (a: string, b: string): number => tree.currentVersion().comparator.compare(bytes(a), bytes(b));
  const probes = [...new Set([...(options.probes ?? []), ...map.keys()])];

  for (const key of probes) {
    const want = map.get(key);
    expect(str(tree.get(bytes(key), readSeqno)), `${ctx} get(${JSON.stringify(key)})`).toBe(want);
    expect(tree.containsKey(bytes(key), readSeqno), `${ctx} containsKey(${JSON.stringify(key)})`).toBe(want !== undefined);
    expect(tree.sizeOf(bytes(key), readSeqno), `${ctx} sizeOf(${JSON.stringify(key)})`).toBe(want === undefined ? undefined : bytes(want).length);
  }
  expect(tree.multiGet(probes.map(bytes), readSeqno).map(str), `${ctx} multiGet`).toEqual(probes.map((k) => map.get(k)));

  expect(pairs(tree.iter(readSeqno)), `${ctx} iter`).toEqual(expected);
  expect(pairs(tree.iter(readSeqno, { reverse: true })), `${ctx} iter reverse`).toEqual([...expected].reverse());
  expect(tree.len(readSeqno), `${ctx} len`).toBe(expected.length);
  expect(tree.isEmpty(readSeqno), `${ctx} isEmpty`).toBe(expected.length === 0);
  const first = tree.firstKeyValue(readSeqno);
  const last = tree.lastKeyValue(readSeqno);
  expect(first === undefined ? undefined : [str(first[0]), str(first[1])], `${ctx} firstKeyValue`).toEqual(expected[0]);
  expect(last === undefined ? undefined : [str(last[0]), str(last[1])], `${ctx} lastKeyValue`).toEqual(expected.at(-1));
  for (const limit of [1, 2, 17]) {
    expect(pairs(tree.iter(readSeqno, { limit })), `${ctx} iter limit ${limit}`).toEqual(expected.slice(0, limit));
    expect(pairs(tree.iter(readSeqno, { reverse: true, limit })), `${ctx} iter reverse limit ${limit}`).toEqual([...expected].reverse().slice(0, limit));
  }

  const boundKeys = [...new Set(options.bounds ?? probes)].sort(cmp);
  for (let i = 0; i < boundKeys.length; i++) {
    for (let j = i; j < boundKeys.length; j++) {
      const lo = boundKeys[i] as string;
      const hi = boundKeys[j] as string;
      const shapes: Array<{ bounds: RangeOptions; keep: (k: string) => boolean; name: string }> = [
        { bounds: { gte: bytes(lo), lt: bytes(hi) }, keep: (k: string) => cmp(k, lo) >= 0 && cmp(k, hi) < 0, name: `[${lo}, ${hi})` },
        { bounds: { gt: bytes(lo), lte: bytes(hi) }, keep: (k: string) => cmp(k, lo) > 0 && cmp(k, hi) <= 0, name: `(${lo}, ${hi}]` },
        { bounds: { gte: bytes(lo), lte: bytes(hi) }, keep: (k: string) => cmp(k, lo) >= 0 && cmp(k, hi) <= 0, name: `[${lo}, ${hi}]` },
      ];
      if (i === 0) shapes.push({ bounds: { lt: bytes(hi) }, keep: (k: string) => cmp(k, hi) < 0, name: `(.., ${hi})` });
      if (j === boundKeys.length - 1) shapes.push({ bounds: { gte: bytes(lo) }, keep: (k: string) => cmp(k, lo) >= 0, name: `[${lo}, ..)` });
      for (const shape of shapes) {
        const want = expected.filter(([k]) => shape.keep(k));
        expect(pairs(tree.range(shape.bounds, readSeqno)), `${ctx} range ${shape.name}`).toEqual(want);
        expect(pairs(tree.range({ ...shape.bounds, reverse: true }, readSeqno)), `${ctx} range ${shape.name} reverse`).toEqual([...want].reverse());
        expect(pairs(tree.range({ ...shape.bounds, limit: 1 }, readSeqno)), `${ctx} range ${shape.name} limit 1`).toEqual(want.slice(0, 1));
        expect(pairs(tree.range({ ...shape.bounds, reverse: true, limit: 2 }, readSeqno)), `${ctx} range ${shape.name} reverse limit 2`).toEqual(
          [...want].reverse().slice(0, 2),
        );
      }
    }
  }

  const prefixes = options.prefixes ?? [...new Set(probes.map((k) => k.slice(0, 1)))];
  for (const p of prefixes) {
    const want = expected.filter(([k]) => k.startsWith(p));
    expect(pairs(tree.prefix(bytes(p), readSeqno)), `${ctx} prefix ${JSON.stringify(p)}`).toEqual(want);
    expect(pairs(tree.prefix(bytes(p), readSeqno, { reverse: true })), `${ctx} prefix ${JSON.stringify(p)} reverse`).toEqual([...want].reverse());
    expect(pairs(tree.prefix(bytes(p), readSeqno, { limit: 1 })), `${ctx} prefix ${JSON.stringify(p)} limit 1`).toEqual(want.slice(0, 1));
  }
}

/** {@link expectReads} at every read seqno in `seqnos` (plus SEQNO_MAX), against the oracle. */
export function expectReadsAt(tree: Tree, oracle: RtOracle, seqnos: Iterable<number>, options: ReadCheckOptions = {}): void {
  const probes = [...new Set([...oracle.keys(), ...(options.probes ?? [])])];
  for (const s of [...seqnos, SEQNO_MAX]) expectReads(tree, s, oracle.at(s), { ...options, probes });
}

/** `0, 1, ..., n` */
export const upTo = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => i);

/**
 * Every run holds tables in key order with disjoint spans (`max < next.min`), every table's span is
 * ordered (`min <= max`), and every level below L0 is one run: what point reads and overlap checks
 * rely on.
 */
export function expectDisjointLevels(tree: Tree, context = ""): void {
  const cmp = tree.currentVersion().comparator;
  for (const [i, level] of tree.currentVersion().levels.entries()) {
    if (i > 0) expect(level.runs.length, `${context} L${i} is one run`).toBeLessThanOrEqual(1);
    for (const run of level.runs) {
      for (const [j, t] of run.tables.entries()) {
        expect(cmp.compare(t.minKey, t.maxKey), `${context} L${i} table ${t.id}: min <= max`).toBeLessThanOrEqual(0);
        const next = run.tables[j + 1];
        if (next !== undefined) {
          expect(
            cmp.compare(t.maxKey, next.minKey),
            `${context} L${i}: table ${t.id} [${str(t.minKey)}, ${str(t.maxKey)}] before table ${next.id} [${str(next.minKey)}, ${str(next.maxKey)}]`,
          ).toBeLessThan(0);
        }
      }
    }
  }
}

/** Tables holding range tombstones, with their fragments (for placement checks). */
export function tombstoneTables(tree: Tree): Array<{ level: number; id: number; fragments: Array<{ start: string; end: string; seqnos: readonly number[] }> }> {
  const out: Array<{ level: number; id: number; fragments: Array<{ start: string; end: string; seqnos: readonly number[] }> }> = [];
  for (const [level, l] of tree.currentVersion().levels.entries()) {
    for (const t of l.tables()) {
      if (t.rangeTombstones.length === 0) continue;
      out.push({ level, id: t.id, fragments: t.rangeTombstones.map((f) => ({ start: str(f.start) as string, end: str(f.end) as string, seqnos: f.seqnos })) });
    }
  }
  return out;
}
