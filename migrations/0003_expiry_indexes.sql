-- Migration 0003: indexes through which the Cron Trigger finds what has expired (src/db/expiry.ts):
-- stored sync results past their retention (SYNC_RESULT_RETENTION_DAYS, default 30) and
-- Idempotency-Key reservations past 24 hours. Without them each expiry page would scan its table.
CREATE INDEX IF NOT EXISTS syncs_by_age ON syncs (created_at);
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency_reservations (coalesce(completed_at, created_at));
