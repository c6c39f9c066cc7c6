/**
 * The write-ahead journal: {@link JournalWriter} appends write groups to a journal file and makes them
 * durable by group commit; {@link replayJournal} reads them back after a crash, up to the torn tail.
 *
 * @module
 */
export {
  JOURNAL_FORMAT,
  JOURNAL_HEADER_BYTES,
  JOURNAL_MAGIC,
  RANGE_TAG,
  isJournalOpTag,
  type JournalOpTag,
} from "./journal-format.ts";
export { journalPreviousLength, replayJournal, type JournalGroup, type JournalOpVisitor, type ReplayResult } from "./journal-reader.ts";
export {
  JOURNAL_WRITE_OUT_BYTES,
  JournalWriter,
  type JournalPoint,
  type JournalRange,
  type JournalWriterOptions,
} from "./journal-writer.ts";
