// The planner's vocabulary: ledger entries, record keys, and the plan a sync applies.
import type { OperationErrorCode } from "../base/error-codes";
import type { Counts, OperationError } from "../schemas/sync";
import type { ValidOperation } from "./operations";

export type SyncMode = "incremental" | "full_refresh";

/** What the ledger holds for one record, as far as planning needs. */
export interface LedgerEntry {
  namespace: string;
  id: string;
  deleted: boolean;
  contentHash: string | null;
  version: string;
  syncedAt: string;
  /** Vectors the record has in the index now (ids _0 .. _{chunkCount-1}). */
  chunkCount: number;
  /** The text hash of each of those vectors' chunks (see ledgerChunkHashes); null: none known. */
  chunkHashes?: string | null;
  /** The bytes hash of the last operation applied to the live record (ValidOperation.sourceHash); null: none known. */
  opHash?: string | null;
}

export interface RecordKey {
  namespace: string;
  id: string;
}

/** A row to write: a live record, or a tombstone (`record` null). */
export interface RecordWrite extends RecordKey {
  key: string;
  version: string;
  updatedAt: string | null;
  record: ValidOperation["record"] | null;
  /** Vectors the record has in the index before this write, and will have after it. */
  previousChunkCount: number;
  chunkCount: number;
  /** Its chunks' text hashes before this write (a chunk whose text stays keeps its vector), and after it. */
  previousChunkHashes?: string | null;
  chunkHashes?: string | null;
  /** The bytes hash of the last operation applied to it (ValidOperation.sourceHash). */
  opHash?: string | null;
}

/** A live record a full_refresh removes, with the vectors it has. */
export interface RecordSweep extends RecordKey {
  chunkCount: number;
}

/** A record seen again without a content change: only its version and synced_at move. */
export interface RecordTouch extends RecordKey {
  version: string;
  updatedAt: string | null;
  /** The bytes hash of the last operation applied to it; null keeps the stored one. */
  opHash?: string | null;
}

export interface SyncPlan {
  writes: RecordWrite[];
  touches: RecordTouch[];
  /** full_refresh, final or only request: live records of the run's namespaces it did not see. */
  sweeps: RecordSweep[];
  /** full_refresh: the namespaces whose refresh watermark this request advances. */
  refreshedNamespaces: string[];
  /** Namespaces whose sweep was dropped because an operation failed in them ("*": any namespace). */
  sweepBlocked: Set<string>;
  results: Counts;
  /** Keyed by the client's namespaces, so a Map: "__proto__" is a namespace like any other. */
  byNamespace: Map<string, Counts>;
  errors: OperationError[];
  /** Per record key, the operations counted for it (so a failure downstream can recount them). */
  outcomes: Map<string, { index: number; namespace: string; id: string; outcome: keyof Counts }[]>;
  /** The ledger as read, per record key. */
  ledger: Map<string, LedgerEntry>;
  syncedAt: string;
}

export const keyOf = (namespace: string, id: string): string => `${namespace}\u0000${id}`;

export interface KeyFailure {
  code: OperationErrorCode;
  message: string;
}
