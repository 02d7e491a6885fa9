import type { Bindings } from "../env";
import { ledgerOf, ledgerShards } from "../db/placement";
import { EXPIRY_PAGES_PER_RUN, EXPIRY_QUERIES_PER_RUN, expireOldRows, syncResultRetentionDays, type ExpiryReport } from "../db/expiry";

/**
 * The Cron Trigger's expiry run, over the catalog (Idempotency-Keys) and every ledger shard (sync
 * results), in parallel: logs what it removed, and that more is left when it is.
 */
export async function expireOnSchedule(env: Bindings): Promise<ExpiryReport> {
  const now = Date.now();
  const databases = [env.DB, ...ledgerShards(env).map((shard) => ledgerOf(env, { ledger_shard: shard }))];
  // The run's queries stay bounded however many shards there are (they share one invocation's
  // subrequests with the reconciliation): fewer pages per database when there are many.
  const pages = Math.max(1, Math.min(EXPIRY_PAGES_PER_RUN, Math.floor(EXPIRY_QUERIES_PER_RUN / (2 * databases.length))));
  const options = { retentionDays: syncResultRetentionDays(env.SYNC_RESULT_RETENTION_DAYS), pages };
  const reports = await Promise.all(databases.map((db) => expireOldRows(db, now, options)));
  const report = {
    idempotency_keys_deleted: reports.reduce((n, r) => n + r.idempotency_keys_deleted, 0),
    sync_results_deleted: reports.reduce((n, r) => n + r.sync_results_deleted, 0),
    more: reports.some((r) => r.more),
  };
  if (report.idempotency_keys_deleted || report.sync_results_deleted)
    console.log(JSON.stringify({ level: "info", event: "expiry", ...report }));
  return report;
}
