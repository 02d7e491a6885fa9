// SQL of the Cron Trigger's own bookkeeping: where its rounds over the stores continue (table
// cron_state) and where each store's reconciliation continues (table reconcile_cursors).
import { getStoresPage } from "./vector-stores";
import type { VectorStore } from "../model/store";

/** cron_state name: the last store id the reconciliation round visited ("" before the first). */
export const CRON_RECONCILE_AFTER = "reconcile_after";

export async function readCronState(db: D1Database, name: string): Promise<string | null> {
  const row = await db.prepare("SELECT value FROM cron_state WHERE name = ?1").bind(name).first<{ value: string }>();
  return row?.value ?? null;
}

/** Up to `limit` stores after `after` in id order, each with its reconciliation cursor: one query. */
export async function reconcileRound(
  db: D1Database,
  after: string,
  limit: number,
): Promise<{ store: VectorStore; cursor: string | null }[]> {
  const page = await getStoresPage(db, after, limit, "(SELECT cursor FROM reconcile_cursors c WHERE c.vector_store_id = v.id)");
  return page.map(({ store, extra }) => ({ store, cursor: extra }));
}

/** Each store's next cursor (null: it was checked to the end) and where the next round starts: one batch. */
export async function saveReconcileRound(db: D1Database, cursors: [string, string | null][], after: string): Promise<void> {
  await db.batch([
    ...cursors.map(([storeId, cursor]) =>
      cursor
        ? db
            .prepare(`INSERT INTO reconcile_cursors (vector_store_id, cursor) VALUES (?1, ?2)
                      ON CONFLICT (vector_store_id) DO UPDATE SET cursor = excluded.cursor`)
            .bind(storeId, cursor)
        : db.prepare("DELETE FROM reconcile_cursors WHERE vector_store_id = ?1").bind(storeId),
    ),
    db
      .prepare("INSERT INTO cron_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
      .bind(CRON_RECONCILE_AFTER, after),
  ]);
}
