// All SQL of the records ledger. Plain functions over the D1 binding; each keeps its bound
// parameters far below D1's limit of 100 by moving rows as JSON (see jsonChunks).
// A record lives in two tables (schema.sql, docs/storage.md): record_state, the narrow row that
// planning reads and a touch rewrites, and record_bodies, its content, written only when the
// content changes. The view `records` joins them, for people and tests (a delete through it, as
// namespace deletion does, deletes both rows).
import type { D1Reader } from "./sessions";
import { JsonChunker, jsonChunks } from "../base/json/json-chunks";
import { SELECT_RUN, toRun, upsertRunStatement } from "./runs";
import { displayTimestamp } from "../base/timestamps";
import type { LedgerEntry, RecordKey, RecordSweep, RecordWrite, SyncPlan } from "../model/plan";
import type { RunRow } from "../model/runs";
import type { z } from "zod";
import type { NamespaceListResponse, StoredRecordResponse } from "../schemas/responses";
import { insertKeywordStatements, KeywordPieces } from "./keywords";

/** GET .../records/{namespace}/{record_id}: data and file are read from stored JSON, as sent. */
export type StoredRecord = z.infer<typeof StoredRecordResponse>;

/** One namespace of GET .../namespaces (vector_count: the ledger tracks each record's chunk count). */
export type NamespaceSummary = z.infer<typeof NamespaceListResponse>["namespaces"][number];

export interface LedgerSnapshot {
  entries: LedgerEntry[];
  /** At most RefreshRead.sweep.maxRecords of the records a sweep would remove... */
  sweepCandidates: RecordSweep[];
  /** ...out of this many. */
  sweepTotal: number;
  /** The full_refresh run this request belongs to, as stored before it. */
  run: RunRow | null;
  /** The sweep read could not take the request's keys into account (see loadLedger). */
  resentUnknown: boolean;
  /** Newest full_refresh already applied, per named namespace. */
  refreshWatermarks: Map<string, string>;
}

interface EntryRow {
  namespace: string;
  id: string;
  deleted: number;
  content_hash: string | null;
  version: string;
  synced_at: string;
  chunk_count: number;
  chunk_hashes: string | null;
  op_hash: string | null;
}

// CROSS JOIN makes SQLite drive the loop from the request's keys (a primary-key lookup each),
// instead of scanning the whole store and probing the keys: the cost follows the request's
// size, not the store's.
const SELECT_ENTRIES = `
  SELECT r.namespace, r.id, r.deleted, r.content_hash, r.version, r.synced_at, r.chunk_count, r.chunk_hashes,
         r.op_hash
  FROM json_each(?2) j CROSS JOIN record_state r
    ON r.vector_store_id = ?1 AND r.namespace = j.value ->> 0 AND r.id = j.value ->> 1`;

// The namespaces a sweep covers and those it must leave alone: the request's (?2, ?4) and, for a
// run's final request (?5 true), every namespace any part of the run named and every namespace
// in which one of its operations failed, as recorded in sync_runs, unless this request (?7: its
// valid operations' keys) sends the failed record again.
const SWEEP_SCOPE = `
  WITH names(ns) AS (SELECT value FROM json_each(?2)
                     UNION SELECT j.value FROM sync_runs r, json_each(r.namespaces) j
                     WHERE ?5 AND r.vector_store_id = ?1 AND r.sync_timestamp = ?3),
       blocked(ns) AS (SELECT value FROM json_each(?4)
                       UNION SELECT j.value FROM sync_runs r, json_each(r.blocked) j
                       WHERE ?5 AND r.vector_store_id = ?1 AND r.sync_timestamp = ?3
                       UNION SELECT j.value ->> 0 FROM sync_runs r, json_each(r.failed_keys) j
                       WHERE ?5 AND r.vector_store_id = ?1 AND r.sync_timestamp = ?3
                         AND NOT EXISTS (SELECT 1 FROM json_each(?7) k
                                         WHERE k.value ->> 0 = j.value ->> 0 AND k.value ->> 1 = j.value ->> 1))`;
const SWEEP_WHERE = `
  WHERE vector_store_id = ?1 AND deleted = 0 AND synced_at < ?3
    AND namespace IN (SELECT ns FROM names) AND namespace NOT IN (SELECT ns FROM blocked)`;

// At most ?6 candidates per request (the rest are counted and swept by the next final request).
// Both read only the partial index record_state_sweep (live rows by namespace and synced_at).
const SELECT_SWEEP_CANDIDATES = `${SWEEP_SCOPE}
  SELECT namespace, id, chunk_count AS chunkCount FROM record_state INDEXED BY record_state_sweep ${SWEEP_WHERE} LIMIT ?6`;
const COUNT_SWEEP_CANDIDATES = `${SWEEP_SCOPE}
  SELECT count(*) AS n FROM record_state INDEXED BY record_state_sweep ${SWEEP_WHERE}`;

const SELECT_WATERMARKS = `
  SELECT namespace, last_full_refresh FROM namespace_state
  WHERE vector_store_id = ?1 AND (namespace IN (SELECT value FROM json_each(?2))
    OR namespace IN (SELECT j.value FROM sync_runs r, json_each(r.namespaces) j
                     WHERE ?4 AND r.vector_store_id = ?1 AND r.sync_timestamp = ?3))`;

function toEntry(row: EntryRow): LedgerEntry {
  return {
    namespace: row.namespace,
    id: row.id,
    deleted: row.deleted === 1,
    contentHash: row.content_hash,
    version: row.version,
    syncedAt: row.synced_at,
    chunkCount: row.chunk_count,
    chunkHashes: row.chunk_hashes,
    opHash: row.op_hash,
  };
}

/**
 * The ledger rows of the given keys alone, in one round trip: read before the operations are
 * checked, so that operations whose bytes are those of the row's last operation need no parsing
 * (checkOperations' unchanged-bytes path); loadLedger then reads the rest without these keys.
 */
export async function loadLedgerEntries(db: D1Reader, storeId: string, keys: RecordKey[]): Promise<LedgerEntry[]> {
  if (keys.length === 0) return [];
  const statements = jsonChunks(keys.map((k) => [k.namespace, k.id])).map((json) => db.prepare(SELECT_ENTRIES).bind(storeId, json));
  const results = await db.batch(statements);
  return results.flatMap((result) => (result.results as unknown as EntryRow[]).map(toEntry));
}

/** What a full_refresh reads besides the records: its run, and what its sweep would remove. */
export interface RefreshRead {
  syncedAt: string;
  /** A run's final request: its run's namespaces count too (watermarks, sweep). */
  withRun: boolean;
  /** null: this request sweeps nothing (a part of a run). */
  sweep: { namespaces: string[]; blocked: string[]; resent: RecordKey[]; maxRecords: number } | null;
}

/**
 * Reads, in one round trip, the ledger rows for the given keys and the refresh watermarks of the
 * given namespaces; for a full_refresh also its run and its sweep candidates (at most
 * sweep.maxRecords of them, with the count of all).
 */
export async function loadLedger(
  db: D1Reader,
  storeId: string,
  keys: RecordKey[],
  namespaces: string[],
  refresh: RefreshRead | null,
): Promise<LedgerSnapshot> {
  const statements = jsonChunks(keys.map((k) => [k.namespace, k.id])).map((json) => db.prepare(SELECT_ENTRIES).bind(storeId, json));
  const entryStatements = statements.length;
  const syncedAt = refresh?.syncedAt ?? "";
  const withRun = refresh?.withRun ? 1 : 0;
  statements.push(db.prepare(SELECT_WATERMARKS).bind(storeId, JSON.stringify(namespaces), syncedAt, withRun));
  if (refresh) statements.push(db.prepare(SELECT_RUN).bind(storeId, refresh.syncedAt));
  const sweep = refresh?.sweep;
  let resentUnknown = false;
  if (refresh && sweep) {
    const params = [storeId, JSON.stringify(sweep.namespaces), refresh.syncedAt, JSON.stringify(sweep.blocked), withRun] as const;
    // One JSON parameter under 2 MB: past that (5000 very long ids) the read does not try.
    const pieces = refresh.withRun ? jsonChunks(sweep.resent.map((k) => [k.namespace, k.id])) : [];
    resentUnknown = pieces.length > 1;
    const resent = pieces.length === 1 ? pieces[0]! : "[]";
    statements.push(db.prepare(SELECT_SWEEP_CANDIDATES).bind(...params, sweep.maxRecords, resent));
    statements.push(db.prepare(COUNT_SWEEP_CANDIDATES).bind(...params, null, resent));
  }
  const results = await db.batch(statements);

  const entries = results.slice(0, entryStatements).flatMap((result) => (result.results as unknown as EntryRow[]).map(toEntry));
  const refreshWatermarks = new Map<string, string>();
  for (const row of (results[entryStatements]?.results ?? []) as { namespace: string; last_full_refresh: string }[]) {
    refreshWatermarks.set(row.namespace, row.last_full_refresh);
  }
  const runRow = refresh ? (results[entryStatements + 1]?.results[0] as Parameters<typeof toRun>[0] | undefined) : undefined;
  const sweepCandidates = (sweep ? (results[entryStatements + 2]?.results ?? []) : []) as unknown as RecordSweep[];
  const sweepTotal = sweep ? Number((results[entryStatements + 3]?.results[0] as { n: number } | undefined)?.n ?? 0) : 0;
  return { entries, sweepCandidates, sweepTotal, refreshWatermarks, run: runRow ? toRun(runRow) : null, resentUnknown };
}

// A write (plan.writes: a new or changed record, or a tombstone) is two statements per JSON piece.
// First its state row, under the version guard (excluded.version >= version keeps "older never
// overwrites newer" true in SQL as well, whatever else wrote in between). A live record keeps its
// body row; one that has none yet gets a new body_id: past the largest in use (a scalar subquery,
// read once per statement) by ?5 + j.key, its place among the request's writes, so that ids are
// distinct whichever statements ran before. Tombstones get no new body.
// State rows: [namespace, id, deleted, content_hash, chunk_count, version, created_at, updated_at,
// chunk_hashes, op_hash].
const UPSERT_STATE = `
  INSERT INTO record_state (vector_store_id, namespace, id, deleted, content_hash, chunk_count, version,
                            synced_at, sync_id, created_at, updated_at, body_id, chunk_hashes, op_hash)
  SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5,
         ?3, ?4, j.value ->> 6, j.value ->> 7,
         iif(j.value ->> 2 = 0, (SELECT coalesce(max(body_id), 0) FROM record_bodies) + 1 + ?5 + j.key, NULL),
         j.value ->> 8, j.value ->> 9
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    deleted = excluded.deleted, content_hash = excluded.content_hash, chunk_count = excluded.chunk_count,
    chunk_hashes = excluded.chunk_hashes, op_hash = excluded.op_hash,
    version = excluded.version, synced_at = max(record_state.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id, created_at = excluded.created_at, updated_at = excluded.updated_at,
    body_id = coalesce(record_state.body_id, excluded.body_id)
  WHERE excluded.version >= record_state.version`;

// Then, after every state statement, the bodies of the writes whose state row was written (its
// version is now the write's): the content, or nothing for a tombstone (the row stays, empty, for
// the record's next life). Body rows: [namespace, id, version, data, file, source_system, text,
// metadata, vector], where data, file, metadata and vector are JSON texts (RecordPayload) that
// travel as JSON, not as strings holding JSON: `->` gives back their text as it was (minified JSON
// comes back byte for byte), and the piece is not inflated by escaping every quote in them. A JSON
// null there is an absent value (SQL NULL).
const UPSERT_BODIES = `
  INSERT INTO record_bodies (body_id, data, file, source_system, text, metadata, vector)
  SELECT s.body_id, nullif(j.value -> 3, 'null'), nullif(j.value -> 4, 'null'), j.value ->> 5, j.value ->> 6,
         nullif(j.value -> 7, 'null'), nullif(j.value -> 8, 'null')
  FROM json_each(?2) j CROSS JOIN record_state s
    ON s.vector_store_id = ?1 AND s.namespace = j.value ->> 0 AND s.id = j.value ->> 1
  WHERE s.body_id IS NOT NULL AND s.version = j.value ->> 2
  ON CONFLICT (body_id) DO UPDATE SET
    data = excluded.data, file = excluded.file, source_system = excluded.source_system,
    text = excluded.text, metadata = excluded.metadata, vector = excluded.vector`;

// A touch writes the state row only (op_hash: the touching operation's bytes hash, when it has one) (and its entry in record_state_sweep, since synced_at moves).
// Written as an upsert so that each touched row is one primary-key lookup (UPDATE ... FROM a
// json_each lets SQLite scan the store once per key: 5000 touches took 10 s in the benchmark).
// Rows always exist here (the ledger never forgets a key); were one missing, it would be
// inserted as a harmless tombstone.
const TOUCH_RECORDS = `
  INSERT INTO record_state (vector_store_id, namespace, id, deleted, version, updated_at, synced_at, sync_id, op_hash)
  SELECT ?1, j.value ->> 0, j.value ->> 1, 1, j.value ->> 2, j.value ->> 3, ?3, ?4, j.value ->> 4
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    synced_at = max(record_state.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id,
    op_hash = coalesce(excluded.op_hash, record_state.op_hash),
    updated_at = CASE WHEN excluded.version > record_state.version
                      THEN coalesce(excluded.updated_at, record_state.updated_at) ELSE record_state.updated_at END,
    version = max(record_state.version, excluded.version)
  WHERE record_state.deleted = 0`;

// A sweep empties the bodies, then makes the state rows tombstones, under the same guard.
const SWEEP_BODIES = `
  UPDATE record_bodies SET data = NULL, file = NULL, source_system = NULL, text = NULL, metadata = NULL, vector = NULL
  WHERE body_id IN (SELECT s.body_id FROM json_each(?2) j CROSS JOIN record_state s
                      ON s.vector_store_id = ?1 AND s.namespace = j.value ->> 0 AND s.id = j.value ->> 1
                    WHERE s.deleted = 0 AND s.synced_at < ?3)`;
const SWEEP_STATE = `
  UPDATE record_state SET deleted = 1, content_hash = NULL, chunk_count = 0, chunk_hashes = NULL, op_hash = NULL, version = max(version, ?3),
    synced_at = ?3, sync_id = ?4
  WHERE vector_store_id = ?1 AND deleted = 0 AND synced_at < ?3
    AND (namespace, id) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?2) j)`;

const ADVANCE_WATERMARKS = `
  INSERT INTO namespace_state (vector_store_id, namespace, last_full_refresh)
  SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
  ON CONFLICT (vector_store_id, namespace) DO UPDATE SET
    last_full_refresh = max(last_full_refresh, excluded.last_full_refresh)`;

const INSERT_SYNC = `
  INSERT INTO syncs (id, organization_id, vector_store_id, sync_mode, sync_timestamp, status, result,
                     mutation_ids, created_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`;

export interface SyncRow {
  id: string;
  organizationId: string;
  vectorStoreId: string;
  mode: string;
  syncTimestamp: string;
  status: string;
  result: unknown;
  /** Vectorize mutations this sync made, so its status can tell when the index has applied them. */
  mutationIds: string[];
}

/**
 * Serialises the plan's writes into JSON pieces of state rows and of body rows, one write at a
 * time, taking each out of plan.writes as it goes: once serialised, nothing here holds a write's
 * payload (its data, text...), so with the request's other references gone it can be collected
 * while the rest is serialised. plan.writes is empty afterwards.
 */
function writePieces(plan: SyncPlan, keywordTexts: KeywordTexts | null): { state: JsonChunker; bodies: string[]; keywords: string[] } {
  const state = new JsonChunker();
  const bodies = new JsonChunker();
  const keywords = new KeywordPieces();
  const writes = plan.writes;
  plan.writes = [];
  for (let i = 0; i < writes.length; i++) {
    const w: RecordWrite = writes[i]!;
    (writes as (RecordWrite | undefined)[])[i] = undefined;
    const r = w.record;
    state.add(
      JSON.stringify([
        w.namespace,
        w.id,
        r ? 0 : 1,
        r?.contentHash ?? null,
        w.chunkCount,
        w.version,
        r?.createdAt ?? null,
        w.updatedAt,
        r ? (w.chunkHashes ?? null) : null,
        r ? (w.opHash ?? null) : null,
      ]),
    );
    const head = JSON.stringify([w.namespace, w.id, w.version]).slice(0, -1);
    const mid = JSON.stringify([r?.sourceSystem ?? null, r?.text ?? null]).slice(1, -1);
    // data, file and metadata spliced in as the JSON they are (see UPSERT_BODIES).
    bodies.add(
      `${head},${r?.data ?? "null"},${r?.file ?? "null"},${mid},${r?.metadata ?? "null"},${r?.vector ? JSON.stringify(r.vector) : "null"}]`,
    );
    if (r && keywordTexts && w.chunkCount > 0)
      keywords.add({ namespace: w.namespace, id: w.id, version: w.version, texts: keywordBudget(keywordTexts(w).slice(0, w.chunkCount)) });
  }
  writes.length = 0;
  return { state, bodies: bodies.finish(), keywords: keywords.finish() };
}

/**
 * Characters of one record's chunk texts the keyword index takes at most. The commit batch holds
 * the keyword rows beside the bodies: a 20 MiB body of 1 MiB records held every text twice, past
 * the 64 MB heap the memory check gives the store's object. Each chunk keeps its row (so a
 * record's rows still count its chunks), its text cut to its share of the budget.
 */
export const MAX_KEYWORD_CHARS_PER_RECORD = 64 * 1024;

function keywordBudget(texts: string[]): string[] {
  const total = texts.reduce((n, t) => n + t.length, 0);
  if (total <= MAX_KEYWORD_CHARS_PER_RECORD) return texts;
  const share = Math.floor(MAX_KEYWORD_CHARS_PER_RECORD / texts.length);
  return texts.map((t) => t.slice(0, share));
}

/** A live write's chunk texts for the keyword index (the texts its vectors were embedded from). */
export type KeywordTexts = (write: RecordWrite) => string[];

/**
 * Commits a plan and the sync's stored result in one D1 batch: one transaction, one round trip.
 * The keyword index follows in the same batch: the rows of every live write (keywordTexts; null
 * writes none, for callers that measure the ledger alone), after its body; the triggers on
 * record_bodies have removed the rows of every body this batch changes or sweeps.
 * Consumes plan.writes (see writePieces): the plan is spent once committed.
 */
export async function commitPlan(
  db: D1Reader,
  plan: SyncPlan,
  sync: SyncRow,
  syncedAt: string,
  run: RunRow | null = null,
  keywordTexts: KeywordTexts | null = null,
): Promise<void> {
  const storeId = sync.vectorStoreId;
  const { state, bodies, keywords } = writePieces(plan, keywordTexts);
  const statePieces = state.finish();
  const sweepPieces = jsonChunks(plan.sweeps.map((s) => [s.namespace, s.id]));
  const statements = [
    ...statePieces.map((json, i) => db.prepare(UPSERT_STATE).bind(storeId, json, syncedAt, sync.id, state.starts[i]!)),
    ...bodies.map((json) => db.prepare(UPSERT_BODIES).bind(storeId, json)),
    ...insertKeywordStatements(db, storeId, keywords),
    ...jsonChunks(plan.touches.map((t) => [t.namespace, t.id, t.version, t.updatedAt, t.opHash ?? null])).map((json) =>
      db.prepare(TOUCH_RECORDS).bind(storeId, json, syncedAt, sync.id),
    ),
    ...sweepPieces.map((json) => db.prepare(SWEEP_BODIES).bind(storeId, json, syncedAt)),
    ...sweepPieces.map((json) => db.prepare(SWEEP_STATE).bind(storeId, json, syncedAt, sync.id)),
    ...(plan.refreshedNamespaces.length > 0
      ? [db.prepare(ADVANCE_WATERMARKS).bind(storeId, JSON.stringify(plan.refreshedNamespaces), syncedAt)]
      : []),
    ...(run ? [upsertRunStatement(db, run)] : []),
    db
      .prepare(INSERT_SYNC)
      .bind(
        sync.id,
        sync.organizationId,
        storeId,
        sync.mode,
        sync.syncTimestamp,
        sync.status,
        JSON.stringify(sync.result),
        JSON.stringify(sync.mutationIds),
        new Date().toISOString(),
      ),
  ];
  await db.batch(statements);
}

export async function getSyncResult(db: D1Reader, syncId: string) {
  return db
    .prepare(`SELECT id, organization_id, vector_store_id, sync_mode, sync_timestamp, status, result,
                            mutation_ids, created_at
                     FROM syncs WHERE id = ?1`)
    .bind(syncId)
    .first<{
      id: string;
      organization_id: string;
      vector_store_id: string;
      sync_mode: string;
      sync_timestamp: string;
      status: string;
      result: string;
      mutation_ids: string;
      created_at: string;
    }>();
}

export async function getRecord(db: D1Reader, storeId: string, namespace: string, id: string): Promise<StoredRecord | null> {
  const row = await db
    .prepare(`
      SELECT s.id, s.namespace, b.data, b.file, s.created_at, s.updated_at, s.synced_at, s.sync_id
      FROM record_state s JOIN record_bodies b ON b.body_id = s.body_id
      WHERE s.vector_store_id = ?1 AND s.namespace = ?2 AND s.id = ?3 AND s.deleted = 0`)
    .bind(storeId, namespace, id)
    .first<{
      id: string;
      namespace: string;
      data: string;
      file: string | null;
      created_at: string | null;
      updated_at: string | null;
      synced_at: string;
      sync_id: string;
    }>();
  if (!row) return null;
  return {
    ...row,
    synced_at: displayTimestamp(row.synced_at),
    data: JSON.parse(row.data),
    file: row.file === null ? null : JSON.parse(row.file),
  };
}

export async function listNamespaces(db: D1Reader, storeId: string): Promise<NamespaceSummary[]> {
  const { results } = await db
    .prepare(`
      SELECT namespace, sum(deleted = 0) AS record_count, sum(chunk_count) AS vector_count,
             max(synced_at) AS last_synced_at
      FROM record_state WHERE vector_store_id = ?1 GROUP BY namespace ORDER BY namespace`)
    .bind(storeId)
    .all<NamespaceSummary>();
  return results.map((r) => ({
    ...r,
    record_count: Number(r.record_count),
    vector_count: Number(r.vector_count),
    last_synced_at: displayTimestamp(r.last_synced_at),
  }));
}

export interface LiveRecordText {
  namespace: string;
  id: string;
  data: string;
  file: string | null;
  text: string | null;
  vector: string | null;
  chunk_count: number;
}

/** Live records by key, with what is needed to re-derive their chunk texts. */
export async function loadLiveRecords(db: D1Reader, storeId: string, keys: RecordKey[]): Promise<Map<string, LiveRecordText>> {
  const out = new Map<string, LiveRecordText>();
  if (keys.length === 0) return out;
  const statements = jsonChunks(keys.map((k) => [k.namespace, k.id])).map((json) =>
    db
      .prepare(`
    SELECT r.namespace, r.id, b.data, b.file, b.text, b.vector, r.chunk_count
    FROM json_each(?2) j CROSS JOIN record_state r
      ON r.vector_store_id = ?1 AND r.namespace = j.value ->> 0 AND r.id = j.value ->> 1
    JOIN record_bodies b ON b.body_id = r.body_id
    WHERE r.deleted = 0`)
      .bind(storeId, json),
  );
  for (const result of await db.batch<LiveRecordText>(statements)) {
    for (const row of result.results) out.set(`${row.namespace}\u0000${row.id}`, row);
  }
  return out;
}

export interface LedgerPageRow {
  namespace: string;
  id: string;
  deleted: number;
  data: string | null;
  file: string | null;
  text: string | null;
  metadata: string | null;
  vector: string | null;
  content_hash: string | null;
  version: string;
  chunk_count: number;
  body_id: number | null;
}

/** One page of a store's ledger in key order, after `after` ([namespace, id]), for reconciliation. */
export async function listLedgerPage(db: D1Reader, storeId: string, after: [string, string] | null, limit: number) {
  const { results } = await db
    .prepare(`
      SELECT s.namespace, s.id, s.deleted, b.data, b.file, b.text, b.metadata, b.vector, s.content_hash, s.version,
             s.chunk_count, s.body_id
      FROM record_state s LEFT JOIN record_bodies b ON b.body_id = s.body_id
      WHERE s.vector_store_id = ?1 AND (s.namespace, s.id) > (?2, ?3)
      ORDER BY s.namespace, s.id LIMIT ?4`)
    .bind(storeId, after?.[0] ?? "", after?.[1] ?? "", limit)
    .all<LedgerPageRow>();
  return results;
}
