// Moving one vector store's ledger from one shard to another (docs/storage.md), run by the
// store's Durable Object so that no sync, reconciliation or namespace deletion of the store
// interleaves with it. Four phases, each in bounded pages, resumable from a saved state:
//   clear   - delete what an interrupted earlier move left of the store on the target;
//   records - copy record_state and record_bodies in key order (bodies get the target's own ids),
//             and the live records' keyword rows (under the target's body ids: their texts derived
//             again, since the keyword index keeps none);
//   tables  - copy namespace_state, sync_runs and syncs;
//   (switch - the catalog's vector_stores.ledger_shard, done by the caller between the two)
//   cleanup - delete the store's rows from the source.
// Vectors are not touched: their ids derive from (namespace, id, chunk), not from the shard.
import { JsonChunker } from "../base/json/json-chunks";
import type { MoveState } from "../model/store-object";
import { insertKeywordStatements, KeywordPieces } from "./keywords";

/** A live record's stored content, as its keyword texts are derived from it. */
export interface StoredContent {
  data: string;
  file: string | null;
  text: string | null;
  vector: string | null;
}

/** Records read per page (narrow state rows; bodies are fetched in groups of bounded bytes). */
export const MOVE_PAGE_RECORDS = 500;
/** Body bytes fetched and written per statement group. */
export const MOVE_BODY_BYTES = 4 * 1024 * 1024;
/** Rows of syncs / sync_runs copied per statement, and rows deleted per statement in cleanup. */
export const MOVE_PAGE_ROWS = 200;

export function newMoveState(from: number, to: number): MoveState {
  return { from, to, phase: "clear", cursor: null, records_copied: 0, syncs_copied: 0, runs_copied: 0, rows_deleted: 0 };
}

/** Counts D1 round trips against a per-call budget (a Worker invocation's subrequests are limited). */
class Budget {
  used = 0;
  constructor(readonly limit: number) {}
  get left() {
    return this.used < this.limit;
  }
  async spend<T>(work: Promise<T>): Promise<T> {
    this.used += 1;
    return work;
  }
}

// Deletes of one store's rows, a page at a time. A page of records is two statements in one
// batch: the bodies of the first rows in key order, then those state rows (the same rows, since the
// first statement changes no state row). A page removed fewer rows than asked: that table is done.
const DELETE_PAGES: string[][] = [
  [
    `DELETE FROM record_bodies WHERE body_id IN (SELECT body_id FROM record_state
       WHERE vector_store_id = ?1 ORDER BY namespace, id LIMIT ?2)`,
    `DELETE FROM record_state WHERE (vector_store_id, namespace, id) IN
       (SELECT vector_store_id, namespace, id FROM record_state WHERE vector_store_id = ?1 ORDER BY namespace, id LIMIT ?2)`,
  ],
  [
    `DELETE FROM namespace_state WHERE vector_store_id = ?1
       AND namespace IN (SELECT namespace FROM namespace_state WHERE vector_store_id = ?1 LIMIT ?2)`,
  ],
  [
    `DELETE FROM sync_runs WHERE vector_store_id = ?1
       AND sync_timestamp IN (SELECT sync_timestamp FROM sync_runs WHERE vector_store_id = ?1 LIMIT ?2)`,
  ],
  ["DELETE FROM syncs WHERE id IN (SELECT id FROM syncs INDEXED BY syncs_by_store WHERE vector_store_id = ?1 LIMIT ?2)"],
];

/**
 * Deletes every row of the store from `db`, in pages, table by table (state.cursor: the table it
 * is on), until done or out of budget. Returns true when nothing of the store is left.
 * `counted`: add the rows to rows_deleted.
 */
async function deleteStoreRows(db: D1Database, storeId: string, budget: Budget, state: MoveState, pageRows: number, counted: boolean) {
  for (let table = Number(state.cursor?.[0] ?? 0); table < DELETE_PAGES.length; table++) {
    state.cursor = [String(table)];
    for (;;) {
      if (!budget.left) return false;
      const results = await budget.spend(db.batch(DELETE_PAGES[table]!.map((sql) => db.prepare(sql).bind(storeId, pageRows))));
      const n = results.at(-1)!.meta.changes ?? 0;
      if (counted) state.rows_deleted += n;
      if (n < pageRows) break;
    }
  }
  state.cursor = null;
  return true;
}

interface StateRow {
  namespace: string;
  id: string;
  deleted: number;
  content_hash: string | null;
  chunk_count: number;
  version: string;
  synced_at: string;
  sync_id: string;
  created_at: string | null;
  updated_at: string | null;
  body_id: number | null;
  body_bytes: number;
}

const READ_STATE_PAGE = `
  SELECT s.namespace, s.id, s.deleted, s.content_hash, s.chunk_count, s.version, s.synced_at, s.sync_id,
         s.created_at, s.updated_at, s.body_id,
         coalesce(length(CAST(b.data AS BLOB)), 0) + coalesce(length(CAST(b.file AS BLOB)), 0)
           + coalesce(length(CAST(b.text AS BLOB)), 0) + coalesce(length(CAST(b.metadata AS BLOB)), 0)
           + coalesce(length(CAST(b.vector AS BLOB)), 0) + coalesce(length(CAST(b.source_system AS BLOB)), 0) AS body_bytes
  FROM record_state s LEFT JOIN record_bodies b ON b.body_id = s.body_id
  WHERE s.vector_store_id = ?1 AND (s.namespace, s.id) > (?2, ?3)
  ORDER BY s.namespace, s.id LIMIT ?4`;

// Bodies of a group of state rows, each as one JSON row the target's insert takes as it is: the
// JSON columns (data, file, metadata, vector) spliced in as JSON, not as strings holding JSON.
const READ_BODIES = `
  SELECT json_array(s.namespace, s.id, s.deleted, s.content_hash, s.chunk_count, s.version, s.synced_at, s.sync_id,
                    s.created_at, s.updated_at, json(coalesce(b.data, 'null')), json(coalesce(b.file, 'null')),
                    b.source_system, b.text, json(coalesce(b.metadata, 'null')), json(coalesce(b.vector, 'null'))) AS row
  FROM json_each(?2) j CROSS JOIN record_state s
    ON s.vector_store_id = ?1 AND s.namespace = j.value ->> 0 AND s.id = j.value ->> 1
  LEFT JOIN record_bodies b ON b.body_id = s.body_id`;

// Through the view `records` (schema.sql): its trigger writes the body row (a new id in the
// target) and the state row pointing at it; a tombstone gets no body.
const INSERT_RECORDS = `
  INSERT INTO records (vector_store_id, namespace, id, deleted, content_hash, chunk_count, version, synced_at, sync_id,
                       created_at, updated_at, data, file, source_system, text, metadata, vector)
  SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6,
         j.value ->> 7, j.value ->> 8, j.value ->> 9, nullif(j.value -> 10, 'null'), nullif(j.value -> 11, 'null'),
         j.value ->> 12, j.value ->> 13, nullif(j.value -> 14, 'null'), nullif(j.value -> 15, 'null')
  FROM json_each(?2) j`;

// Before a group is written, whatever the target already holds of its keys goes (a group written by
// a call that failed after it, before the move's state was saved): each group's batch is one
// transaction that leaves the target with exactly the source's rows for those keys.
const CLEAR_GROUP = [
  `DELETE FROM record_bodies WHERE body_id IN (SELECT s.body_id FROM json_each(?2) j CROSS JOIN record_state s
     ON s.vector_store_id = ?1 AND s.namespace = j.value ->> 0 AND s.id = j.value ->> 1)`,
  `DELETE FROM record_state WHERE vector_store_id = ?1
     AND (namespace, id) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?2) j)`,
];

/** Copies one page of records (state rows and bodies) from source to target. Returns the rows copied. */
async function copyRecordPage(
  source: D1Database,
  target: D1Database,
  storeId: string,
  state: MoveState,
  budget: Budget,
  pageRecords: number,
  keywordTexts: (record: StoredContent) => string[],
) {
  const after = state.cursor ?? ["", ""];
  const { results: rows } = await budget.spend(
    source.prepare(READ_STATE_PAGE).bind(storeId, after[0], after[1], pageRecords).all<StateRow>(),
  );
  // Groups of keys whose bodies together stay under MOVE_BODY_BYTES (a large body is a group alone).
  const groups: [string, string][][] = [];
  let bytes = Infinity;
  for (const row of rows) {
    if (bytes + row.body_bytes > MOVE_BODY_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups.at(-1)!.push([row.namespace, row.id]);
    bytes += row.body_bytes;
  }
  for (const keys of groups) {
    const { results } = await budget.spend(source.prepare(READ_BODIES).bind(storeId, JSON.stringify(keys)).all<{ row: string }>());
    const pieces = new JsonChunker();
    const keywords = new KeywordPieces();
    for (const r of results) {
      pieces.add(r.row);
      const row = JSON.parse(r.row) as unknown[];
      const [namespace, id, deleted, , chunkCount, version] = row as [string, string, number, unknown, number, string];
      if (deleted !== 0 || chunkCount === 0) continue;
      const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
      const content = { data: json(row[10])!, file: json(row[11]), text: row[13] as string | null, vector: json(row[15]) };
      keywords.add({ namespace, id, version, texts: keywordTexts(content).slice(0, chunkCount) });
    }
    const statements = [
      ...CLEAR_GROUP.map((sql) => target.prepare(sql).bind(storeId, JSON.stringify(keys))),
      ...pieces.finish().map((json) => target.prepare(INSERT_RECORDS).bind(storeId, json)),
      ...insertKeywordStatements(target, storeId, keywords.finish()),
    ];
    await budget.spend(target.batch(statements));
  }
  const last = rows.at(-1);
  if (last) state.cursor = [last.namespace, last.id];
  state.records_copied += rows.length;
  return rows.length;
}

// The store's other tables, copied row for row (as JSON objects, one parameter each statement).
// Each is read in the order of an index that starts with vector_store_id (its key, or syncs_by_store).
const TABLES: { name: "namespace_state" | "sync_runs" | "syncs"; order: string[]; columns: string[] }[] = [
  { name: "namespace_state", order: ["namespace"], columns: ["vector_store_id", "namespace", "last_full_refresh"] },
  {
    name: "sync_runs",
    order: ["sync_timestamp"],
    columns: [
      "vector_store_id",
      "sync_timestamp",
      "state",
      "final_sync_id",
      "parts",
      "results",
      "namespaces",
      "failed_keys",
      "blocked",
      "swept",
      "started_at",
      "updated_at",
      "completed_at",
    ],
  },
  {
    name: "syncs",
    order: ["created_at", "id"],
    columns: ["id", "organization_id", "vector_store_id", "sync_mode", "sync_timestamp", "status", "result", "mutation_ids", "created_at"],
  },
];

/** Copies one page of one of the other tables; false when that table is done. */
async function copyTablePage(source: D1Database, target: D1Database, storeId: string, state: MoveState, budget: Budget, pageRows: number) {
  const [tableName, ...after] = state.cursor ?? [TABLES[0]!.name];
  const table = TABLES.find((t) => t.name === tableName)!;
  const cols = table.columns.join(", ");
  const order = table.order.join(", ");
  // After the last row copied, in index order: (a, b) > (?, ?) with the row's values.
  const past = after.length === table.order.length ? `AND (${order}) > (${table.order.map((_, i) => `?${i + 3}`).join(", ")})` : "";
  const { results } = await budget.spend(
    source
      .prepare(`SELECT json_object(${table.columns.map((c) => `'${c}', ${c}`).join(", ")}) AS row,
                       json_array(${order}) AS k
                FROM ${table.name}${table.name === "syncs" ? " INDEXED BY syncs_by_store" : ""}
                WHERE vector_store_id = ?1 ${past} ORDER BY ${order} LIMIT ?2`)
      .bind(storeId, pageRows, ...(past ? after : []))
      .all<{ row: string; k: string }>(),
  );
  const pieces = new JsonChunker();
  for (const r of results) pieces.add(r.row);
  const insert = `INSERT OR REPLACE INTO ${table.name} (${cols}) SELECT ${table.columns.map((c) => `j.value ->> '${c}'`).join(", ")} FROM json_each(?1) j`;
  const statements = pieces.finish().map((json) => target.prepare(insert).bind(json));
  if (statements.length > 0) await budget.spend(target.batch(statements));
  if (table.name === "syncs") state.syncs_copied += results.length;
  if (table.name === "sync_runs") state.runs_copied += results.length;
  const next = TABLES[TABLES.indexOf(table) + 1];
  if (results.length === pageRows) state.cursor = [table.name, ...(JSON.parse(results.at(-1)!.k) as string[])];
  else if (next) state.cursor = [next.name];
  else return false;
  return true;
}

export interface MoveStep {
  source: D1Database;
  target: D1Database;
  storeId: string;
  /** D1 round trips this call may make. */
  maxQueries: number;
  /**
   * Makes the switch: the catalog's placement, then the object's own record of it together with
   * `state` (already in phase cleanup), in one write.
   */
  switchPlacement: (state: MoveState) => Promise<void>;
  /** Saves the move's state (after every step, so that a failed call resumes where it was). */
  save: (state: MoveState) => Promise<void>;
  /** A live record's chunk texts for the keyword index (searchableChunks with the store's settings). */
  keywordTexts: (record: StoredContent) => string[];
  pageRecords?: number;
  pageRows?: number;
}

/**
 * Advances a move as far as the budget allows, updating `state` in place and saving it after
 * every step, so that a call that fails (or an object that restarts) resumes where it was: every
 * step may run again without harm. Returns when the budget is spent or the move is done
 * (state.phase === "done").
 */
export async function advanceMove(step: MoveStep, state: MoveState): Promise<void> {
  const budget = new Budget(step.maxQueries);
  const pageRecords = step.pageRecords ?? MOVE_PAGE_RECORDS;
  const pageRows = step.pageRows ?? MOVE_PAGE_ROWS;
  while (budget.left && state.phase !== "done") {
    switch (state.phase) {
      case "clear":
        if (await deleteStoreRows(step.target, step.storeId, budget, state, pageRows, false)) {
          state.phase = "records";
          state.cursor = null;
        }
        break;
      case "records":
        if ((await copyRecordPage(step.source, step.target, step.storeId, state, budget, pageRecords, step.keywordTexts)) < pageRecords) {
          state.phase = "tables";
          state.cursor = null;
        }
        break;
      case "tables":
        if (!(await copyTablePage(step.source, step.target, step.storeId, state, budget, pageRows))) {
          state.phase = "switch";
          state.cursor = null;
        }
        break;
      case "switch":
        state.phase = "cleanup";
        state.cursor = null;
        await budget.spend(step.switchPlacement(state));
        break;
      case "cleanup":
        if (await deleteStoreRows(step.source, step.storeId, budget, state, pageRows, true)) state.phase = "done";
        break;
    }
    await step.save(state);
  }
}
