export { Memtable, MEMTABLE_ENTRY_OVERHEAD } from "./memtable.ts";
export { ArenaChunkPool } from "./chunk-pool.ts";
export { MAX_CHUNK_BYTES } from "./arena.ts";
