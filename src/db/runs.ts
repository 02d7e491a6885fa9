// SQL of full_refresh runs (table sync_runs, schema.sql). A run is read in the sync's one read
// batch (loadLedger) and written in its one commit batch (commitPlan).
import type { D1Reader } from "./sessions";
import { withStale } from "../schemas/sync";
import { displayTimestamp } from "../base/timestamps";
import type { RunRow, RunState, RunView } from "../model/runs";

interface StoredRunRow extends Omit<RunRow, "results" | "namespaces" | "failed_keys" | "blocked"> {
  results: string;
  namespaces: string;
  failed_keys: string;
  blocked: string;
  /** The newest refresh watermark among the run's namespaces (only when read for a view). */
  newest_watermark?: string | null;
}

/** A run with no answer from its final request for this long is reported abandoned. */
export const RUN_ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

const COLUMNS = `vector_store_id, sync_timestamp, state, final_sync_id, parts, results, namespaces, failed_keys, blocked,
  swept, started_at, updated_at, completed_at`;

export const SELECT_RUN = `SELECT ${COLUMNS} FROM sync_runs WHERE vector_store_id = ?1 AND sync_timestamp = ?2`;

const UPSERT_RUN = `INSERT OR REPLACE INTO sync_runs (${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`;

export function toRun(row: StoredRunRow): RunRow {
  return {
    ...row,
    results: withStale(JSON.parse(row.results)),
    namespaces: JSON.parse(row.namespaces),
    failed_keys: JSON.parse(row.failed_keys),
    blocked: JSON.parse(row.blocked),
  };
}

export function upsertRunStatement(db: D1Reader, run: RunRow): D1PreparedStatement {
  return db
    .prepare(UPSERT_RUN)
    .bind(
      run.vector_store_id,
      run.sync_timestamp,
      run.state,
      run.final_sync_id,
      run.parts,
      JSON.stringify(run.results),
      JSON.stringify(run.namespaces),
      JSON.stringify(run.failed_keys),
      JSON.stringify(run.blocked),
      run.swept,
      run.started_at,
      run.updated_at,
      run.completed_at,
    );
}

/** Namespaces the run's final request will not sweep, as things stand. */
export function blockedNamespaces(run: Pick<RunRow, "failed_keys" | "blocked">): string[] {
  return [...new Set([...run.blocked, ...run.failed_keys.map(([namespace]) => namespace)])].sort();
}

/**
 * A completed run is completed; an open one is superseded once a newer full_refresh has started
 * on one of its namespaces (its final request would be refused), abandoned when nothing arrived
 * for RUN_ABANDONED_AFTER_MS, else open. Superseded and abandoned runs never sweep.
 */
export function runState(run: RunRow, newestWatermark: string | null, now: number): RunState {
  if (run.state === "completed") return "completed";
  if (newestWatermark !== null && newestWatermark > run.sync_timestamp) return "superseded";
  if (now - Date.parse(run.updated_at) > RUN_ABANDONED_AFTER_MS) return "abandoned";
  return "open";
}

export async function getRunView(db: D1Reader, storeId: string, syncTimestamp: string, now: number): Promise<RunView | null> {
  const row = await db
    .prepare(`
      SELECT ${COLUMNS}, (SELECT max(s.last_full_refresh) FROM namespace_state s
                          WHERE s.vector_store_id = r.vector_store_id
                            AND s.namespace IN (SELECT value FROM json_each(r.namespaces))) AS newest_watermark
      FROM sync_runs r WHERE vector_store_id = ?1 AND sync_timestamp = ?2`)
    .bind(storeId, syncTimestamp)
    .first<StoredRunRow>();
  if (!row) return null;
  const run = toRun(row);
  return {
    vector_store_id: run.vector_store_id,
    sync_mode: "full_refresh",
    sync_timestamp: displayTimestamp(run.sync_timestamp),
    state: runState(run, row.newest_watermark ?? null, now),
    parts: run.parts,
    results: run.results,
    namespaces: run.namespaces,
    blocked_namespaces: blockedNamespaces(run),
    started_at: run.started_at,
    updated_at: run.updated_at,
    completed_at: run.completed_at,
    swept: run.swept,
    final_sync_id: run.final_sync_id,
  };
}
