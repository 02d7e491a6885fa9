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
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_keywords USING fts5(
  scope, text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
-- A keyword hit's record: its body's state row.
CREATE INDEX IF NOT EXISTS record_state_by_body ON record_state (body_id);
CREATE TRIGGER IF NOT EXISTS record_bodies_keywords_update AFTER UPDATE ON record_bodies BEGIN
  DELETE FROM chunk_keywords WHERE rowid BETWEEN old.body_id * 256 AND old.body_id * 256 + 255; END;
CREATE TRIGGER IF NOT EXISTS record_bodies_keywords_delete AFTER DELETE ON record_bodies BEGIN
  DELETE FROM chunk_keywords WHERE rowid BETWEEN old.body_id * 256 AND old.body_id * 256 + 255; END;
