-- Migration 0005: where each vector store lives (docs/scaling.md). The ledger is a pool of D1
-- databases (LEDGER_0..N, "shards") and the index a pool of Vectorize indexes (VECTORIZE,
-- VECTORIZE_1..M); the catalog (the database bound as DB) records each store's placement, made
-- when the store is created. Every database of the service gets every migration, so a shard and
-- the catalog have the same tables and each uses its own: an existing single-database deploy
-- becomes catalog and shard 0 at once (LEDGER_0 bound to the same database), and nothing moves.
ALTER TABLE vector_stores ADD COLUMN ledger_shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vector_stores ADD COLUMN vector_index INTEGER NOT NULL DEFAULT 0;
-- Placement counts the stores of each shard and index.
CREATE INDEX IF NOT EXISTS vector_stores_by_shard ON vector_stores (ledger_shard);
CREATE INDEX IF NOT EXISTS vector_stores_by_index ON vector_stores (vector_index);

-- The size of each ledger shard as last measured (the Cron Trigger reads D1's own figure), which
-- placement compares.
CREATE TABLE IF NOT EXISTS ledger_shards (
  shard       INTEGER PRIMARY KEY,
  size_bytes  INTEGER NOT NULL,
  measured_at TEXT NOT NULL
);
