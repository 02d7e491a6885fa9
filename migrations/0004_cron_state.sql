-- Migration 0004: where the Cron Trigger's round over the vector stores continues
-- (src/vectors/scheduled-reconcile.ts visits at most 200 stores a run: a Worker invocation may make
-- at most 1,000 D1 queries and subrequests, which a run over every store passed at about 333).
CREATE TABLE IF NOT EXISTS cron_state (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
