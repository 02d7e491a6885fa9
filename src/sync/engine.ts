import { ApiError } from "../base/errors";
import { span } from "../base/profile";
import { randomToken } from "../base/crypto";
import type { D1Reader } from "../db/sessions";
import { commitPlan, loadLedger, type LedgerSnapshot, type RefreshRead } from "../db/ledger";
import type { SyncResponse } from "../schemas/sync";
import { removeVectors, searchableChunks, writeVectors, type VectorDeps } from "../vectors/vector-sync";
import { countsByNamespace, failKeys, planSync, skipSweepsAfterFailures } from "./plan";
import { checkRunOpen, nextRun, requestKind, runAnswer, runFailures, runNamespaces } from "./runs";
import { MAX_SWEEP_RECORDS, withinSweepBudget } from "../vectors/sweep-budget";
import { NAMESPACE_PATTERN } from "../schemas/common";
import { displayTimestamp, normalizeTimestamp } from "../base/timestamps";
import type { VectorStore } from "../model/store";
import type { CheckedOperation } from "../model/operations";
import { keyOf, type RecordKey } from "../model/plan";
import { ALL_NAMESPACES, type RunRow } from "../model/runs";
import type { SyncInput } from "../model/store-object";

export interface SyncDeps extends VectorDeps {
  /** The store's ledger shard: its binding, or a session of it (whose bookmark a sync returns). */
  db: D1Reader;
  now?: () => number;
}

/** Operation errors listed in one answer; `errors_omitted` counts the rest. */
export const MAX_REPORTED_ERRORS = 500;

/** Seconds a client should wait before retrying a request the upstream services could not take. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 10;

/** Refresh watermarks as an answer's details (own keys, any name safe), shown as the API shows timestamps. */
function watermarksByNamespace(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries(entries.map(([namespace, watermark]) => [namespace, displayTimestamp(watermark)]));
}

export function newSyncId(): string {
  return `sync_${randomToken(12)}`;
}

/** What a sync reads from its ledger shard: the ledger rows of its keys, watermarks, its run, sweep candidates. */
export interface LedgerRequest {
  keys: RecordKey[];
  namespaces: string[];
  refresh: RefreshRead | null;
}

/**
 * The ledger read of a sync, from its checked operations: a function of the request alone, so the
 * store's object can start it alongside its catalog reads (one round of D1 calls, not two).
 */
export function ledgerRequest(input: SyncInput, checked: CheckedOperation[]): LedgerRequest {
  const syncedAt = normalizeTimestamp(input.syncTimestamp);
  const kind = requestKind(input.mode, input.final);
  const keys = new Map<string, RecordKey>();
  const namespaces = new Set<string>(input.namespaces ?? []);
  // Namespaces in which an operation failed validation are never swept (ALL_NAMESPACES: one whose
  // namespace is unknown failed, so nothing is).
  const invalid = new Set<string>();
  for (const op of checked) {
    const key = op.ok ? { namespace: op.namespace, id: op.id } : op.key;
    if (!op.ok)
      invalid.add(op.error.namespace !== null && NAMESPACE_PATTERN.test(op.error.namespace) ? op.error.namespace : ALL_NAMESPACES);
    if (!key) continue;
    keys.set(keyOf(key.namespace, key.id), key);
    namespaces.add(key.namespace);
  }
  const sweeps = kind === "single" || kind === "final";
  return {
    keys: [...keys.values()],
    namespaces: [...namespaces],
    refresh:
      kind === "incremental"
        ? null
        : {
            syncedAt,
            withRun: kind === "final",
            sweep:
              sweeps && !invalid.has(ALL_NAMESPACES)
                ? {
                    namespaces: [...namespaces],
                    blocked: [...invalid],
                    maxRecords: MAX_SWEEP_RECORDS,
                    resent: checked.flatMap((op) => (op.ok ? [{ namespace: op.namespace, id: op.id }] : [])),
                  }
                : null,
          },
  };
}

/** Reads what a sync needs from its ledger shard, in one round trip (loadLedger). */
export function readLedger(db: D1Reader, storeId: string, request: LedgerRequest): Promise<LedgerSnapshot> {
  return span("ledger read", () => loadLedger(db, storeId, request.keys, request.namespaces, request.refresh));
}

/** What the store's object has done before a sync runs: its operations checked, its ledger read, its id fixed. */
export interface PreparedSync {
  checked: CheckedOperation[];
  request: LedgerRequest;
  ledger: LedgerSnapshot;
  /** Fixed before the sync runs (an Idempotency-Key's reservation names it). */
  syncId: string;
}

/**
 * One sync request, its operations checked and its ledger read (runStoreSync does both, in the
 * store's object, the one place a sync is orchestrated): plan against the ledger, make the index
 * follow the plan (embed, upsert, delete), then commit the ledger in one transaction. Vectors are
 * written before the ledger commits, so any failure leaves a state that a replay of the same
 * request repairs. Takes its dependencies as arguments (a benchmark or a test can give its own).
 */
export async function runSync(deps: SyncDeps, store: VectorStore, input: SyncInput, prepared: PreparedSync): Promise<SyncResponse> {
  const now = deps.now ?? Date.now;
  const started = now();
  const syncedAt = normalizeTimestamp(input.syncTimestamp);
  const kind = requestKind(input.mode, input.final);
  const { checked, request, ledger } = prepared;
  const sweeps = kind === "single" || kind === "final";
  const namespaces = new Set(request.namespaces);

  if (kind !== "incremental") {
    checkRunOpen(kind, ledger.run, input.syncTimestamp);
    const newer = [...ledger.refreshWatermarks].filter(([, last]) => last > syncedAt);
    if (newer.length > 0) {
      throw new ApiError(
        409,
        "STALE_SYNC",
        "A newer full_refresh has already been applied to these namespaces; nothing was changed.",
        "conflict_error",
        { namespaces: watermarksByNamespace(newer), sync_timestamp: input.syncTimestamp },
      );
    }
  }
  const refreshNamespaces = kind === "incremental" ? [] : runNamespaces(ledger.run, namespaces);
  const sweepCandidates = withinSweepBudget(ledger.sweepCandidates);

  const plan = span("plan", () =>
    planSync({
      mode: input.mode,
      syncedAt,
      operations: checked,
      ledger: ledger.entries,
      sweepCandidates,
      refreshWatermarks: ledger.refreshWatermarks,
      refreshNamespaces: [...namespaces],
    }),
  );
  // Upserts first, then (once failures are known) deletes: nothing is swept in a namespace where an
  // operation failed, and a record is never without vectors while its new ones are written.
  const written = await span("vectors: write", () => writeVectors(deps, store, plan));
  failKeys(plan, written.failures);
  const failures = runFailures(ledger.run, kind, checked, plan);
  // From here only the plan's writes carry records (commitPlan lets each go once serialised): drop
  // the checked operations' references, so a large request's content is not held twice.
  for (const op of checked) if (op.ok) op.record = undefined;
  skipSweepsAfterFailures(plan, failures.sweepBlocked);
  const read = plan.sweeps.length;
  const removed = await span("vectors: remove", () => removeVectors(deps, store, plan));
  failKeys(plan, removed.failures);
  // Left for the next final request: candidates not read (over MAX_SWEEP_RECORDS or the vector
  // budget) and those whose vector delete failed.
  let remaining = sweeps
    ? Math.max(0, ledger.sweepTotal - ledger.sweepCandidates.length) +
      (ledger.sweepCandidates.length - sweepCandidates.length) +
      (read - plan.sweeps.length)
    : 0;
  // The read could not tell which earlier failures this request resolves (too many keys to send):
  // a namespace it unblocked was left out, so the run is not done yet.
  if (ledger.resentUnknown && failures.resolvedEarlier) remaining = Math.max(remaining, 1);

  const transient = [...written.failures.values(), ...removed.failures.values()].filter((f) => f.transient);
  const upstreamFailures = transient.length;
  if (upstreamFailures > 0) {
    // Operators need to see upstream trouble; the messages come from the bindings, never from records.
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "upstream_failure",
        vector_store_id: store.id,
        failed_records: upstreamFailures,
        code: transient[0]!.code,
        message: transient[0]!.message.slice(0, 300),
      }),
    );
  }
  if (upstreamFailures > 0 && plan.results.upserted + plan.results.deleted === 0) {
    // Nothing could be applied and retrying may succeed: tell the client to retry the request.
    throw new ApiError(
      503,
      "UPSTREAM_UNAVAILABLE",
      "The embedding or vector service is unavailable; nothing was applied. Retry the same request.",
      "api_error",
      { failed_records: upstreamFailures },
      "Upstream embedding or vector index failure",
      { "Retry-After": String(UPSTREAM_RETRY_AFTER_SECONDS) },
    );
  }

  const processed = checked.length;
  const failed = plan.results.failed;
  const syncId = prepared.syncId;
  const response: SyncResponse = {
    status: failed === 0 && plan.errors.length === 0 ? "success" : failed === processed ? "failed" : "partial_success",
    sync_id: syncId,
    processed,
    results: plan.results,
    by_namespace: countsByNamespace(plan.byNamespace),
    processing_time_ms: Math.max(0, Math.round(now() - started)),
    // At most MAX_REPORTED_ERRORS listed (the counts stay exact): the answer is stored in one D1
    // row, which cannot pass 2 MB whatever 5000 failing operations with long ids would make.
    errors: plan.errors.slice(0, MAX_REPORTED_ERRORS),
    ...(plan.errors.length > MAX_REPORTED_ERRORS ? { errors_omitted: plan.errors.length - MAX_REPORTED_ERRORS } : {}),
  };
  let run: RunRow | null = null;
  if (kind !== "incremental") {
    const step = {
      kind,
      previous: ledger.run,
      storeId: store.id,
      syncedAt,
      syncId,
      namespaces: refreshNamespaces,
      failures,
      plan,
      remaining,
      now: new Date(now()).toISOString(),
    };
    run = nextRun(step);
    Object.assign(response, runAnswer(step, run, input.final, kind === "final" ? refreshNamespaces : [...namespaces].sort()));
  }
  await span("ledger commit", () =>
    commitPlan(
      deps.db,
      plan,
      {
        id: syncId,
        organizationId: store.organization_id,
        vectorStoreId: store.id,
        mode: input.mode,
        syncTimestamp: input.syncTimestamp,
        status: response.status,
        result: response,
        mutationIds: [...written.mutationIds, ...removed.mutationIds],
      },
      syncedAt,
      run,
      (write) => searchableChunks(store, write.record!),
    ),
  );
  return response;
}
