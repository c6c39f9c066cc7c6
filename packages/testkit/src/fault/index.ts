/**
 * Fault injection for filesystems: {@link FaultFs} and the pieces of its rules.
 *
 * @module
 */
export { FaultFs } from "./fault-fs.ts";
export { FaultFile } from "./fault-file.ts";
export type { InjectedFault } from "./injector.ts";
export { isInjected, type InjectedFsError } from "./injected-error.ts";
export {
  ALL_OPS,
  FILE_OPS,
  FS_OPS,
  METADATA_OPS,
  READ_OPS,
  SYNC_OPS,
  WRITE_OPS,
  isFsOpKind,
  type FsOpKind,
} from "./ops.ts";
export { globToRegExp, type FaultCode, type FaultError, type FaultRule, type PathFilter, type TornWriteFault } from "./rules.ts";
