/**
 * full_refresh runs: the requests of one vector store that share one sync_timestamp. Parts
 * ("final": false) apply their operations and sweep nothing, so search keeps every record the run
 * has not re-sent yet (no empty window) and an unchanged record is never embedded again; the
 * final request ("final": true) sweeps, once, every namespace the run named. A full_refresh
 * without "final" is a run of that one request. Pure rules here; the engine reads and writes.
 */
import { ApiError, Errors } from "../base/errors";
import { MAX_RUN_NAMESPACES, type Counts, type SyncResponse } from "../schemas/sync";
import { displayTimestamp } from "../base/timestamps";
import { NAMESPACE_PATTERN } from "../schemas/common";
import { ALL_NAMESPACES, type RunRow } from "../model/runs";
import type { CheckedOperation } from "../model/operations";
import { keyOf, type SyncPlan } from "../model/plan";

export type RequestKind = "incremental" | "single" | "part" | "final";

export function requestKind(mode: "incremental" | "full_refresh", final: boolean | undefined): RequestKind {
  if (mode === "incremental") return "incremental";
  return final === undefined ? "single" : final ? "final" : "part";
}

/**
 * A completed run stays completed whatever is sent with its timestamp: no part, no second final,
 * and no full_refresh without `final` once a final request completed it (such a request would
 * have reopened the run and let a late part bring back what the sweep removed). A run of one
 * request (no `final`, so no final_sync_id) may be sent again as a whole: that changes nothing.
 */
export function checkRunOpen(kind: RequestKind, run: RunRow | null, syncTimestamp: string): void {
  if (run?.state !== "completed" || kind === "incremental") return;
  if (kind === "part" || kind === "final" || run.final_sync_id !== null) {
    throw new ApiError(
      409,
      "RUN_COMPLETED",
      "This full_refresh run was completed by its final request; start a new run with a later sync_timestamp.",
      "conflict_error",
      { sync_timestamp: syncTimestamp, completed_at: run.completed_at, final_sync_id: run.final_sync_id },
    );
  }
}

/** The run's namespaces after this request, refused past MAX_RUN_NAMESPACES before any work. */
export function runNamespaces(run: RunRow | null, requestNamespaces: Iterable<string>): string[] {
  const all = new Set(run?.namespaces ?? []);
  for (const ns of requestNamespaces) all.add(ns);
  if (all.size > MAX_RUN_NAMESPACES) {
    throw Errors.validation({
      operations: [`a full_refresh run may name at most ${MAX_RUN_NAMESPACES} namespaces; this one would name ${all.size}`],
    });
  }
  return [...all].sort();
}

/** Unresolved failed records a run remembers; past it, their namespaces are blocked outright. */
export const MAX_RUN_FAILED_KEYS = 10_000;

export interface RunFailures {
  /** Records whose operation failed and that no later part applied (stored with the run). */
  failedKeys: [string, string][];
  /** Namespaces blocked outright: a failed operation without a usable id ("*": without a usable namespace). */
  blocked: string[];
  /** What this request's sweep must leave alone. */
  sweepBlocked: Set<string>;
  /** This request applied a record that an earlier part had failed. */
  resolvedEarlier: boolean;
}

/**
 * A failed operation never costs a good record: the namespace it names is not swept while the
 * failure stands. A record whose operation failed in one part and was applied by a later part of
 * the same run (a retried part) no longer blocks anything.
 */
export function runFailures(previous: RunRow | null, kind: RequestKind, checked: CheckedOperation[], plan: SyncPlan): RunFailures {
  const failedNow = new Map<string, [string, string]>();
  const blockedNow = new Set<string>();
  for (const error of plan.errors) {
    if (error.index === null) continue; // a sweep whose vector delete failed: retried, not a failure of the run
    const op = checked[error.index]!;
    const key = op.ok ? { namespace: op.namespace, id: op.id } : op.key;
    if (key) failedNow.set(keyOf(key.namespace, key.id), [key.namespace, key.id]);
    else blockedNow.add(error.namespace !== null && NAMESPACE_PATTERN.test(error.namespace) ? error.namespace : ALL_NAMESPACES);
  }
  const applied = new Set<string>();
  for (const [key, outcomes] of plan.outcomes) {
    if (!failedNow.has(key) && outcomes.some((o) => o.outcome !== "failed")) applied.add(key);
  }
  const earlier = previous?.failed_keys ?? [];
  const unresolved = new Map<string, [string, string]>();
  for (const pair of earlier) if (!applied.has(keyOf(pair[0], pair[1]))) unresolved.set(keyOf(pair[0], pair[1]), pair);
  for (const [key, pair] of failedNow) unresolved.set(key, pair);
  const blocked = new Set([...(previous?.blocked ?? []), ...blockedNow]);
  if (unresolved.size > MAX_RUN_FAILED_KEYS) {
    for (const [namespace] of unresolved.values()) blocked.add(namespace);
    unresolved.clear();
  }
  const namespacesOf = (pairs: Iterable<[string, string]>) => [...pairs].map(([namespace]) => namespace);
  const sweepBlocked =
    kind === "final"
      ? new Set([...blocked, ...namespacesOf(unresolved.values())])
      : new Set([...blockedNow, ...namespacesOf(failedNow.values())]);
  return {
    failedKeys: [...unresolved.values()],
    blocked: [...blocked].sort(),
    sweepBlocked,
    resolvedEarlier: earlier.some(([namespace, id]) => applied.has(keyOf(namespace, id))),
  };
}

const addCounts = (a: Counts, b: Counts): Counts => ({
  upserted: a.upserted + b.upserted,
  deleted: a.deleted + b.deleted,
  unchanged: a.unchanged + b.unchanged,
  failed: a.failed + b.failed,
  stale: a.stale + b.stale,
});
const ZERO: Counts = { upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 0 };

export interface RunStep {
  kind: RequestKind;
  previous: RunRow | null;
  storeId: string;
  syncedAt: string;
  syncId: string;
  namespaces: string[];
  failures: RunFailures;
  plan: SyncPlan;
  /** Records this request's sweep still left (unread, over budget, or whose vector delete failed). */
  remaining: number;
  now: string;
}

/** The run row after this request: parts and counts summed, namespaces and failures remembered. */
export function nextRun(step: RunStep): RunRow {
  const { previous, kind } = step;
  const completes = kind === "single" || (kind === "final" && step.remaining === 0);
  return {
    vector_store_id: step.storeId,
    sync_timestamp: step.syncedAt,
    state: completes ? "completed" : "open",
    final_sync_id: kind === "final" && completes ? step.syncId : (previous?.final_sync_id ?? null),
    parts: (previous?.parts ?? 0) + 1,
    results: addCounts(previous?.results ?? ZERO, step.plan.results),
    namespaces: step.namespaces,
    failed_keys: step.failures.failedKeys,
    blocked: step.failures.blocked,
    swept: (previous?.swept ?? 0) + step.plan.sweeps.length,
    started_at: previous?.started_at ?? step.now,
    updated_at: step.now,
    completed_at: completes ? step.now : (previous?.completed_at ?? null),
  };
}

/** What a full_refresh answer says of its run and, for a final or single request, of its sweep. */
export function runAnswer(
  step: RunStep,
  run: RunRow,
  final: boolean | undefined,
  sweptNamespaces: string[],
): Pick<SyncResponse, "run" | "sweep"> {
  const answer: Pick<SyncResponse, "run" | "sweep"> = {
    run: { sync_timestamp: displayTimestamp(step.syncedAt), final: final ?? null, state: run.state },
  };
  if (step.kind === "part") return answer;
  const blocked = step.failures.sweepBlocked;
  const skipped = blocked.has(ALL_NAMESPACES) ? [ALL_NAMESPACES] : sweptNamespaces.filter((ns) => blocked.has(ns));
  answer.sweep = { deleted: step.plan.sweeps.length, remaining: step.remaining, skipped_namespaces: skipped };
  if (skipped.length > 0) {
    answer.sweep.reason =
      "an operation of this run failed in these namespaces and no later part applied its record, so " +
      "their records the run did not send are kept (a failed operation never costs a good record); send the failed " +
      "records again in a part and then the final request, or let the next run sweep them";
  }
  return answer;
}
