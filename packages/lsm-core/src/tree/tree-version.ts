/**
 * The version type of a tree: its tables are {@link TableFile}s and its blob files (a blob tree's value
 * log) {@link BlobFile}s.
 *
 * @module
 */
import type { Version } from "../version/index.ts";
import type { BlobFile } from "./blob-file.ts";
import type { TableFile } from "./table-file.ts";

export type TreeVersion = Version<TableFile, BlobFile>;
