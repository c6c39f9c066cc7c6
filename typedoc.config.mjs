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
    // packagesRequiringDocumentation. A member that only engine plumbing calls (a constructor the tree calls, a
    // table's block reads) is marked `@internal` instead, and excludeInternal leaves it out of the reference.
    notExported: true,
  },
  // Both allowlists are empty, and should stay so: every exported symbol and member has a doc comment, and every
  // type the documented API names is exported. An entry that no longer matches anything is itself a warning
  // (so a stale one fails the run); document the member, or mark plumbing `@internal`, rather than add one.
  internalTypes: [],
  intentionallyNotDocumented: [],
  // Without this only the root package ("talus-monorepo") would have to be documented, which has no code.
  packagesRequiringDocumentation: published.map(({ manifest }) => manifest.name),
  treatValidationWarningsAsErrors: true,
  treatWarningsAsErrors: true,
  ...(hasOrigin ? {} : { disableSources: true }),
};
export default config;
