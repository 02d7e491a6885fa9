-- The records ledger: the source of truth for what each vector store holds.
-- Every database of the service (the catalog, bound as DB, and each ledger shard, LEDGER_<n>) has
-- this whole schema; the catalog uses vector_stores, ledger_shards, idempotency_reservations,
-- revoked_api_keys, reconcile_cursors and cron_state, a shard the rest (docs/storage.md).
-- The full schema, for reading: what the numbered migrations in migrations/ build, applied in
-- order (npm run dev, the tests and the deploy guide apply those; test/migrations.test.ts checks
-- that the two agree). A change of schema is a new migration plus its edit here.
-- Idempotent (IF NOT EXISTS): scripts that need a fresh database apply this file as it is.

CREATE TABLE IF NOT EXISTS vector_stores (
  id              TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  name            TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  -- Embedding configuration, fixed at creation: vectors of different models never mix.
  embedding_model TEXT NOT NULL,
  dimensions      INTEGER NOT NULL,
  text_fields     TEXT,            -- JSON array of dot paths, or NULL: every scalar leaf of data
  metadata_fields TEXT             -- JSON array of dot paths copied into vector metadata, or NULL
  -- Placement, fixed at creation (src/db/placement.ts, docs/storage.md): the ledger database
  -- (binding LEDGER_<n>) holding the store's records, syncs and runs, and its Vectorize index
  -- (VECTORIZE for 0, VECTORIZE_<n> otherwise). Only an admin shard move changes ledger_shard.
, ledger_shard INTEGER NOT NULL DEFAULT 0, vector_index INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS vector_stores_by_org ON vector_stores (organization_id);
CREATE INDEX IF NOT EXISTS vector_stores_by_shard ON vector_stores (ledger_shard);
CREATE INDEX IF NOT EXISTS vector_stores_by_index ON vector_stores (vector_index);

-- The size of each ledger shard as last measured (the Cron Trigger reads D1's own figure):
-- placement puts a new store on the least full shard.
CREATE TABLE IF NOT EXISTS ledger_shards (
  shard       INTEGER PRIMARY KEY,
  size_bytes  INTEGER NOT NULL,
  measured_at TEXT NOT NULL
);

-- The records ledger, one record per (store, namespace, id), in two tables (docs/storage.md):
-- record_state, a narrow row of everything planning reads and a re-sync of an unchanged record
-- rewrites (a touch: version, synced_at, sync_id, updated_at), and record_bodies, the content,
-- written only when the content changes. Wide rows live in a rowid table: in a WITHOUT ROWID table
-- a row over about 1 KB spills into an overflow page of its own.
-- A deleted record stays as a tombstone (deleted = 1, no content) carrying its version, so a late,
-- older upsert cannot bring it back. version: the operation's updated_at, else its request's
-- sync_timestamp, normalised (UTC, nine fractional digits), so text comparison is time comparison.
CREATE TABLE IF NOT EXISTS record_state (
  vector_store_id TEXT NOT NULL,
  namespace       TEXT NOT NULL,
  id              TEXT NOT NULL,
  deleted         INTEGER NOT NULL DEFAULT 0,
  content_hash    TEXT,
  chunk_count     INTEGER NOT NULL DEFAULT 0,  -- vectors this record has in the index: ids _0.._{n-1}
  version         TEXT NOT NULL,
  synced_at       TEXT NOT NULL,
  sync_id         TEXT NOT NULL,
  created_at      TEXT,
  updated_at      TEXT,
  body_id         INTEGER,          -- its row of record_bodies, kept (emptied) by a tombstone; NULL: none yet
  -- The text hash of each chunk its vectors were embedded from (16 characters of base64url SHA-256
  -- each, in chunk order); NULL: none known (a record with its own vector, or written before
  -- migration 0006). A chunk whose text is unchanged keeps its vector (docs/vectors.md).
  chunk_hashes    TEXT,
  -- The hash of the bytes of the last operation applied to the live record, with its updated_at
  -- (operationSourceHash); NULL: none known. The same bytes again are unchanged unparsed (docs/vectors.md).
  op_hash         TEXT,
  PRIMARY KEY (vector_store_id, namespace, id)
) WITHOUT ROWID;
-- What a full_refresh sweep reads: the live records of a namespace not synced since a time.
CREATE INDEX IF NOT EXISTS record_state_sweep
  ON record_state (vector_store_id, namespace, synced_at, chunk_count) WHERE deleted = 0;

-- A record's content. body_id is allocated by the commit (src/db/ledger.ts) as one more than the
-- largest in use; a body row goes only with its record (namespace deletion removes both).
CREATE TABLE IF NOT EXISTS record_bodies (
  body_id       INTEGER PRIMARY KEY,
  data          TEXT,             -- the record's data (JSON); NULL for a tombstone
  file          TEXT,
  source_system TEXT,
  text          TEXT,             -- the operation's own text, when it brought one
  metadata      TEXT,             -- the operation's own vector metadata (JSON), when given
  vector        TEXT              -- the operation's own vector (JSON), when given
);

-- The whole record, as one row: for reading by hand and by tests. The service's own SQL uses the
-- two tables. Deleting from the view deletes both rows; inserting writes both (a new key only).
-- (Each trigger keeps its inner statements off the ends of lines: some scripts split this file
-- at every line that ends with a semicolon.)
CREATE VIEW IF NOT EXISTS records AS
  SELECT s.vector_store_id, s.namespace, s.id, s.deleted, b.data, b.file, s.created_at, s.updated_at,
         b.source_system, b.text, b.metadata, b.vector, s.content_hash, s.chunk_count, s.version,
         s.synced_at, s.sync_id, s.body_id
  FROM record_state s LEFT JOIN record_bodies b ON b.body_id = s.body_id;
CREATE TRIGGER IF NOT EXISTS records_delete INSTEAD OF DELETE ON records BEGIN
  DELETE FROM record_bodies WHERE body_id = old.body_id; DELETE FROM record_state
    WHERE vector_store_id = old.vector_store_id AND namespace = old.namespace AND id = old.id; END;
CREATE TRIGGER IF NOT EXISTS records_insert INSTEAD OF INSERT ON records BEGIN
  INSERT INTO record_bodies (data, file, source_system, text, metadata, vector)
    SELECT new.data, new.file, new.source_system, new.text, new.metadata, new.vector
    WHERE coalesce(new.deleted, 0) = 0; INSERT INTO record_state (vector_store_id, namespace, id,
    deleted, content_hash, chunk_count, version, synced_at, sync_id, created_at, updated_at, body_id)
    VALUES (new.vector_store_id, new.namespace, new.id, coalesce(new.deleted, 0), new.content_hash,
            coalesce(new.chunk_count, 0), new.version, new.synced_at, new.sync_id, new.created_at,
            new.updated_at, (SELECT last_insert_rowid() WHERE coalesce(new.deleted, 0) = 0)); END;

-- The keyword index: every chunk of a live record as SQLite FTS5 indexes it (keyword and hybrid
-- search, docs/vectors.md). Contentless: the chunk texts derive from the record's data, which
-- record_bodies already stores, so only the index is kept; contentless_delete lets a row go by its
-- rowid, body_id * 256 + chunk (a record has at most 256 chunks). scope holds the tokens
-- 's<hex of the store id>' and 'n<hex of the namespace>' that a query is restricted by. The sync's
-- commit writes a record's rows in its batch (src/db/keywords.ts); the triggers remove a body's
-- rows whenever the body changes or goes, in the same statement.
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_keywords USING fts5(
  scope, text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
-- A keyword hit's record: its body's state row.
CREATE INDEX IF NOT EXISTS record_state_by_body ON record_state (body_id);
CREATE TRIGGER IF NOT EXISTS record_bodies_keywords_update AFTER UPDATE ON record_bodies BEGIN
  DELETE FROM chunk_keywords WHERE rowid IN (
    WITH RECURSIVE c(r) AS (
      SELECT old.body_id * 256 WHERE EXISTS (SELECT 1 FROM chunk_keywords WHERE rowid = old.body_id * 256)
      UNION ALL SELECT r + 1 FROM c
        WHERE r < old.body_id * 256 + 255 AND EXISTS (SELECT 1 FROM chunk_keywords WHERE rowid = r + 1))
    SELECT r FROM c); END;
CREATE TRIGGER IF NOT EXISTS record_bodies_keywords_delete AFTER DELETE ON record_bodies BEGIN
  DELETE FROM chunk_keywords WHERE rowid IN (
    WITH RECURSIVE c(r) AS (
      SELECT old.body_id * 256 WHERE EXISTS (SELECT 1 FROM chunk_keywords WHERE rowid = old.body_id * 256)
      UNION ALL SELECT r + 1 FROM c
        WHERE r < old.body_id * 256 + 255 AND EXISTS (SELECT 1 FROM chunk_keywords WHERE rowid = r + 1))
    SELECT r FROM c); END;

-- The newest full_refresh applied to each namespace: an older one is refused (409 STALE_SYNC).
CREATE TABLE IF NOT EXISTS namespace_state (
  vector_store_id   TEXT NOT NULL,
  namespace         TEXT NOT NULL,
  last_full_refresh TEXT NOT NULL,
  PRIMARY KEY (vector_store_id, namespace)
) WITHOUT ROWID;

-- Every sync request's stored result, readable through GET /v1/connectors/pipeline/syncs/{id}.
CREATE TABLE IF NOT EXISTS syncs (
  id              TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  vector_store_id TEXT NOT NULL,
  sync_mode       TEXT NOT NULL,
  sync_timestamp  TEXT NOT NULL,
  status          TEXT NOT NULL,
  result          TEXT NOT NULL,
  mutation_ids    TEXT NOT NULL DEFAULT '[]',  -- Vectorize mutation ids of this sync (JSON array)
  created_at      TEXT NOT NULL
);

-- The key's syncs, newest first (GET /v1/connectors/pipeline/syncs).
CREATE INDEX IF NOT EXISTS syncs_by_org ON syncs (organization_id, created_at, id);
CREATE INDEX IF NOT EXISTS syncs_by_store ON syncs (vector_store_id, created_at, id);
-- Expiry (src/db/expiry.ts, on the Cron Trigger): results older than SYNC_RESULT_RETENTION_DAYS.
CREATE INDEX IF NOT EXISTS syncs_by_age ON syncs (created_at);

-- A full_refresh run: the requests of one vector store that share one sync_timestamp (normalised).
-- Parts ("final": false) apply their operations and sweep nothing; the final request sweeps, once,
-- every namespace the run named in any part (recorded here, so parts may reach any Worker), except
-- the namespaces in which an operation of the run failed and was not applied by a later part. A single full_refresh without
-- "final" is a run of one request, as before runs existed. GET .../runs/{store}/{timestamp}.
CREATE TABLE IF NOT EXISTS sync_runs (
  vector_store_id TEXT NOT NULL,
  sync_timestamp  TEXT NOT NULL,     -- normalised: UTC, nine fractional digits
  state           TEXT NOT NULL CHECK (state IN ('open', 'completed')),
  final_sync_id   TEXT,              -- the final request that completed the run ("final": true); then parts are refused
  parts           INTEGER NOT NULL,  -- requests applied (a retried part counts again)
  results         TEXT NOT NULL,     -- JSON {upserted, deleted, unchanged, failed}, summed over the parts
  namespaces      TEXT NOT NULL,     -- JSON array: every namespace the run named
  failed_keys     TEXT NOT NULL,     -- JSON [[namespace, id], ...]: records whose operation failed and no later part applied
  blocked         TEXT NOT NULL,     -- JSON array: namespaces with a failed operation of no usable id, never swept ("*": all)
  swept           INTEGER NOT NULL,  -- records the run's sweep removed
  started_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  completed_at    TEXT,
  PRIMARY KEY (vector_store_id, sync_timestamp)
) WITHOUT ROWID;

-- Idempotency-Key of a sync request, per organization, in the catalog. A request reserves its key
-- ('pending', with the id its sync will have) with one conditional insert before any work, so of
-- two requests with one key (even to two stores, which run in two Durable Objects, perhaps on two
-- ledger shards) only one runs; once the sync has committed in its shard the key is completed
-- ('completed'), a failed sync deletes it (src/db/idempotency-keys.ts: a key left pending by a
-- worker that died after the commit is completed by the request that takes it over). A completed key answers the same body with the stored
-- result of sync_id for 24 hours (from completed_at); a pending one older than 2 minutes counts as
-- abandoned and may be taken over (src/sync/idempotency.ts). It replaces the table
-- idempotency_keys (key recorded only at commit): a local database made by an older schema.sql
-- still has that table, and nothing reads it any more.
CREATE TABLE IF NOT EXISTS idempotency_reservations (
  organization_id TEXT NOT NULL,
  key             TEXT NOT NULL,
  reservation_id  TEXT NOT NULL,     -- the reserving request's own id: only it completes or deletes the row
  body_hash       TEXT NOT NULL,     -- SHA-256 of the request body's canonical JSON
  vector_store_id TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'completed')),
  sync_id         TEXT,              -- the sync's id, fixed when reserved (NULL in rows reserved before 0005)
  created_at      TEXT NOT NULL,     -- when reserved
  completed_at    TEXT,              -- when the sync committed; NULL while pending
  PRIMARY KEY (organization_id, key)
) WITHOUT ROWID;
-- Expiry (src/db/expiry.ts): keys whose 24 hours are over, from completion (or reservation, when
-- never completed).
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency_reservations (coalesce(completed_at, created_at));

-- Revoked API keys. KV (where keys live) is eventually consistent for up to about 60 s; D1 is
-- not, so a revocation recorded here takes effect on the next request everywhere.
CREATE TABLE IF NOT EXISTS revoked_api_keys (
  key_id     TEXT PRIMARY KEY,
  revoked_at TEXT NOT NULL
);

-- Where the scheduled reconciliation of each store continues on its next run.
CREATE TABLE IF NOT EXISTS reconcile_cursors (
  vector_store_id TEXT PRIMARY KEY,
  cursor          TEXT NOT NULL
);

-- Where the Cron Trigger's round over the stores continues: a run reconciles at most 200 stores
-- (a Worker invocation may make at most 1,000 D1 queries and subrequests), after the last visited.
CREATE TABLE IF NOT EXISTS cron_state (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
