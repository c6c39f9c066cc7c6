/**
 * A version: the set of tables (and blob files) that make up the tree at one moment, arranged in
 * {@link LEVEL_COUNT} levels. Versions are immutable; every change (flush, compaction, trivial move,
 * drop) is a pure transition that returns a new version with the next id and shares the untouched
 * levels, so readers holding an old version keep a consistent view for as long as they need it.
 *
 * Invariants, enforced by the constructor path every transition goes through:
 * - exactly {@link LEVEL_COUNT} levels;
 * - a table id appears at most once in the whole version, a blob file id at most once;
 * - every run keeps the {@link Run} invariants (non-empty, sorted, disjoint);
 * - after a transition, every level it touched has been re-packed by {@link optimizeRuns}.
 *
 * @module
 */
import type { Comparator } from "../key/comparator.ts";
import { Level, optimizeRuns } from "./level.ts";
import { Run, type TableHandle } from "./run.ts";

/** Levels per tree, fixed like the reference's. */
export const LEVEL_COUNT = 7;

/** Whether values live in the tables ("standard") or in a blob log next to them ("blob"). */
export type TreeKind = "standard" | "blob";

/** What the version model needs to know of a blob file. */
export interface BlobFileHandle {
  /** The blob file's id, unique in its tree (also its file name); the handles in tables' indirections name it. */
  readonly id: number;
}

/** An immutable snapshot of the tree's files. L0 runs are newest first. */
export class Version<T extends TableHandle, B extends BlobFileHandle = BlobFileHandle> {
  /** The version's number: each transition makes the next one; the version file is named after it. */
  readonly id: number;
  /** Whether the tree is a plain tree or a blob tree. */
  readonly treeKind: TreeKind;
  /** The key order the runs are sorted in. */
  readonly comparator: Comparator;
  /** Exactly {@link LEVEL_COUNT} levels, L0 first. */
  readonly levels: readonly Level<T>[];
  /** Sorted by id. */
  readonly blobFiles: readonly B[];
  #byId: Map<number, { table: T; level: number }> | undefined;

  private constructor(id: number, treeKind: TreeKind, comparator: Comparator, levels: readonly Level<T>[], blobFiles: readonly B[]) {
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`version id must be a non-negative safe integer, got ${id}`);
    if (levels.length !== LEVEL_COUNT) throw new RangeError(`a version has ${LEVEL_COUNT} levels, got ${levels.length}`);
    this.id = id;
    this.treeKind = treeKind;
    this.comparator = comparator;
    this.levels = levels;
    this.blobFiles = blobFiles;
    this.#index();
    const blobIds = new Set<number>();
    for (const blob of blobFiles) {
      if (blobIds.has(blob.id)) throw new RangeError(`blob file ${blob.id} appears twice in version ${id}`);
      blobIds.add(blob.id);
    }
  }

  /** The version of a new tree: no tables, id 0 unless told. */
  static empty<T extends TableHandle, B extends BlobFileHandle = BlobFileHandle>(
    treeKind: TreeKind,
    comparator: Comparator,
    id = 0,
  ): Version<T, B> {
    const levels = Array.from({ length: LEVEL_COUNT }, () => Level.empty<T>());
    return new Version<T, B>(id, treeKind, comparator, levels, []);
  }

  /**
   * A version from explicit levels → runs → tables, e.g. as recovered from a version file. Run order is
   * kept as given (no re-packing); tables inside a run may come in any order. Throws `RangeError` when
   * the layout breaks an invariant (overlap inside a run, an empty run, a duplicate id).
   */
  static fromLevels<T extends TableHandle, B extends BlobFileHandle = BlobFileHandle>(
    id: number,
    treeKind: TreeKind,
    comparator: Comparator,
    levels: readonly (readonly (readonly T[])[])[],
    blobFiles: readonly B[] = [],
  ): Version<T, B> {
    if (levels.length !== LEVEL_COUNT) throw new RangeError(`a version has ${LEVEL_COUNT} levels, got ${levels.length}`);
    const built = levels.map((runs) => new Level(runs.map((tables) => Run.of(tables, comparator))));
    return new Version<T, B>(id, treeKind, comparator, built, sortById(blobFiles));
  }

  /** Level `index` (0-based). */
  level(index: number): Level<T> {
    const level = this.levels[index];
    if (level === undefined) throw new RangeError(`level ${index} is outside 0..${LEVEL_COUNT - 1}`);
    return level;
  }

  /** Tables in the whole version. */
  get tableCount(): number {
    return this.#tableIndex().size;
  }

  /** Runs in L0: each flush adds one, and a read may have to look in every one of them. */
  get l0RunCount(): number {
    return this.level(0).runs.length;
  }

  /** Tables in level `index`. */
  levelTableCount(index: number): number {
    return this.level(index).tableCount;
  }

  /** Every table, level by level. */
  *tables(): IterableIterator<T> {
    for (const level of this.levels) yield* level.tables();
  }

  /** Table `id`, or `undefined` when the version does not list it. */
  getTable(id: number): T | undefined {
    return this.#tableIndex().get(id)?.table;
  }

  /** The level holding table `id`, or `undefined` when the version does not list it. */
  levelOf(id: number): number | undefined {
    return this.#tableIndex().get(id)?.level;
  }

  /** Adds freshly flushed (or ingested) tables as the newest L0 run. */
  withNewL0Run(tables: readonly T[]): Version<T, B> {
    this.#assertNew(tables);
    const run = Run.of(tables, this.comparator);
    return this.#next(this.levels.map((level, index) => (index === 0 ? this.#packed([run, ...level.runs]) : level)));
  }

  /**
   * Replaces the tables `removeIds` (wherever they are) by `outputs`, which land as one new run at
   * `destLevel` (a compaction's result). `outputs` may be empty (everything was garbage).
   */
  withReplacedTables(removeIds: Iterable<number>, outputs: readonly T[], destLevel: number): Version<T, B> {
    this.#assertLevel(destLevel);
    const ids = this.#existingIds(removeIds);
    this.#assertNew(outputs);
    const added = outputs.length === 0 ? [] : [Run.of(outputs, this.comparator)];
    return this.#next(this.#rebuild(ids, destLevel, added));
  }

  /**
   * Moves the tables `ids` unchanged to `destLevel` (a trivial move). Tables that shared a run keep
   * sharing one, in their old order (newest first), so moving overlapping L0 runs is allowed; the
   * destination level is then re-packed.
   */
  withMovedTables(ids: Iterable<number>, destLevel: number): Version<T, B> {
    this.#assertLevel(destLevel);
    const set = this.#existingIds(ids);
    const added: Run<T>[] = [];
    for (const level of this.levels) {
      for (const run of level.runs) {
        const moved = run.tables.filter((table) => set.has(table.id));
        if (moved.length > 0) added.push(Run.trusted(moved, this.comparator));
      }
    }
    return this.#next(this.#rebuild(set, destLevel, added));
  }

  /** Drops the tables `ids` from the version (their files become obsolete). */
  withRemovedTables(ids: Iterable<number>): Version<T, B> {
    return this.#next(this.#rebuild(this.#existingIds(ids), -1, []));
  }

  /** Adds and removes blob files (the value log's transitions). */
  withBlobFiles(add: readonly B[], removeIds: Iterable<number> = []): Version<T, B> {
    const remove = new Set(removeIds);
    for (const id of remove) {
      if (!this.blobFiles.some((blob) => blob.id === id)) throw new RangeError(`blob file ${id} is not in version ${this.id}`);
    }
    const kept = this.blobFiles.filter((blob) => !remove.has(blob.id));
    return new Version<T, B>(this.id + 1, this.treeKind, this.comparator, this.levels, sortById([...kept, ...add]));
  }

  #next(levels: readonly Level<T>[]): Version<T, B> {
    return new Version<T, B>(this.id + 1, this.treeKind, this.comparator, levels, this.blobFiles);
  }

  // `added` runs go in front of the destination's runs: they are the newest data there.
  #rebuild(remove: ReadonlySet<number>, destLevel: number, added: readonly Run<T>[]): Level<T>[] {
    return this.levels.map((level, index) => {
      const kept = level.without(remove);
      if (index !== destLevel) return kept === level ? level : this.#packed(kept.runs);
      return this.#packed([...added, ...kept.runs]);
    });
  }

  #packed(runs: readonly Run<T>[]): Level<T> {
    return new Level(optimizeRuns(runs, this.comparator));
  }

  #assertLevel(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= LEVEL_COUNT) throw new RangeError(`level ${index} is outside 0..${LEVEL_COUNT - 1}`);
  }

  // Naming a table the version does not hold means the caller's view is stale: refuse rather than guess.
  #existingIds(ids: Iterable<number>): Set<number> {
    const set = new Set(ids);
    for (const id of set) if (this.getTable(id) === undefined) throw new RangeError(`table ${id} is not in version ${this.id}`);
    return set;
  }

  #assertNew(tables: readonly T[]): void {
    for (const table of tables) {
      if (this.getTable(table.id) !== undefined) throw new RangeError(`table ${table.id} is already in version ${this.id}`);
    }
  }

  #index(): void {
    this.#byId = undefined;
    const index = this.#tableIndex();
    let count = 0;
    for (const level of this.levels) count += level.tableCount;
    if (index.size !== count) throw new RangeError(`a table id appears twice in version ${this.id}`);
  }

  #tableIndex(): Map<number, { table: T; level: number }> {
    if (this.#byId === undefined) {
      const map = new Map<number, { table: T; level: number }>();
      this.levels.forEach((level, index) => {
        for (const table of level.tables()) map.set(table.id, { table, level: index });
      });
      this.#byId = map;
    }
    return this.#byId;
  }
}

function sortById<B extends BlobFileHandle>(blobs: readonly B[]): B[] {
  return [...blobs].sort((a, b) => a.id - b.id);
}
