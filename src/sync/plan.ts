import type { Counts, OperationError } from "../schemas/sync";
import type { CheckedOperation, ValidOperation } from "./operations";

export type SyncMode = "incremental" | "full_refresh";

/** What the ledger holds for one record, as far as planning needs. */
export interface LedgerEntry {
  namespace: string;
  id: string;
  deleted: boolean;
  contentHash: string | null;
  version: string;
  syncedAt: string;
}

export interface RecordKey {
  namespace: string;
  id: string;
}

/** A row to write: a live record, or a tombstone (`record` null). */
export interface RecordWrite extends RecordKey {
  version: string;
  updatedAt: string | null;
  record: ValidOperation["record"] | null;
}

/** A record seen again without a content change: only its version and synced_at move. */
export interface RecordTouch extends RecordKey {
  version: string;
  updatedAt: string | null;
}

export interface SyncPlan {
  writes: RecordWrite[];
  touches: RecordTouch[];
  /** full_refresh: live records of the named namespaces not seen by this run. */
  sweeps: RecordKey[];
  /** full_refresh: the namespaces whose refresh watermark this request advances. */
  refreshedNamespaces: string[];
  results: Counts;
  byNamespace: Record<string, Counts>;
  errors: OperationError[];
}

export interface PlanInput {
  mode: SyncMode;
  /** Normalised sync_timestamp. */
  syncedAt: string;
  operations: CheckedOperation[];
  /** Ledger rows for every key the operations name. */
  ledger: LedgerEntry[];
  /** full_refresh: live rows of the named namespaces with synced_at older than this sync. */
  sweepCandidates: RecordKey[];
}

export const keyOf = (namespace: string, id: string): string => `${namespace}\u0000${id}`;
const INVALID_NAMESPACE = "(invalid)";

const zero = (): Counts => ({ upserted: 0, deleted: 0, unchanged: 0, failed: 0 });

/**
 * Applies the operations, in request order, to an in-memory view of the ledger and returns
 * the net writes. Pure: no I/O, so the same plan can be checked, embedded and committed.
 *
 * Rules: an operation older than the stored record (by version) is stale and counted
 * unchanged; an upsert with the stored content hash is unchanged; a delete leaves a tombstone
 * so a late, older upsert cannot resurrect the record; within a request the later operation
 * of the same version wins.
 */
export function planSync(input: PlanInput): SyncPlan {
  const state = new Map<string, LedgerEntry>();
  for (const row of input.ledger) state.set(keyOf(row.namespace, row.id), { ...row });
  const original = new Map(state);

  const results = zero();
  const byNamespace: Record<string, Counts> = {};
  const count = (namespace: string, outcome: keyof Counts) => {
    results[outcome]++;
    (byNamespace[namespace] ??= zero())[outcome]++;
  };

  const writes = new Map<string, RecordWrite>();
  const seen = new Map<string, RecordKey>();
  const touchUpdatedAt = new Map<string, string | null>();
  const namespaces = new Set<string>();
  const errors: OperationError[] = [];

  for (const op of input.operations) {
    if (!op.ok) {
      errors.push(op.error);
      count(op.key?.namespace ?? INVALID_NAMESPACE, "failed");
      if (op.key) {
        // A record whose update failed must not be swept by the full_refresh it was part of.
        seen.set(keyOf(op.key.namespace, op.key.id), op.key);
        namespaces.add(op.key.namespace);
      }
      continue;
    }
    const key = keyOf(op.namespace, op.id);
    seen.set(key, { namespace: op.namespace, id: op.id });
    namespaces.add(op.namespace);
    const current = state.get(key);

    if (current && op.version < current.version) {
      count(op.namespace, "unchanged"); // stale: a late delivery never rolls data back
      continue;
    }
    if (op.action === "upsert") {
      const record = op.record!;
      if (current && !current.deleted && current.contentHash === record.contentHash) {
        count(op.namespace, "unchanged");
        if (op.version > current.version) {
          current.version = op.version;
          touchUpdatedAt.set(key, op.updatedAt);
        }
        continue;
      }
      count(op.namespace, "upserted");
      state.set(key, { ...keyFields(op), deleted: false, contentHash: record.contentHash, version: op.version,
        syncedAt: input.syncedAt });
      writes.set(key, { ...keyFields(op), version: op.version, updatedAt: op.updatedAt, record });
    } else {
      count(op.namespace, "deleted");
      if (current?.deleted && current.version === op.version) continue; // already this tombstone
      state.set(key, { ...keyFields(op), deleted: true, contentHash: null, version: op.version,
        syncedAt: input.syncedAt });
      writes.set(key, { ...keyFields(op), version: op.version, updatedAt: op.updatedAt, record: null });
    }
  }

  const touches: RecordTouch[] = [];
  for (const [key, { namespace, id }] of seen) {
    const before = original.get(key);
    const now = state.get(key);
    if (writes.has(key) || !before || before.deleted || !now) continue;
    // Only rows where something moves are written: an identical re-sync costs no write.
    if (before.syncedAt < input.syncedAt || now.version > before.version) {
      touches.push({ namespace, id, version: now.version, updatedAt: touchUpdatedAt.get(key) ?? null });
    }
  }

  const sweeps: RecordKey[] = [];
  const isRefresh = input.mode === "full_refresh" && input.operations.length > 0;
  if (isRefresh) {
    for (const candidate of input.sweepCandidates) {
      const key = keyOf(candidate.namespace, candidate.id);
      if (seen.has(key) || !namespaces.has(candidate.namespace)) continue;
      sweeps.push(candidate);
      count(candidate.namespace, "deleted");
    }
  }

  return {
    writes: [...writes.values()],
    touches,
    sweeps,
    refreshedNamespaces: isRefresh ? [...namespaces] : [],
    results,
    byNamespace,
    errors,
  };
}

function keyFields(op: ValidOperation): RecordKey {
  return { namespace: op.namespace, id: op.id };
}
