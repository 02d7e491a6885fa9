import type { Counts, OperationError } from "../schemas/sync";
import type { CheckedOperation, ValidOperation } from "../model/operations";
import { ALL_NAMESPACES } from "../model/runs";
import {
  keyOf,
  type SyncMode,
  type LedgerEntry,
  type RecordKey,
  type RecordWrite,
  type RecordSweep,
  type RecordTouch,
  type SyncPlan,
  type KeyFailure,
} from "../model/plan";

export interface PlanInput {
  mode: SyncMode;
  /** Normalised sync_timestamp. */
  syncedAt: string;
  operations: CheckedOperation[];
  /** Ledger rows for every key the operations name. */
  ledger: LedgerEntry[];
  /** full_refresh: live rows of the swept namespaces with synced_at older than this sync. */
  sweepCandidates: RecordSweep[];
  /** full_refresh: the namespaces this request names (operations and a final request's list). */
  refreshNamespaces?: string[];
  /** The newest full_refresh applied to each namespace the operations name. */
  refreshWatermarks?: Map<string, string>;
}

const INVALID_NAMESPACE = "(invalid)";

const zero = (): Counts => ({ upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 0 });

/**
 * Applies the operations, in request order, to an in-memory view of the ledger and returns
 * the net writes. Pure: no I/O, so the same plan can be checked, embedded and committed.
 *
 * Rules: an operation older than the stored record (by version) is stale, counted apart and
 * not applied; an upsert with the stored content hash is unchanged; a delete leaves a tombstone
 * so a late, older upsert cannot resurrect the record; within a request the later operation
 * of the same version wins.
 */
export function planSync(input: PlanInput): SyncPlan {
  const state = new Map<string, LedgerEntry>();
  for (const row of input.ledger) state.set(keyOf(row.namespace, row.id), { ...row });
  const original = new Map(state);

  const results = zero();
  const byNamespace = new Map<string, Counts>();
  const count = (namespace: string, outcome: keyof Counts) => {
    results[outcome]++;
    let counts = byNamespace.get(namespace);
    if (!counts) {
      counts = zero();
      byNamespace.set(namespace, counts);
    }
    counts[outcome]++;
  };
  const outcomes: SyncPlan["outcomes"] = new Map();
  const countOp = (key: string, op: ValidOperation, outcome: keyof Counts) => {
    count(op.namespace, outcome);
    const list = outcomes.get(key) ?? [];
    list.push({ index: op.index, namespace: op.namespace, id: op.id, outcome });
    outcomes.set(key, list);
  };
  const write = (key: string, op: ValidOperation, record: RecordWrite["record"]) => {
    // Known unchanged from its bytes, so never parsed: its key is the request's only operation of
    // that record and the ledger holds its content (checkOperations), so it cannot come here.
    if (op.unread) throw new Error("an operation known unchanged from its bytes was planned as a write");
    writes.set(key, {
      ...keyFields(op),
      key,
      version: op.version,
      updatedAt: op.updatedAt,
      record,
      previousChunkCount: original.get(key)?.chunkCount ?? 0,
      previousChunkHashes: original.get(key)?.chunkHashes ?? null,
      chunkCount: 0,
    });
  };

  const writes = new Map<string, RecordWrite>();
  /** Per key, the bytes hash of the last operation applied (upserted or unchanged); null after a delete. */
  const lastHash = new Map<string, string | null>();
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
      countOp(key, op, "stale"); // a late delivery never rolls data back
      continue;
    }
    // A full_refresh made its namespaces exactly what it sent: an older upsert of a record it did
    // not see arrives too late (in version order the refresh would have swept it).
    const watermark = input.refreshWatermarks?.get(op.namespace);
    if (op.action === "upsert" && watermark && op.version < watermark && (!current || current.syncedAt < watermark)) {
      countOp(key, op, "stale");
      continue;
    }
    if (op.action === "upsert") {
      const record = op.record!;
      lastHash.set(key, op.sourceHash ?? null);
      if (current && !current.deleted && current.contentHash === record.contentHash) {
        countOp(key, op, "unchanged");
        if (op.version > current.version) {
          state.set(key, { ...current, version: op.version });
          touchUpdatedAt.set(key, op.updatedAt);
        }
        continue;
      }
      countOp(key, op, "upserted");
      state.set(key, {
        ...keyFields(op),
        deleted: false,
        contentHash: record.contentHash,
        version: op.version,
        syncedAt: input.syncedAt,
        chunkCount: 0,
      });
      write(key, op, record);
    } else {
      lastHash.set(key, null);
      countOp(key, op, "deleted");
      if (current?.deleted && current.version === op.version) continue; // already this tombstone
      state.set(key, { ...keyFields(op), deleted: true, contentHash: null, version: op.version, syncedAt: input.syncedAt, chunkCount: 0 });
      write(key, op, null);
    }
  }

  const touches: RecordTouch[] = [];
  for (const [key, { namespace, id }] of seen) {
    const before = original.get(key);
    const now = state.get(key);
    if (writes.has(key) || !before || before.deleted || !now) continue;
    // Only rows where something moves are written: an identical re-sync costs no write.
    if (before.syncedAt < input.syncedAt || now.version > before.version) {
      touches.push({ namespace, id, version: now.version, updatedAt: touchUpdatedAt.get(key) ?? null, opHash: lastHash.get(key) ?? null });
    }
  }

  // The candidates were read for the namespaces this request sweeps, less those in which an
  // operation failed (the ledger read knows them): a record seen here is not one of them.
  const sweeps: RecordSweep[] = [];
  for (const candidate of input.mode === "full_refresh" ? input.sweepCandidates : []) {
    if (seen.has(keyOf(candidate.namespace, candidate.id))) continue;
    sweeps.push(candidate);
    count(candidate.namespace, "deleted");
  }

  for (const [key, w] of writes) if (w.record) w.opHash = lastHash.get(key) ?? null;
  return {
    writes: [...writes.values()],
    touches,
    sweeps,
    refreshedNamespaces: input.mode === "full_refresh" ? (input.refreshNamespaces ?? [...namespaces]) : [],
    sweepBlocked: new Set(),
    results,
    byNamespace,
    errors,
    outcomes,
    ledger: original,
    syncedAt: input.syncedAt,
  };
}

/**
 * Takes back what could not be applied downstream (an embedding or a vector write failed):
 * the record's operations are recounted as failed, its ledger row is left as it was (only
 * marked seen, so a full_refresh does not sweep it), and a sweep that failed is not done.
 */
export function failKeys(plan: SyncPlan, failures: Map<string, KeyFailure>): void {
  if (failures.size === 0) return;
  const count = (namespace: string, outcome: keyof Counts, delta: number) => {
    plan.results[outcome] += delta;
    plan.byNamespace.get(namespace)![outcome] += delta;
  };
  plan.writes = plan.writes.filter((w) => !failures.has(w.key));
  const touched = new Set(plan.touches.map((t) => keyOf(t.namespace, t.id)));
  for (const [key, failure] of failures) {
    for (const op of plan.outcomes.get(key) ?? []) {
      if (op.outcome === "failed") continue;
      count(op.namespace, op.outcome, -1);
      count(op.namespace, "failed", 1);
      op.outcome = "failed";
      plan.errors.push({ index: op.index, id: op.id, namespace: op.namespace, code: failure.code, message: failure.message });
    }
    const before = plan.ledger.get(key);
    if (before && !before.deleted && !touched.has(key) && before.syncedAt < plan.syncedAt) {
      plan.touches.push({ namespace: before.namespace, id: before.id, version: before.version, updatedAt: null });
    }
  }
  plan.sweeps = plan.sweeps.filter((sweep) => {
    const failure = failures.get(keyOf(sweep.namespace, sweep.id));
    if (!failure) return true;
    count(sweep.namespace, "deleted", -1);
    plan.errors.push({ index: null, id: sweep.id, namespace: sweep.namespace, code: failure.code, message: failure.message });
    return false;
  });
  plan.errors.sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity));
}

/**
 * A failed operation must never cost a good record: the record it meant to send may be one the
 * sweep would delete. So nothing is swept in a namespace where an operation of the request failed
 * (validation failures are left out of the ledger read already; this drops the sweeps of those
 * that failed downstream: embedding, index write, request budget), nor anywhere when a failed
 * operation's namespace is unknown. Called after the vectors were written, before any is deleted.
 * A record whose own vector delete failed in the sweep is not a reason: it is retried.
 */
export function skipSweepsAfterFailures(plan: SyncPlan, blockedNamespaces: Iterable<string>): void {
  for (const namespace of blockedNamespaces) plan.sweepBlocked.add(namespace);
  if (plan.sweepBlocked.size === 0 || plan.sweeps.length === 0) return;
  const all = plan.sweepBlocked.has(ALL_NAMESPACES);
  plan.sweeps = plan.sweeps.filter((sweep) => {
    if (!all && !plan.sweepBlocked.has(sweep.namespace)) return true;
    plan.results.deleted -= 1;
    plan.byNamespace.get(sweep.namespace)!.deleted -= 1;
    return false;
  });
}

/**
 * Per-namespace counts as the answer's `by_namespace`. Object.fromEntries defines own properties,
 * so "__proto__" is a key like any other; and a plain object survives the Durable Object's RPC
 * (workerd refuses to serialise null-prototype objects).
 */
export function countsByNamespace(byNamespace: Map<string, Counts>): Record<string, Counts> {
  return Object.fromEntries(byNamespace);
}

function keyFields(op: ValidOperation): RecordKey {
  return { namespace: op.namespace, id: op.id };
}
