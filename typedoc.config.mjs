// TypeDoc: `pnpm run docs` (plain `pnpm docs` is a pnpm command of its own) writes the API reference of every
// published package (the src/index.ts of each non-private package under packages/) to docs/api/ (gitignored).
// One TypeScript program (tsconfig.docs.json) holds all of them, with imports of sibling packages resolved to
// their sources through the "talus-source" export condition, so a type of @talus/fs used in @talus/lsm-core's
// API is one reflection, linked to its one page.
//
// Validation fails the run (exit status non-zero): an exported symbol, member or signature without a doc
// comment, a {@link} that does not resolve, a relative link to a missing file, a type the API uses that its
// package does not export (validation.notExported below). So do other TypeDoc warnings
// (an unknown tag, a malformed comment).
import { spawnSync } from "node:child_process";
import { publishedPackages } from "./scripts/published-packages.mjs";

const published = publishedPackages();

// Source locations link to the repository host TypeDoc derives from the "origin" remote. A checkout without one
// (TypeDoc would warn, and warnings fail the run) leaves the locations out rather than fail.
const hasOrigin = spawnSync("git", ["remote", "get-url", "origin"], { stdio: "ignore" }).status === 0;
if (!hasOrigin) console.log('docs: this checkout has no git remote "origin", so the reference leaves out source locations');

/** @type {Partial<import("typedoc").TypeDocOptions>} */
const config = {
  name: "Talus",
  entryPoints: published.map(({ dir }) => `${dir}/src/index.ts`),
  entryPointStrategy: "resolve",
  tsconfig: "tsconfig.docs.json",
  // Names each package's module "@talus/fs" rather than "fs/src"; checks `validation.notExported` for @talus/*.
  plugin: ["./scripts/typedoc-package-names.mjs", "./scripts/typedoc-not-exported.mjs"],
  out: "docs/api",
  // The root README's links point into the repository (packages/fs, docs/FORMAT.md), which the HTML cannot
  // follow; the index lists the packages with their module comments instead.
  readme: "none",
  excludePrivate: true,
  excludeInternal: true,
  // Links to other packages' symbols, including the links inside the comments @talus/level inherits from abstract-level.
  externalSymbolLinkMappings: {
    "abstract-level": { "*": "https://github.com/Level/abstract-level#api" },
    typescript: { Set: "https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Set" },
  },
  validation: {
    notDocumented: true,
    invalidLink: true,
    invalidPath: true,
    // Off: abstract-level's comments, which @talus/level inherits, link to parameters ({@link key}); TypeDoc links
    // those to the method instead, which is right, and would otherwise warn about each.
    rewrittenLink: false,
    unusedMergeModuleWith: true,
    // On: a type a documented signature of a published package references (a parameter, a property, a return
    // type, a member of an exported union) must be exported from that package's entry too, or users could not
    // name it (`const opts: LeveledOptions = ...`). TypeDoc's own check only looks at types of the project's own
    // package ("talus-monorepo", which has no code), so scripts/typedoc-not-exported.mjs runs the same check for
    // packagesRequiringDocumentation; `internalTypes` lists the plumbing types it lets pass.
    notExported: true,
  },
  internalTypes: [
    "src/tree/tree-state.ts:TreeState",
    "src/cache/block-cache.ts:CachedTable",
    "src/cache/file-descriptor-cache.ts:FileLease",
    "src/iter/run-cursor.ts:CursorSource",
    "src/iter/cursor.ts:EntryCursor",
    "src/iter/cursor.ts:PointLookup",
    "src/fault/injector.ts:FaultInjector",
    "src/table/table-cursor.ts:TableBlockSource",
    "src/table/table-cursor.ts:TableCursor",
    "src/table/data-block.ts:DataBlock",
    "src/table/index-block.ts:IndexBlock",
    "src/table/table.ts:FetchedBlocks",
    "src/table/table.ts:TableCursorOptions",
    "src/table/table.ts:TableOpenOptions",
    "src/table/read-ahead-window.ts:ReadAheadWindow",
    "src/table/table-writer.ts:WrittenTable",
    "src/table/keys.ts:KeyOrder",
  ],
  // Members of exported types that have no doc comment at their declaration yet. TypeDoc warns about an entry
  // that no longer matches an undocumented member, so documenting one means removing it here.
  intentionallyNotDocumented: Object.entries({
    "@talus/fs.Ring": ["closed", "fsync", "stats"],
    "@talus/lsm-core.CompactionTable": ["id", "minKey", "maxKey", "minSeqno", "maxSeqno"],
    "@talus/lsm-core.DropChoice": ["kind", "tableIds"],
    "@talus/lsm-core.MergeChoice": ["kind", "tableIds", "destLevel", "targetSize", "canonicalLevel"],
    "@talus/lsm-core.MoveChoice": ["kind", "tableIds", "destLevel"],
    "@talus/lsm-core.NothingChoice": ["kind"],
    "@talus/lsm-core.TableBlobReference": ["blobFileId", "count", "valueBytes", "storedBytes"],
    "@talus/lsm-core.TableMeta": ["formatVersion", "fileSize", "tableId", "createdAtMs", "entryCount", "distinctKeyCount",
      "tombstoneCount", "weakTombstoneCount", "mergeOperandCount", "indirectionCount", "minSeqno", "maxSeqno", "minKey",
      "maxKey", "keyBytes", "valueBytes", "dataBlockCount", "restartInterval", "blockSize", "comparator"],
    "@talus/lsm-core.Level": ["runs", "tableCount", "isEmpty"],
    "@talus/lsm-core.Run": ["tables", "comparator", "length", "minKey", "maxKey", "[iterator]"],
    "@talus/lsm-core.BlobFileHandle": ["id"],
    "@talus/lsm-core.BlobFileRecord": ["id", "fileSize", "fileChecksum"],
    "@talus/lsm-core.PersistedVersion": ["id", "size"],
    "@talus/lsm-core.TableHandle": ["id", "minKey", "maxKey", "minSeqno", "maxSeqno"],
    "@talus/lsm-core.VersionTableRecord": ["id"],
    "@talus/lsm-core.VisibleRangeIterator": ["[iterator]"],
    "@talus/lsm-core.Fragment": ["start"],
  }).flatMap(([owner, members]) => members.map((member) => `${owner}.${member}`)),
  // Without this only the root package ("talus-monorepo") would have to be documented, which has no code.
  packagesRequiringDocumentation: published.map(({ manifest }) => manifest.name),
  treatValidationWarningsAsErrors: true,
  treatWarningsAsErrors: true,
  ...(hasOrigin ? {} : { disableSources: true }),
};
export default config;
