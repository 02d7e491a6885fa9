-- Migration 0002: the records ledger in two tables (docs/storage.md). The table `records` (WITHOUT
-- ROWID, rows of about 1.1 KB, each spilling into an overflow page of its own, and rewritten whole
-- by every re-sync of an unchanged record) becomes:
--   record_state   a narrow row per record: what planning reads and a touch rewrites;
--   record_bodies  the content (data, file, text, metadata, vector), a rowid table, written only
--                  when the content changes;
--   records        a view of the two as the old table's rows, for reading by hand and by tests.
-- Existing rows are copied: each live record gets a body numbered in key order, tombstones none.
-- One transaction (wrangler applies a migration as one batch); on a large database it runs as long
-- as copying the table takes.

CREATE TABLE record_state (
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
  PRIMARY KEY (vector_store_id, namespace, id)
) WITHOUT ROWID;

CREATE TABLE record_bodies (
  body_id       INTEGER PRIMARY KEY,
  data          TEXT,             -- the record's data (JSON); NULL for a tombstone
  file          TEXT,
  source_system TEXT,
  text          TEXT,             -- the operation's own text, when it brought one
  metadata      TEXT,             -- the operation's own vector metadata (JSON), when given
  vector        TEXT              -- the operation's own vector (JSON), when given
);

INSERT INTO record_bodies (body_id, data, file, source_system, text, metadata, vector)
  SELECT row_number() OVER (ORDER BY vector_store_id, namespace, id), data, file, source_system, text, metadata, vector
  FROM records WHERE deleted = 0;

INSERT INTO record_state (vector_store_id, namespace, id, deleted, content_hash, chunk_count, version,
                          synced_at, sync_id, created_at, updated_at, body_id)
  SELECT vector_store_id, namespace, id, 0, content_hash, chunk_count, version, synced_at, sync_id,
         created_at, updated_at, row_number() OVER (ORDER BY vector_store_id, namespace, id)
  FROM records WHERE deleted = 0;

INSERT INTO record_state (vector_store_id, namespace, id, deleted, content_hash, chunk_count, version,
                          synced_at, sync_id, created_at, updated_at, body_id)
  SELECT vector_store_id, namespace, id, deleted, content_hash, chunk_count, version, synced_at, sync_id,
         created_at, updated_at, NULL
  FROM records WHERE deleted <> 0;

-- Its indexes (records_sweep, records_state) go with it.
DROP TABLE records;

CREATE INDEX record_state_sweep
  ON record_state (vector_store_id, namespace, synced_at, chunk_count) WHERE deleted = 0;

CREATE VIEW records AS
  SELECT s.vector_store_id, s.namespace, s.id, s.deleted, b.data, b.file, s.created_at, s.updated_at,
         b.source_system, b.text, b.metadata, b.vector, s.content_hash, s.chunk_count, s.version,
         s.synced_at, s.sync_id, s.body_id
  FROM record_state s LEFT JOIN record_bodies b ON b.body_id = s.body_id;

CREATE TRIGGER records_delete INSTEAD OF DELETE ON records BEGIN
  DELETE FROM record_bodies WHERE body_id = old.body_id; DELETE FROM record_state
    WHERE vector_store_id = old.vector_store_id AND namespace = old.namespace AND id = old.id; END;

CREATE TRIGGER records_insert INSTEAD OF INSERT ON records BEGIN
  INSERT INTO record_bodies (data, file, source_system, text, metadata, vector)
    SELECT new.data, new.file, new.source_system, new.text, new.metadata, new.vector
    WHERE coalesce(new.deleted, 0) = 0; INSERT INTO record_state (vector_store_id, namespace, id,
    deleted, content_hash, chunk_count, version, synced_at, sync_id, created_at, updated_at, body_id)
    VALUES (new.vector_store_id, new.namespace, new.id, coalesce(new.deleted, 0), new.content_hash,
            coalesce(new.chunk_count, 0), new.version, new.synced_at, new.sync_id, new.created_at,
            new.updated_at, (SELECT last_insert_rowid() WHERE coalesce(new.deleted, 0) = 0)); END;
