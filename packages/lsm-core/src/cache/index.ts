/**
 * The caches shared by every table of a process: decoded blocks ({@link BlockCache}) and open file
 * handles ({@link FileDescriptorCache}).
 *
 * @module
 */
export { BLOCK_CACHE_ENTRY_OVERHEAD, BlockCache, CachedTable, type CacheNode, DEFAULT_BLOCK_CACHE_BYTES, newCacheNamespace } from "./block-cache.ts";
export { DEFAULT_MAX_OPEN_FILES, FileDescriptorCache, type FileLease } from "./file-descriptor-cache.ts";
