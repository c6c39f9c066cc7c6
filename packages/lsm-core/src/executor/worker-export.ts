/**
 * User callbacks that worker threads can load. A comparator, merge operator, compaction filter or
 * prefix extractor is a closure, and closures do not cross thread boundaries; a module does. A callback
 * tagged with {@link fromModule} says where a worker can import the same callback from, and a tree
 * whose callbacks are all tagged (or absent) can run its compactions on worker threads. Untagged ones
 * keep those jobs on the main thread.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Where a worker imports a callback from: `exportName` of `module`, called with `args` when given (a factory). */
export interface WorkerExport {
  /** An absolute URL (`import.meta.url` of the defining module) or a package name. */
  readonly module: string;
  /** The name `module` exports the callback (or its factory) under. */
  readonly exportName: string;
  /** Structured-cloneable arguments: the export is a factory and the callback is what it returns. */
  readonly args?: readonly unknown[];
}

const WORKER_EXPORT = Symbol.for("talus.workerExport");

/**
 * Tags `callback` as importable in worker threads as `exportName` of `module` (for a factory's product:
 * the factory's export name and the arguments that made it), and returns it. The module must export
 * the same callback (or factory) under that name, and loading it must have no side effects a worker
 * should not run. Only objects and functions can be tagged.
 *
 * @example
 * ```ts
 * // ttl.ts
 * import { fromModule, type CompactionFilter } from "@talus/lsm-core";
 * export const ttl: CompactionFilter = fromModule(
 *   { name: "ttl", create: () => ({ filter: (item) => (isExpired(item.value()) ? "remove" : "keep") }) },
 *   import.meta.url,
 *   "ttl",
 * );
 * // elsewhere: its compactions run on worker threads (on a filesystem that allows them)
 * const tree = await Tree.open({ path: "/db", compactionFilter: ttl });
 * ```
 */
export function fromModule<T extends object>(callback: T, module: string, exportName: string, args?: readonly unknown[]): T {
  if ((typeof callback !== "object" && typeof callback !== "function") || callback === null) throw new TypeError("fromModule tags an object or a function");
  if (typeof module !== "string" || module.length === 0) throw new TypeError("fromModule needs a module specifier");
  if (typeof exportName !== "string" || exportName.length === 0) throw new TypeError("fromModule needs an export name");
  const tag: WorkerExport = args === undefined ? { module, exportName } : { module, exportName, args: [...args] };
  Object.defineProperty(callback, WORKER_EXPORT, { value: tag, enumerable: false, configurable: true });
  return callback;
}

/** The tag {@link fromModule} put on `callback`, if any. */
export function workerExportOf(callback: unknown): WorkerExport | undefined {
  if ((typeof callback !== "object" && typeof callback !== "function") || callback === null) return undefined;
  return (callback as { [WORKER_EXPORT]?: WorkerExport })[WORKER_EXPORT];
}

const requireHere = createRequire(import.meta.url);

/**
 * Imports a module in a worker thread. A worker started from TypeScript sources (tests, tools run
 * through tsx) has tsx's require hook but not its import hook, so a `.ts` module that `import()`
 * refuses is required instead.
 */
export async function importInWorker(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw error;
    return requireHere(specifier.startsWith("file:") ? fileURLToPath(specifier) : specifier) as Record<string, unknown>;
  }
}

/** Imports a tagged callback (in a worker). */
export async function loadWorkerExport(tag: WorkerExport): Promise<unknown> {
  const module = await importInWorker(tag.module);
  const value = module[tag.exportName];
  if (value === undefined) throw new Error(`module ${tag.module} has no export "${tag.exportName}"`);
  if (tag.args === undefined) return value;
  if (typeof value !== "function") throw new Error(`export "${tag.exportName}" of ${tag.module} is not a factory`);
  return (value as (...args: unknown[]) => unknown)(...tag.args);
}
