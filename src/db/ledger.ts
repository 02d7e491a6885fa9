// All SQL of the records ledger. Plain functions over the D1 binding; each keeps its bound
// parameters far below D1's limit of 100 by moving rows as JSON (see json-chunks.ts).
import type { LedgerEntry, RecordKey, RecordSweep, SyncPlan } from "../sync/plan";
import { jsonChunks } from "./json-chunks";
import { SELECT_RUN, toRun, upsertRunStatement, type RunRow } from "./runs";
import { displayTimestamp } from "../timestamps";

export interface StoredRecord {
  id: string;
  namespace: string;
  data: unknown;
  file: unknown;
  created_at: string | null;
  updated_at: string | null;
  synced_at: string;
  sync_id: string;
}

export interface NamespaceSummary {
  namespace: string;
  record_count: number;
  /** Vectors the index holds for the namespace (the ledger tracks each record's chunk count). */
  vector_count: number;
  last_synced_at: string | null;
}

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
}

// CROSS JOIN makes SQLite drive the loop from the request's keys (a primary-key lookup each),
// instead of scanning the whole store and probing the keys: the cost follows the request's
// size, not the store's.
const SELECT_ENTRIES = `
  SELECT r.namespace, r.id, r.deleted, r.content_hash, r.version, r.synced_at, r.chunk_count
  FROM json_each(?2) j CROSS JOIN records r INDEXED BY records_state
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
const SELECT_SWEEP_CANDIDATES = `${SWEEP_SCOPE}
  SELECT namespace, id, chunk_count AS chunkCount FROM records ${SWEEP_WHERE} LIMIT ?6`;
const COUNT_SWEEP_CANDIDATES = `${SWEEP_SCOPE}
  SELECT count(*) AS n FROM records ${SWEEP_WHERE}`;

const SELECT_WATERMARKS = `
  SELECT namespace, last_full_refresh FROM namespace_state
  WHERE vector_store_id = ?1 AND (namespace IN (SELECT value FROM json_each(?2))
    OR namespace IN (SELECT j.value FROM sync_runs r, json_each(r.namespaces) j
                     WHERE ?4 AND r.vector_store_id = ?1 AND r.sync_timestamp = ?3))`;

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
  db: D1Database,
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

  const entries: LedgerEntry[] = [];
  for (const result of results.slice(0, entryStatements)) {
    for (const row of result.results as unknown as EntryRow[]) {
      entries.push({
        namespace: row.namespace,
        id: row.id,
        deleted: row.deleted === 1,
        contentHash: row.content_hash,
        version: row.version,
        syncedAt: row.synced_at,
        chunkCount: row.chunk_count,
      });
    }
  }
  const refreshWatermarks = new Map<string, string>();
  for (const row of (results[entryStatements]?.results ?? []) as { namespace: string; last_full_refresh: string }[]) {
    refreshWatermarks.set(row.namespace, row.last_full_refresh);
  }
  const runRow = refresh ? (results[entryStatements + 1]?.results[0] as Parameters<typeof toRun>[0] | undefined) : undefined;
  const sweepCandidates = (sweep ? (results[entryStatements + 2]?.results ?? []) : []) as unknown as RecordSweep[];
  const sweepTotal = sweep ? Number((results[entryStatements + 3]?.results[0] as { n: number } | undefined)?.n ?? 0) : 0;
  return { entries, sweepCandidates, sweepTotal, refreshWatermarks, run: runRow ? toRun(runRow) : null, resentUnknown };
}

// The version guard (excluded.version >= records.version) keeps the rule "older never
// overwrites newer" true in SQL as well, whatever else wrote in between.
const UPSERT_RECORDS = `
  INSERT INTO records (vector_store_id, namespace, id, deleted, data, file, created_at, updated_at,
                       source_system, content_hash, version, text, metadata, vector, chunk_count, synced_at, sync_id)
  SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5,
         j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, j.value ->> 11,
         j.value ->> 12, j.value ->> 13, ?3, ?4
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    deleted = excluded.deleted, data = excluded.data, file = excluded.file,
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    source_system = excluded.source_system, content_hash = excluded.content_hash,
    text = excluded.text, metadata = excluded.metadata, vector = excluded.vector,
    chunk_count = excluded.chunk_count,
    version = excluded.version, synced_at = max(records.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id
  WHERE excluded.version >= records.version`;

// Written as an upsert so that each touched row is one primary-key lookup (UPDATE ... FROM a
// json_each lets SQLite scan the store once per key: 5000 touches took 10 s in the benchmark).
// Rows always exist here (the ledger never forgets a key); were one missing, it would be
// inserted as a harmless tombstone.
const TOUCH_RECORDS = `
  INSERT INTO records (vector_store_id, namespace, id, deleted, version, updated_at, synced_at, sync_id)
  SELECT ?1, j.value ->> 0, j.value ->> 1, 1, j.value ->> 2, j.value ->> 3, ?3, ?4
  FROM json_each(?2) j WHERE true
  ON CONFLICT (vector_store_id, namespace, id) DO UPDATE SET
    synced_at = max(records.synced_at, excluded.synced_at),
    sync_id = excluded.sync_id,
    updated_at = CASE WHEN excluded.version > records.version
                      THEN coalesce(excluded.updated_at, records.updated_at) ELSE records.updated_at END,
    version = max(records.version, excluded.version)
  WHERE records.deleted = 0`;

const SWEEP_RECORDS = `
  UPDATE records SET deleted = 1, data = NULL, file = NULL, content_hash = NULL, text = NULL,
    metadata = NULL, vector = NULL, chunk_count = 0, version = max(version, ?3), synced_at = ?3, sync_id = ?4
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

// Completes the request's own Idempotency-Key reservation (see reserveIdempotencyKey): only while
// it is still this request's and pending. Had it been taken over as abandoned, this sync still
// commits, but the key answers the request that took it over.
const COMPLETE_IDEMPOTENCY_KEY = `
  UPDATE idempotency_reservations SET state = 'completed', sync_id = ?4, completed_at = ?5
  WHERE organization_id = ?1 AND key = ?2 AND reservation_id = ?3 AND state = 'pending'`;

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
  /**
   * The request's Idempotency-Key reservation (taken by reserveIdempotencyKey before any work),
   * completed with the sync, in the same transaction.
   */
  idempotency?: { organizationId: string; key: string; bodyHash: string; reservationId: string } | null;
}

/** Commits a plan and the sync's stored result in one D1 batch: one transaction, one round trip. */
export async function commitPlan(
  db: D1Database,
  plan: SyncPlan,
  sync: SyncRow,
  syncedAt: string,
  run: RunRow | null = null,
): Promise<void> {
  const storeId = sync.vectorStoreId;
  const perChunk = (sql: string, rows: unknown[]) => jsonChunks(rows).map((json) => db.prepare(sql).bind(storeId, json, syncedAt, sync.id));

  const writeRows = plan.writes.map((w) => [
    w.namespace,
    w.id,
    w.record ? 0 : 1,
    w.record?.data ?? null,
    w.record?.file ?? null,
    w.record?.createdAt ?? null,
    w.updatedAt,
    w.record?.sourceSystem ?? null,
    w.record?.contentHash ?? null,
    w.version,
    w.record?.text ?? null,
    w.record?.metadata ?? null,
    w.record?.vector ? JSON.stringify(w.record.vector) : null,
    w.chunkCount,
  ]);
  const statements = [
    ...perChunk(UPSERT_RECORDS, writeRows),
    ...perChunk(
      TOUCH_RECORDS,
      plan.touches.map((t) => [t.namespace, t.id, t.version, t.updatedAt]),
    ),
    ...perChunk(
      SWEEP_RECORDS,
      plan.sweeps.map((s) => [s.namespace, s.id]),
    ),
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
    ...(sync.idempotency
      ? [
          db
            .prepare(COMPLETE_IDEMPOTENCY_KEY)
            .bind(sync.idempotency.organizationId, sync.idempotency.key, sync.idempotency.reservationId, sync.id, new Date().toISOString()),
        ]
      : []),
  ];
  await db.batch(statements);
}

export async function getSyncResult(db: D1Database, syncId: string) {
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

export async function getRecord(db: D1Database, storeId: string, namespace: string, id: string): Promise<StoredRecord | null> {
  const row = await db
    .prepare(`SELECT id, namespace, data, file, created_at, updated_at, synced_at, sync_id
                                FROM records WHERE vector_store_id = ?1 AND namespace = ?2 AND id = ?3 AND deleted = 0`)
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

export async function listNamespaces(db: D1Database, storeId: string): Promise<NamespaceSummary[]> {
  const { results } = await db
    .prepare(`
      SELECT namespace, sum(deleted = 0) AS record_count, sum(chunk_count) AS vector_count,
             max(synced_at) AS last_synced_at
      FROM records WHERE vector_store_id = ?1 GROUP BY namespace ORDER BY namespace`)
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
export async function loadLiveRecords(db: D1Database, storeId: string, keys: RecordKey[]): Promise<Map<string, LiveRecordText>> {
  const out = new Map<string, LiveRecordText>();
  if (keys.length === 0) return out;
  const statements = jsonChunks(keys.map((k) => [k.namespace, k.id])).map((json) =>
    db
      .prepare(`
    SELECT r.namespace, r.id, r.data, r.file, r.text, r.vector, r.chunk_count
    FROM json_each(?2) j CROSS JOIN records r
      ON r.vector_store_id = ?1 AND r.namespace = j.value ->> 0 AND r.id = j.value ->> 1
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
}

/** One page of a store's ledger in key order, after `after` ([namespace, id]), for reconciliation. */
export async function listLedgerPage(db: D1Database, storeId: string, after: [string, string] | null, limit: number) {
  const { results } = await db
    .prepare(`
      SELECT namespace, id, deleted, data, file, text, metadata, vector, content_hash, version, chunk_count
      FROM records WHERE vector_store_id = ?1 AND (namespace, id) > (?2, ?3)
      ORDER BY namespace, id LIMIT ?4`)
    .bind(storeId, after?.[0] ?? "", after?.[1] ?? "", limit)
    .all<LedgerPageRow>();
  return results;
}

export async function listVectorStoreIds(db: D1Database): Promise<string[]> {
  const { results } = await db.prepare("SELECT id FROM vector_stores ORDER BY id").all<{ id: string }>();
  return results.map((r) => r.id);
}

// Idempotency-Key reservations (table idempotency_reservations): one row per (organization, key),
// 'pending' from before a sync starts until it commits ('completed', with its sync_id) or fails
// (deleted). The insert is the only way to own a key, so two stores of one organization (two
// Durable Objects) cannot both run the same key.

export interface IdempotencyKeyRow {
  reservation_id: string;
  body_hash: string;
  vector_store_id: string;
  state: "pending" | "completed";
  sync_id: string | null;
  created_at: string;
  completed_at: string | null;
  /** The stored answer of a completed key's sync (syncs.result). */
  result: string | null;
}

// Inserts a pending reservation, or takes over a row that no longer counts: a pending one older
// than the abandonment bound (its worker died) or a completed one past the replay window.
// Anything else stays as it is.
const RESERVE_IDEMPOTENCY_KEY = `
  INSERT INTO idempotency_reservations (organization_id, key, reservation_id, body_hash, vector_store_id, state,
                                        sync_id, created_at, completed_at)
  VALUES (?1, ?2, ?3, ?4, ?5, 'pending', NULL, ?6, NULL)
  ON CONFLICT (organization_id, key) DO UPDATE SET
    reservation_id = excluded.reservation_id, body_hash = excluded.body_hash,
    vector_store_id = excluded.vector_store_id, state = 'pending', sync_id = NULL,
    created_at = excluded.created_at, completed_at = NULL
  WHERE (idempotency_reservations.state = 'pending' AND idempotency_reservations.created_at < ?7)
     OR (idempotency_reservations.state = 'completed' AND idempotency_reservations.completed_at < ?8)`;

const READ_IDEMPOTENCY_KEY = `
  SELECT r.reservation_id, r.body_hash, r.vector_store_id, r.state, r.sync_id, r.created_at, r.completed_at, s.result
  FROM idempotency_reservations r LEFT JOIN syncs s ON s.id = r.sync_id
  WHERE r.organization_id = ?1 AND r.key = ?2`;

/**
 * Tries to reserve an Idempotency-Key and reads the key's row as it then stands, in one
 * transaction (one round trip): the reservation is the caller's when the row carries its
 * reservationId; otherwise the row is another request's (pending, or completed with its result).
 */
export async function reserveIdempotencyKey(
  db: D1Database,
  r: {
    organizationId: string;
    key: string;
    reservationId: string;
    bodyHash: string;
    vectorStoreId: string;
    /** ISO timestamps: now, and the cut-offs before which a pending / completed row may be taken over. */
    now: string;
    abandonedBefore: string;
    expiredBefore: string;
  },
): Promise<IdempotencyKeyRow | null> {
  const [, read] = await db.batch([
    db
      .prepare(RESERVE_IDEMPOTENCY_KEY)
      .bind(r.organizationId, r.key, r.reservationId, r.bodyHash, r.vectorStoreId, r.now, r.abandonedBefore, r.expiredBefore),
    db.prepare(READ_IDEMPOTENCY_KEY).bind(r.organizationId, r.key),
  ]);
  return ((read?.results ?? []) as unknown as IdempotencyKeyRow[])[0] ?? null;
}

/** Gives up the caller's pending reservation (its sync failed), so that a retry can run. */
export async function releaseIdempotencyKey(db: D1Database, organizationId: string, key: string, reservationId: string) {
  await db
    .prepare(`DELETE FROM idempotency_reservations
                    WHERE organization_id = ?1 AND key = ?2 AND reservation_id = ?3 AND state = 'pending'`)
    .bind(organizationId, key, reservationId)
    .run();
}
