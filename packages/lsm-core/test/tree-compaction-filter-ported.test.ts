// Ports of the reference's compaction-filter tests (tests/compaction_filter.rs, compaction_filter_seqno.rs,
// compaction_filter_snapshot.rs, compaction_filter_ttl.rs, and the verdicts of the
// compaction_filter_gc_stats_*.rs files without their blob statistics) in Talus's terms: the Tree option
// `compactionFilter: { name, create({ isLastLevel }) => { filter(item), finish?() } }`, called for every
// value and merge operand of a merge compaction (never tombstones, flushes or trivial moves); a throw
// fails the compaction with COMPACTION_FILTER and leaves the tree as it was; snapshots older than a
// filtered compaction keep reading the old data.
//
// Upstream's `PullDown(0, 1)` test strategy is written here with the public CompactionStrategy API.
// Upstream writes everything at seqno 0 and its filter sees only the newest version of each key; Talus
// shows the filter every version a compaction reads, so these tests write at counter seqnos and accept
// shadowed versions.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import {
  counterMerge,
  Leveled,
  LsmError,
  SEQNO_MAX,
  SequenceNumberCounter,
  Tree,
  type CompactionChoice,
  type CompactionFilter,
  type CompactionFilterItem,
  type CompactionStrategy,
  type CompactionVerdict,
} from "../src/index.ts";
import { dec, enc } from "./helpers.ts";
import { keysOf, pairsOf } from "./tree-support.ts";

interface Opened {
  tree: Tree;
  fs: MemFs;
  seqno: SequenceNumberCounter;
}

async function open(compactionFilter: CompactionFilter | undefined, extra: { fs?: MemFs; seqno?: SequenceNumberCounter; mergeOperator?: typeof counterMerge } = {}): Promise<Opened> {
  const fs = extra.fs ?? new MemFs();
  const seqno = extra.seqno ?? new SequenceNumberCounter();
  const tree = await Tree.open({
    path: "/db",
    fs,
    seqno,
    ...(compactionFilter === undefined ? {} : { compactionFilter }),
    ...(extra.mergeOperator === undefined ? {} : { mergeOperator: extra.mergeOperator }),
  });
  return { tree, fs, seqno };
}

/** A filter built from one function, with the `isLastLevel` of each run and `finish` calls recorded. */
function filterOf(
  verdict: (item: CompactionFilterItem) => CompactionVerdict,
  record: { created: boolean[]; finished: number } = { created: [], finished: 0 },
  name = "test-filter",
): CompactionFilter & { record: { created: boolean[]; finished: number } } {
  return {
    name,
    record,
    create: ({ isLastLevel }) => {
      record.created.push(isLastLevel);
      return {
        filter: verdict,
        finish: () => {
          record.finished++;
        },
      };
    },
  };
}

/** The reference's test-only PullDown(src, dst): merge every table of `src` with what it overlaps in `dst` into `dst`. */
function pullDown(src: number, dst: number): CompactionStrategy {
  return {
    name: "PullDown",
    choose(version): CompactionChoice {
      const ids = [...version.level(src).tables()].map((t) => t.id);
      if (ids.length === 0) return { kind: "nothing" };
      for (const t of version.level(dst).tables()) ids.push(t.id);
      return { kind: "merge", tableIds: [...new Set(ids)].sort((a, b) => a - b), destLevel: dst, targetSize: 64 << 20, canonicalLevel: dst };
    },
  };
}

const u32 = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
};
const readU32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0);

const be64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
};
const le64 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, n, true);
  return out;
};
const readLe64 = (b: Uint8Array | undefined): bigint | undefined => (b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true));

describe("compaction_filter.rs", () => {
  it("filter_no_blob: Remove / RemoveWeak / Destroy / Keep under PullDown(0, 1), then ReplaceValue at the last level", async () => {
    const state = { disable: true, doRewrite: false, sawValue: false, dropThreshold: 4, finished: 0, lastLevel: [] as boolean[], values: new Set<string>() };
    const filter: CompactionFilter = {
      name: "basic",
      create: ({ isLastLevel }) => {
        state.lastLevel.push(isLastLevel);
        return {
          filter: (item) => {
            if (state.disable) return "keep";
            const key = readU32(item.key);
            if (key === 0x00abcdef) return "removeWeak";
            if (key === 0x01abcdef) return "destroy";
            if (key >= 0xff000000) {
              const value = readU32(item.value());
              expect(value).toBe(key & 0xff);
              expect(item.isMergeOperand).toBe(false);
              state.sawValue = true;
              return state.doRewrite ? { replace: new Uint8Array(value).fill(0x61) } : "keep";
            }
            // Talus shows shadowed versions too: the "old" of the first round under the new "a".
            state.values.add(dec(item.value()) as string);
            return key < state.dropThreshold ? "remove" : "keep";
          },
          finish: () => {
            state.finished++;
          },
        };
      },
    };
    const { tree, seqno } = await open(filter);
    for (let i = 0; i < 255; i++) tree.insert(u32(i), "old", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(SEQNO_MAX, SEQNO_MAX);
    expect(tree.levelTableCount(6)).toBe(1);

    for (let i = 0; i < 255; i++) {
      tree.insert(u32(i), "a", seqno.next());
      tree.insert(u32(i | 0xff000000), u32(i), seqno.next());
    }
    tree.insert(u32(0x00abcdef), "test", seqno.next());
    tree.insert(u32(0x01abcdef), "test", seqno.next());
    await tree.flushActiveMemtable(0);

    // The first majorCompact ran the (disabled) filter once, at the last level.
    expect(state.lastLevel).toEqual([true]);
    expect(state.finished).toBe(1);
    state.disable = false;
    state.finished = 0;
    state.lastLevel.length = 0;
    const pulled = await tree.compact(pullDown(0, 1), SEQNO_MAX);
    expect(pulled.action).toBe("merged");
    // L6 still holds older versions under L1's range: not the last level.
    expect(state.lastLevel).toEqual([false]);
    expect(state.finished).toBe(1);
    expect(state.sawValue).toBe(true);
    // Only L0 was read: the filter saw no "old".
    expect([...state.values]).toEqual(["a"]);

    expect(tree.get(u32(2), SEQNO_MAX)).toBeUndefined();
    expect(dec(tree.get(u32(5), SEQNO_MAX))).toBe("a");
    expect(dec(tree.get(u32(12), SEQNO_MAX))).toBe("a");
    // The weak-deleted and destroyed keys are gone.
    expect(tree.get(u32(0x00abcdef), SEQNO_MAX)).toBeUndefined();
    expect(tree.get(u32(0x01abcdef), SEQNO_MAX)).toBeUndefined();

    state.sawValue = false;
    state.dropThreshold = 8;
    state.doRewrite = true;
    state.lastLevel.length = 0;
    await tree.majorCompact(SEQNO_MAX, SEQNO_MAX);
    expect(state.lastLevel).toEqual([true]);
    expect(state.finished).toBe(2);
    expect(tree.get(u32(2), SEQNO_MAX)).toBeUndefined();
    expect(tree.get(u32(5), SEQNO_MAX)).toBeUndefined();
    expect(dec(tree.get(u32(12), SEQNO_MAX))).toBe("a");
    expect(dec(tree.get(u32(2 | 0xff000000), SEQNO_MAX))).toBe("aa");
    expect(dec(tree.get(u32(37 | 0xff000000), SEQNO_MAX))).toBe("a".repeat(37));
    expect(state.sawValue).toBe(true);
    // Keys 0..7 removed (threshold 8), the weak-deleted and destroyed keys gone: 247 + 255 left.
    expect(tree.len(SEQNO_MAX)).toBe(502);
    tree.verify();
    await tree.close();
  });

  it("filter_snapshot: a Remove-everything filter; a snapshot from before the compaction still reads the old data", async () => {
    const { tree, seqno } = await open(filterOf(() => "remove", undefined, "Nuke"));
    tree.insert("a", "a", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("b", "b", seqno.next());
    await tree.flushActiveMemtable(0);
    const snapshot = seqno.get();
    expect(dec(tree.get("a", snapshot))).toBe("a");
    // An iterator opened before the compaction (compaction_filter_snapshot.rs's open reader).
    const reader = tree.iter(snapshot)[Symbol.iterator]();
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(dec(tree.get("a", snapshot))).toBe("a");
    expect(pairsOf(tree.iter(snapshot))).toEqual(["a=a", "b=b"]);
    expect(tree.get("a", SEQNO_MAX)).toBeUndefined();
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    const first = reader.next();
    expect(first.done).toBe(false);
    expect(dec((first.value as [Uint8Array, Uint8Array])[0])).toBe("a");
    reader.return?.();
    await tree.close();
  });
});

describe("compaction_filter_seqno.rs", () => {
  it("compaction_filter_seqno_matches_insert_time_value", async () => {
    const seen: Array<[string, number]> = [];
    const { tree, seqno } = await open(
      filterOf((item) => {
        seen.push([dec(item.key) as string, item.seqno]);
        return "keep";
      }),
    );
    const sa = seqno.next();
    tree.insert("a", "val_a", sa);
    const sb = seqno.next();
    tree.insert("b", "val_b", sb);
    const sc = seqno.next();
    tree.insert("c", "val_c", sc);
    await tree.flushActiveMemtable(0);
    expect(seen).toEqual([]);
    await tree.majorCompact(SEQNO_MAX, SEQNO_MAX);
    expect(seen).toEqual([
      ["a", sa],
      ["b", sb],
      ["c", sc],
    ]);
    expect(sa).toBeLessThan(sb);
    expect(sb).toBeLessThan(sc);
    await tree.close();
  });

  it("compaction_filter_seqno_below_cutoff_removes_item", async () => {
    let cutoff = 0;
    const { tree, seqno } = await open(filterOf((item) => (item.seqno < cutoff ? "remove" : "keep"), undefined, "RetentionFilter"));
    const old = seqno.next();
    tree.insert("old", "val_old", old);
    const fresh = seqno.next();
    tree.insert("new", "val_new", fresh);
    await tree.flushActiveMemtable(0);
    cutoff = fresh;
    await tree.majorCompact(SEQNO_MAX, SEQNO_MAX);
    expect(tree.get("old", SEQNO_MAX)).toBeUndefined();
    expect(dec(tree.get("new", SEQNO_MAX))).toBe("val_new");
    await tree.close();
  });

  it("the seqno of an ingested entry is its ingestion's global seqno", async () => {
    const seen: number[] = [];
    const { tree, seqno } = await open(
      filterOf((item) => {
        seen.push(item.seqno);
        return "keep";
      }),
    );
    tree.insert("x", "1", seqno.next());
    await tree.flushActiveMemtable(0);
    const before = seqno.get();
    const ingestion = tree.ingestion();
    ingestion.write("y", "2");
    await ingestion.finish();
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(0);
    // Above everything written before finish(), below everything after.
    expect(seen[1]).toBeGreaterThanOrEqual(before);
    expect(seen[1]).toBeLessThan(seqno.get());
    await tree.close();
  });
});

describe("compaction_filter_ttl.rs", () => {
  it("compaction_filter_ttl: Destroy keys below a moving watermark", async () => {
    let watermark = 0;
    const { tree, seqno } = await open(
      filterOf((item) => (Buffer.compare(Buffer.from(item.key), Buffer.from(be64(watermark))) < 0 ? "destroy" : "keep"), undefined, "TTL"),
    );
    tree.insert(be64(1000), "my_value", seqno.next());
    tree.insert(be64(1001), "my_value2", seqno.next());
    await tree.flushActiveMemtable(0);
    const readAt = 100_000;
    expect(tree.len(readAt)).toBe(2);
    await tree.majorCompact(64_000_000, readAt);
    expect(tree.len(readAt)).toBe(2);
    watermark = 1000;
    await tree.majorCompact(64_000_000, readAt);
    expect(tree.len(readAt)).toBe(2);
    watermark = 1001;
    await tree.majorCompact(64_000_000, readAt);
    expect(tree.len(readAt)).toBe(1);
    expect(dec(tree.get(be64(1001), readAt))).toBe("my_value2");
    await tree.close();
  });
});

describe("compaction_filter_gc_stats_*.rs (verdicts on a large value, without blob statistics)", () => {
  const big = (text: string, bytes: number): string => text.repeat(Math.ceil(bytes / text.length)).slice(0, bytes);

  for (const verdict of ["destroy", "remove", "removeWeak"] as const) {
    it(`compaction_filter_gc_stats_${verdict}: "removethis" is gone after majorCompact, the rest stays`, async () => {
      const { tree, seqno } = await open(filterOf((item) => (dec(item.key) === "removethis" ? verdict : "keep")));
      tree.insert("removethis", big("winter!", 896_000), seqno.next());
      tree.insert("keepthis", "small", seqno.next());
      await tree.flushActiveMemtable(0);
      const diskBefore = tree.diskSpace();
      await tree.majorCompact(64_000_000, 1000);
      expect(tree.tableCount()).toBe(1);
      expect(tree.get("removethis", SEQNO_MAX)).toBeUndefined();
      expect(dec(tree.get("keepthis", SEQNO_MAX))).toBe("small");
      expect(tree.diskSpace()).toBeLessThan(diskBefore - 800_000);
      await tree.close();
    });
  }

  it("compaction_filter_gc_stats_change: ReplaceValue of a large and of a small value", async () => {
    const replacement = enc(big("winter2", 896_000));
    const { tree, seqno } = await open(filterOf((item) => (dec(item.key)?.startsWith("changethis") === true ? { replace: replacement } : "keep")));
    tree.insert("changethis", big("asdasd", 768_000), seqno.next());
    tree.insert("changethis2", "small", seqno.next());
    tree.insert("other", "o", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(64_000_000, 1000);
    for (const key of ["changethis", "changethis2"]) {
      const value = tree.get(key, SEQNO_MAX);
      expect(value?.length).toBe(896_000);
      expect(Buffer.compare(Buffer.from(value as Uint8Array), Buffer.from(replacement))).toBe(0);
    }
    expect(dec(tree.get("other", SEQNO_MAX))).toBe("o");
    expect(tree.sizeOf("changethis", SEQNO_MAX)).toBe(896_000);
    await tree.close();
  });
});

describe("compaction filters: where they run and what they see", () => {
  it("are not asked in flushes or trivial moves, only in merge compactions", async () => {
    const record = { created: [] as boolean[], finished: 0 };
    let calls = 0;
    const { tree, seqno } = await open(
      filterOf(() => {
        calls++;
        return "keep";
      }, record),
    );
    tree.insert("a", "1", seqno.next());
    tree.insert("b", "2", seqno.next());
    await tree.flushActiveMemtable(0);
    // One L0 run over an empty tree: Leveled moves it to the last level without rewriting.
    const moved = await tree.compact(new Leveled(), 0);
    expect(moved.action).toBe("moved");
    expect(record.created).toEqual([]);
    expect(calls).toBe(0);
    tree.insert("a", "3", seqno.next());
    await tree.flushActiveMemtable(0);
    const merged = await tree.majorCompact(SEQNO_MAX, 0);
    expect(merged.action).toBe("merged");
    expect(record.created).toEqual([true]);
    expect(record.finished).toBe(1);
    // Both versions of a (shadowed ones included) and b.
    expect(calls).toBe(3);
    await tree.close();
  });

  it("never see tombstones, weak tombstones or range tombstones", async () => {
    const seen: string[] = [];
    const { tree, seqno } = await open(
      filterOf((item) => {
        seen.push(dec(item.key) as string);
        return "keep";
      }),
    );
    tree.insert("a", "1", seqno.next());
    tree.insert("b", "2", seqno.next());
    tree.insert("c", "3", seqno.next());
    tree.remove("a", seqno.next());
    tree.removeWeak("d", seqno.next());
    tree.removeRange("x", "z", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(seen.sort()).toEqual(["a", "b", "c"]);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["b", "c"]);
    await tree.close();
  });

  it("destroy drops a version without a tombstone: an older version of the key shows again", async () => {
    const { tree, seqno } = await open(filterOf((item) => (dec(item.value()) === "newest" ? "destroy" : "keep")));
    tree.insert("k", "older", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("k", "newest", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("newest");
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("older");
    await tree.close();
  });

  it("remove writes a tombstone at the entry's seqno: it hides the older versions too", async () => {
    const { tree, seqno } = await open(filterOf((item) => (dec(item.value()) === "newest" ? "remove" : "keep")));
    tree.insert("k", "older", seqno.next());
    await tree.flushActiveMemtable(0);
    const between = seqno.get();
    tree.insert("k", "newest", seqno.next());
    await tree.flushActiveMemtable(0);
    const beforeCompaction = seqno.get();
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(tree.get("k", SEQNO_MAX)).toBeUndefined();
    // Older snapshots still read from the tree's history...
    expect(dec(tree.get("k", beforeCompaction))).toBe("newest");
    expect(dec(tree.get("k", between))).toBe("older");
    await tree.close();
  });

  it("replace on a merge operand keeps it an operand (counterMerge)", async () => {
    const { tree, seqno } = await open(
      filterOf((item) => (item.isMergeOperand && readLe64(item.value()) === 5n ? { replace: le64(50n) } : "keep")),
      { mergeOperator: counterMerge },
    );
    tree.insert("n", le64(100n), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("n", le64(5n), seqno.next());
    tree.merge("n", le64(1n), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(readLe64(tree.get("n", SEQNO_MAX))).toBe(106n);
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(readLe64(tree.get("n", SEQNO_MAX))).toBe(151n);
    await tree.close();
  });

  it("apply again after reopen (the filter is an open option, not stored)", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const first = (await open(undefined, { fs, seqno })).tree;
    for (let i = 0; i < 10; i++) first.insert(`k${i}`, i % 2 === 0 ? "even" : "odd", seqno.next());
    await first.flushActiveMemtable(0);
    await first.majorCompact(SEQNO_MAX, 0);
    expect(first.len(SEQNO_MAX)).toBe(10);
    await first.close();
    const { tree } = await open(filterOf((item) => (dec(item.value()) === "odd" ? "remove" : "keep")), { fs, seqno });
    tree.insert("k0", "even2", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(SEQNO_MAX, 0);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["k0=even2", "k2=even", "k4=even", "k6=even", "k8=even"]);
    await tree.close();
  });

  for (const where of ["create", "filter", "finish", "verdict"] as const) {
    it(`a filter failing in ${where} fails the compaction with COMPACTION_FILTER and leaves the tree as it was`, async () => {
      const failing: CompactionFilter = {
        name: "failing",
        create: () => {
          if (where === "create") throw new Error("boom");
          return {
            filter: (item) => {
              if (where === "filter" && dec(item.key) === "m") throw new Error("boom");
              if (where === "verdict" && dec(item.key) === "m") return "drop-it" as unknown as CompactionVerdict;
              return "remove";
            },
            finish: () => {
              if (where === "finish") throw new Error("boom");
            },
          };
        },
      };
      const { tree, fs, seqno } = await open(failing);
      for (const key of ["a", "m", "z"]) tree.insert(key, key, seqno.next());
      await tree.flushActiveMemtable(0);
      tree.insert("b", "b", seqno.next());
      await tree.flushActiveMemtable(0);
      const tables = tree.currentVersion().id;
      const files = fs.readDir("/db/tables").map((e) => e.fileName).sort();
      const error = await tree.majorCompact(SEQNO_MAX, 0).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LsmError);
      expect((error as LsmError).code).toBe("COMPACTION_FILTER");
      if (where !== "verdict") expect(((error as LsmError).cause as Error).message).toBe("boom");
      expect(tree.currentVersion().id).toBe(tables);
      expect(tree.tableCount()).toBe(2);
      expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["a=a", "b=b", "m=m", "z=z"]);
      // Outputs of the failed compaction are removed.
      expect(fs.readDir("/db/tables").map((e) => e.fileName).sort()).toEqual(files);
      tree.verify();
      await tree.close();
    });
  }
});
