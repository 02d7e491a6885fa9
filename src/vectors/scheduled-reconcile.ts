import type { Bindings } from "../env";
import { listVectorStoreIds } from "../db/ledger";
import { getVectorStore } from "../db/vector-stores";

/** Records checked per store on each Cron Trigger run (each run continues where the last stopped). */
export const SCHEDULED_PAGE = 500;

/**
 * The Cron Trigger's work: one reconciliation page per vector store, resuming from the cursor
 * the previous run left in D1, so a large store is covered over successive runs.
 */
export async function reconcileAllStores(env: Bindings): Promise<{ store: string; report: unknown }[]> {
  const out = [];
  for (const id of await listVectorStoreIds(env.DB)) {
    const store = await getVectorStore(env.DB, id);
    if (!store) continue;
    const row = await env.DB.prepare("SELECT cursor FROM reconcile_cursors WHERE vector_store_id = ?1")
      .bind(id)
      .first<{ cursor: string }>();
    const stub = env.STORE_SYNC.get(env.STORE_SYNC.idFromName(id));
    const report = await stub.reconcile(store, row?.cursor ?? null, SCHEDULED_PAGE);
    await (report.next_cursor
      ? env.DB.prepare(`INSERT INTO reconcile_cursors (vector_store_id, cursor) VALUES (?1, ?2)
                        ON CONFLICT (vector_store_id) DO UPDATE SET cursor = excluded.cursor`).bind(id, report.next_cursor)
      : env.DB.prepare("DELETE FROM reconcile_cursors WHERE vector_store_id = ?1").bind(id)
    ).run();
    if (report.missing || report.stale_deleted || report.failed) {
      console.log(JSON.stringify({ level: "warn", event: "reconcile", vector_store_id: id, ...report, next_cursor: undefined }));
    }
    out.push({ store: id, report });
  }
  return out;
}
