/**
 * `@talus/level`: {@link TalusLevel}, an [abstract-level](https://github.com/Level/abstract-level)
 * database on a Talus tree, so code written for `level` / `classic-level` runs on Talus.
 *
 * @module
 */
export {
  TalusLevel,
  type TalusBatchOptions,
  type TalusDelOptions,
  type TalusLevelOpenOptions,
  type TalusLevelOptions,
  type TalusLevelTreeOptions,
  type TalusPutOptions,
  type TalusWriteOptions,
} from "./talus-level.ts";
