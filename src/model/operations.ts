// The operations of a sync request as the engine sees them once checked.
import type { OperationBytes } from "../base/json/sync-body";
import type { OperationError } from "../schemas/sync";

/** An operation that passed validation, with what the planner and the ledger need precomputed. */
export interface ValidOperation {
  index: number;
  action: "upsert" | "delete";
  namespace: string;
  id: string;
  /** updated_at, else the request's sync_timestamp, normalised: the order operations apply in. */
  version: string;
  updatedAt: string | null;
  /** Upserts only: the stored columns and the content hash over them. */
  record?: RecordPayload;
  /**
   * An upsert read from bytes: the hash of its bytes as the ledger keeps it (operationSourceHash),
   * so that the same bytes sent again are known unchanged without being parsed.
   */
  sourceHash?: string | null;
  /** Known unchanged from its bytes (never parsed): its record holds the content hash only, and it is never written. */
  unread?: boolean;
}

export interface RecordPayload {
  data: string;
  file: string | null;
  createdAt: string | null;
  sourceSystem: string | null;
  /** The operation's own text, metadata (JSON) and vector, when it brought them. */
  text: string | null;
  metadata: string | null;
  vector: number[] | null;
  contentHash: string;
  /** data and file as parsed from the request, so that nothing parses them again (small bodies only). */
  parsed?: { data: Record<string, unknown>; file: { file_relative_path?: string } | null };
}

/** An operation that failed validation; `key` is set when its namespace and id are usable. */
export interface FailedOperation {
  index: number;
  error: OperationError;
  key: { namespace: string; id: string } | null;
}

export type CheckedOperation = ({ ok: true } & ValidOperation) | ({ ok: false } & FailedOperation);

/** Where a sync's operations come from: parsed already (tests, the whole-body path) or a body's bytes. */
export type OperationSource = unknown[] | OperationBytes;
