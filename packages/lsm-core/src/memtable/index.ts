export { Memtable, MEMTABLE_ENTRY_OVERHEAD } from "./memtable.ts";
