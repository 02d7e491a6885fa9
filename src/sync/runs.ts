/**
 * full_refresh runs: the requests of one vector store that share one sync_timestamp. Parts
 * ("final": false) apply their operations and sweep nothing, so search keeps every record the run
 * has not re-sent yet (no empty window) and an unchanged record is never embedded again; the
 * final request ("final": true) sweeps, once, every namespace the run named. A full_refresh
 * without "final" is a run of that one request. Pure rules here; the engine reads and writes.
 */
import { ApiError, Errors } from "../errors";
import { ALL_NAMESPACES, type RunRow } from "../db/runs";
import { MAX_RUN_NAMESPACES, type Counts, type SyncResponse } from "../schemas/sync";
import { displayTimestamp } from "../timestamps";
import type { SyncPlan } from "./plan";

export type RequestKind = "incremental" | "single" | "part" | "final";

export function requestKind(mode: "incremental" | "full_refresh", final: boolean | undefined): RequestKind {
  if (mode === "incremental") return "incremental";
  return final === undefined ? "single" : final ? "final" : "part";
}

/** A run whose final request completed it takes no more parts and no second final. */
export function checkRunOpen(kind: RequestKind, run: RunRow | null, syncTimestamp: string): void {
  if ((kind === "part" || kind === "final") && run?.final_sync_id) {
    throw new ApiError(409, "RUN_COMPLETED",
      "This full_refresh run was completed by its final request; start a new run with a later sync_timestamp.",
      "conflict_error", { sync_timestamp: syncTimestamp, completed_at: run.completed_at, final_sync_id: run.final_sync_id });
  }
}

/** The run's namespaces after this request, refused past MAX_RUN_NAMESPACES before any work. */
export function runNamespaces(run: RunRow | null, requestNamespaces: Iterable<string>): string[] {
  const all = new Set(run?.namespaces ?? []);
  for (const ns of requestNamespaces) all.add(ns);
  if (all.size > MAX_RUN_NAMESPACES) {
    throw Errors.validation({ operations: [`a full_refresh run may name at most ${MAX_RUN_NAMESPACES} namespaces; this one would name ${all.size}`] });
  }
  return [...all].sort();
}

const addCounts = (a: Counts, b: Counts): Counts =>
  ({ upserted: a.upserted + b.upserted, deleted: a.deleted + b.deleted, unchanged: a.unchanged + b.unchanged, failed: a.failed + b.failed });
const ZERO: Counts = { upserted: 0, deleted: 0, unchanged: 0, failed: 0 };

export interface RunStep {
  kind: RequestKind;
  previous: RunRow | null;
  storeId: string;
  syncedAt: string;
  syncId: string;
  namespaces: string[];
  blocked: Set<string>;
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
    final_sync_id: kind === "final" && completes ? step.syncId : null,
    parts: (previous?.parts ?? 0) + 1,
    results: addCounts(previous?.results ?? ZERO, step.plan.results),
    namespaces: step.namespaces,
    blocked: [...new Set([...(previous?.blocked ?? []), ...step.blocked])].sort(),
    swept: (previous?.swept ?? 0) + step.plan.sweeps.length,
    started_at: previous?.started_at ?? step.now,
    updated_at: step.now,
    completed_at: completes ? step.now : previous?.completed_at ?? null,
  };
}

/** What a full_refresh answer says of its run and, for a final or single request, of its sweep. */
export function runAnswer(step: RunStep, run: RunRow, final: boolean | undefined, sweptNamespaces: string[]):
  Pick<SyncResponse, "run" | "sweep"> {
  const answer: Pick<SyncResponse, "run" | "sweep"> = {
    run: { sync_timestamp: displayTimestamp(step.syncedAt), final: final ?? null, state: run.state },
  };
  if (step.kind === "part") return answer;
  const skipped = step.blocked.has(ALL_NAMESPACES) ? [ALL_NAMESPACES] : sweptNamespaces.filter((ns) => step.blocked.has(ns));
  answer.sweep = { deleted: step.plan.sweeps.length, remaining: step.remaining, skipped_namespaces: skipped };
  if (skipped.length > 0) {
    answer.sweep.reason = "an operation of this run failed in these namespaces, so their records that the run did not send " +
      "are kept (a failed operation never costs a good record); the next run that has no failure there sweeps them";
  }
  return answer;
}
