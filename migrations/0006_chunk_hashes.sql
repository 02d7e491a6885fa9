-- Migration 0006: the text hash of each chunk a record's vectors were embedded from
-- (docs/vectors.md, "Reusing vectors"). A change that leaves a chunk's text alone (a metadata
-- field, another chunk of the record) then reuses that chunk's vector instead of embedding it
-- again. NULL for rows written before this migration: their next change embeds every chunk, as
-- before, and records the hashes.
ALTER TABLE record_state ADD COLUMN chunk_hashes TEXT;
