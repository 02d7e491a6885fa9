import { ApiError, randomToken } from "../errors";
import { commitPlan, loadLedger } from "../db/ledger";
import type { SyncResponse } from "../schemas/sync";
import { checkOperations } from "./operations";
import { keyOf, planSync, type RecordKey, type SyncMode } from "./plan";
import { normalizeTimestamp } from "./timestamps";

export interface SyncInput {
  organizationId: string;
  vectorStoreId: string;
  mode: SyncMode;
  syncTimestamp: string;
  operations: unknown[];
}

export interface SyncDeps {
  db: D1Database;
  now?: () => number;
}

export function newSyncId(): string {
  return `sync_${randomToken(12)}`;
}

/**
 * One sync request: check each operation, read the ledger once, plan against it, commit the
 * plan in one transaction. Takes its dependencies as arguments so it can run anywhere
 * (a route handler, a benchmark, a Durable Object).
 */
export async function runSync(deps: SyncDeps, input: SyncInput): Promise<SyncResponse> {
  const now = deps.now ?? Date.now;
  const started = now();
  const syncedAt = normalizeTimestamp(input.syncTimestamp);
  const checked = await checkOperations(input.operations, input.syncTimestamp);

  const keys = new Map<string, RecordKey>();
  const namespaces = new Set<string>();
  for (const op of checked) {
    const key = op.ok ? { namespace: op.namespace, id: op.id } : op.key;
    if (!key) continue;
    keys.set(keyOf(key.namespace, key.id), key);
    namespaces.add(key.namespace);
  }
  const isRefresh = input.mode === "full_refresh";
  const ledger = await loadLedger(deps.db, input.vectorStoreId, [...keys.values()],
    isRefresh ? { namespaces: [...namespaces], syncedAt } : null);

  if (isRefresh) {
    const newer = [...ledger.refreshWatermarks].filter(([, last]) => last > syncedAt);
    if (newer.length > 0) {
      throw new ApiError(409, "STALE_SYNC",
        "A newer full_refresh has already been applied to these namespaces; nothing was changed.",
        "conflict_error", { namespaces: Object.fromEntries(newer), sync_timestamp: input.syncTimestamp });
    }
  }

  const plan = planSync({ mode: input.mode, syncedAt, operations: checked, ledger: ledger.entries,
    sweepCandidates: ledger.sweepCandidates });

  const processed = input.operations.length;
  const failed = plan.results.failed;
  const syncId = newSyncId();
  const response: SyncResponse = {
    status: failed === 0 ? "success" : failed === processed ? "failed" : "partial_success",
    sync_id: syncId,
    processed,
    results: plan.results,
    by_namespace: plan.byNamespace,
    processing_time_ms: 0,
    errors: plan.errors,
  };
  response.processing_time_ms = Math.max(0, Math.round(now() - started));
  await commitPlan(deps.db, plan, {
    id: syncId, organizationId: input.organizationId, vectorStoreId: input.vectorStoreId,
    mode: input.mode, syncTimestamp: input.syncTimestamp, status: response.status, result: response,
  }, syncedAt);
  return response;
}
