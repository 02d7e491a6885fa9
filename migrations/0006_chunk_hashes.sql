-- Migration 0006: what lets a sync skip work on what did not change (docs/vectors.md, "Work
-- skipped for what did not change").
-- chunk_hashes: the text hash of each chunk a record's vectors were embedded from. A change that
-- leaves a chunk's text alone (a metadata field, another chunk of the record) then reuses that
-- chunk's vector instead of embedding it again.
-- op_hash: the hash of the bytes of the last operation applied to the live record. The same bytes
-- sent again are known unchanged without being parsed, validated or hashed as JSON.
-- NULL for rows written before this migration: their next change embeds every chunk and takes the
-- full check, as before, and records both.
ALTER TABLE record_state ADD COLUMN chunk_hashes TEXT;
ALTER TABLE record_state ADD COLUMN op_hash TEXT;
