/**
 * The MVCC oracle model tests compare trees against.
 *
 * @module
 */
export {
  bytewiseCompare,
  bytewiseSuccessor,
  MvccOracle,
  type MvccOracleOptions,
  type OracleBatchOp,
  type OracleCompare,
  type OracleEntry,
  type OracleFilterVerdict,
  type OracleIngestEntry,
  type OracleKind,
  type OracleMergeOperator,
  type OracleRange,
  type OracleRangeTombstone,
  type OracleVersion,
} from "./mvcc-oracle.ts";
