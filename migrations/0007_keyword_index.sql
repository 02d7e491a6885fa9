-- Migration 0007: the keyword index (docs/vectors.md, keyword and hybrid search). Every chunk of a
-- live record, as SQLite FTS5 indexes it, beside the ledger in the store's ledger shard.
-- Contentless (content=''): the chunk texts are derived from the record's data, which the ledger
-- already stores, so only the index is kept; contentless_delete lets a row go by its rowid.
-- A row's rowid is body_id * 256 + chunk (a record has at most 256 chunks); scope holds the
-- tokens 's<hex of the store id>' and 'n<hex of the namespace>' that a query is restricted by.
-- Rows are written by the sync's commit in its own batch; the triggers below remove a body's rows
-- whenever the body changes or goes (a changed record, a tombstone, a sweep, namespace deletion, a
-- shard move's cleanup), in the same statement. Records synced before this migration get their
-- rows from reconciliation.
-- A body's rows are found by rowid one at a time (they are contiguous from chunk 0): FTS5 answers
-- `rowid = ?` with one lookup but `rowid BETWEEN` with a scan of the whole table, which made each
-- body's delete cost grow with the table (0.9 ms at 12,000 rows, in better-sqlite3's SQLite 3.53;
-- a probe of 3 chunks, 0.03 ms).
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
