/**
 * Expiry of what the service keeps only for a while, run by the Cron Trigger in bounded pages in
 * each database (the catalog holds the keys, the ledger shards the sync results):
 * Idempotency-Key reservations after the 24 hours they are documented to last (a pending one
 * that old was abandoned long ago), and stored sync results after the retention configured in
 * SYNC_RESULT_RETENTION_DAYS (default 30 days). Each page is one DELETE of at most EXPIRY_PAGE
 * rows, found through an index on the age column, so a run's work and D1 rows read stay bounded
 * however much has piled up; what a run leaves, the next one takes.
 */
import { IDEMPOTENCY_WINDOW_MS } from "./idempotency-keys";

/** Rows one DELETE removes at most. */
export const EXPIRY_PAGE = 1000;
/** Pages per table, database and Cron Trigger run (so at most 10,000 rows of each a run). */
export const EXPIRY_PAGES_PER_RUN = 10;
/** D1 queries one run's expiry makes at most over all databases (2 tables each; 1 page each at least). */
export const EXPIRY_QUERIES_PER_RUN = 200;
export const DEFAULT_SYNC_RESULT_RETENTION_DAYS = 30;
/**
 * Sync results are kept at least as long as the Idempotency-Key replay that answers with them
 * (a replay within 24 h must still find its sync's result).
 */
export const MIN_SYNC_RESULT_RETENTION_DAYS = 1;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The configured retention of sync results, in days (SYNC_RESULT_RETENTION_DAYS; invalid or too short: the default or the minimum). */
export function syncResultRetentionDays(configured: string | undefined): number {
  const days = Number(configured);
  if (configured === undefined || configured.trim() === "" || !Number.isFinite(days)) return DEFAULT_SYNC_RESULT_RETENTION_DAYS;
  return Math.max(MIN_SYNC_RESULT_RETENTION_DAYS, days);
}

// The expression must be the indexed one (idempotency_expiry, schema.sql) for SQLite to use it.
export const EXPIRE_IDEMPOTENCY = `
  DELETE FROM idempotency_reservations WHERE (organization_id, key) IN (
    SELECT organization_id, key FROM idempotency_reservations
    WHERE coalesce(completed_at, created_at) < ?1
    ORDER BY coalesce(completed_at, created_at) LIMIT ?2)`;

export const EXPIRE_SYNCS = `
  DELETE FROM syncs WHERE id IN (
    SELECT id FROM syncs INDEXED BY syncs_by_age WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)`;

export interface ExpiryReport {
  idempotency_keys_deleted: number;
  sync_results_deleted: number;
  /** True when a table still had expired rows at the end of the run's pages (the next run goes on). */
  more: boolean;
}

async function deletePages(db: D1Database, sql: string, before: string, pageSize: number, pages: number): Promise<[number, boolean]> {
  let deleted = 0;
  for (let page = 0; page < pages; page++) {
    const result = await db.prepare(sql).bind(before, pageSize).run();
    const changes = result.meta.changes ?? 0;
    deleted += changes;
    if (changes < pageSize) return [deleted, false];
  }
  return [deleted, true];
}

/** One run of expiry at `now` (ms): bounded pages of each table. */
export async function expireOldRows(
  db: D1Database,
  now: number,
  options: { retentionDays?: number; pageSize?: number; pages?: number } = {},
): Promise<ExpiryReport> {
  const pageSize = options.pageSize ?? EXPIRY_PAGE;
  const pages = options.pages ?? EXPIRY_PAGES_PER_RUN;
  const retentionDays = options.retentionDays ?? DEFAULT_SYNC_RESULT_RETENTION_DAYS;
  const [keys, moreKeys] = await deletePages(db, EXPIRE_IDEMPOTENCY, new Date(now - IDEMPOTENCY_WINDOW_MS).toISOString(), pageSize, pages);
  const [syncs, moreSyncs] = await deletePages(db, EXPIRE_SYNCS, new Date(now - retentionDays * DAY_MS).toISOString(), pageSize, pages);
  return { idempotency_keys_deleted: keys, sync_results_deleted: syncs, more: moreKeys || moreSyncs };
}
