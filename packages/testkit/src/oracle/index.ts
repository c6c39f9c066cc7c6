/**
 * The MVCC oracle model tests compare trees against.
 *
 * @module
 */
export {
  bytewiseCompare,
  MvccOracle,
  type OracleCompare,
  type OracleKind,
  type OracleRange,
  type OracleVersion,
} from "./mvcc-oracle.ts";
