import type { Bindings } from "../env";
import { CRON_RECONCILE_AFTER, readCronState, reconcileRound, saveReconcileRound } from "../db/cron-state";
import { storeObject } from "../store/store-client";

/** Records checked per store on each Cron Trigger run (each run continues where the last stopped). */
export const SCHEDULED_PAGE = 500;

/**
 * Stores reconciled per Cron Trigger run. A Worker invocation may make at most 1,000 D1 queries
 * and subrequests: a run makes one read, one call to each store's object and one write batch, so
 * it must not visit every store when there are thousands. The next run goes on after the last
 * store this one visited, and wraps around.
 */
export const SCHEDULED_STORES = 200;

/**
 * The Cron Trigger's work: one reconciliation page for each of up to SCHEDULED_STORES vector
 * stores, resuming each store from the cursor the previous run left in D1, so a large store is
 * covered over successive runs, and every store over successive runs however many there are.
 */
export async function reconcileAllStores(env: Bindings, storesPerRun = SCHEDULED_STORES): Promise<{ store: string; report: unknown }[]> {
  const after = (await readCronState(env.DB, CRON_RECONCILE_AFTER)) ?? "";
  const stores = await reconcileRound(env.DB, after, storesPerRun);
  const out = [];
  const cursors: [string, string | null][] = [];
  for (const { store, cursor } of stores) {
    const stub = storeObject(env, store.id);
    const report = await stub.reconcile(store, cursor, SCHEDULED_PAGE);
    cursors.push([store.id, report.next_cursor]);
    if (report.missing || report.stale_deleted || report.failed || report.keywords_repaired) {
      console.log(JSON.stringify({ level: "warn", event: "reconcile", vector_store_id: store.id, ...report, next_cursor: undefined }));
    }
    out.push({ store: store.id, report });
  }
  // Fewer stores than asked for: the round reached the last store; the next starts from the first.
  const next = stores.length < storesPerRun ? "" : stores.at(-1)!.store.id;
  await saveReconcileRound(env.DB, cursors, next);
  return out;
}
