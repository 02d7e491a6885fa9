import { jsonChunks } from "../base/json/json-chunks";
import { MAX_SWEEP_RECORDS, withinSweepBudget } from "../vectors/sweep-budget";
import { recordVectorStem, vectorIds } from "../vectors/ids";
import { deleteVectors } from "../vectors/index-writer";
import type { VectorDeps } from "../vectors/vector-sync";
import type { VectorStore } from "../model/store";
import type { NamespaceDeletion } from "../model/store-object";

/**
 * Removes one page of a namespace: its records' vectors first, then their ledger rows (tombstones
 * too, so the namespace is forgotten), at most MAX_SWEEP_RECORDS rows and the sweep's vector
 * budget per call. Runs in the store's Durable Object, between syncs, so the ledger and the index
 * stay in step. A record whose vectors could not be deleted keeps its row. null: no such namespace.
 */
export async function deleteNamespacePage(
  deps: VectorDeps & { db: D1Database },
  store: VectorStore,
  namespace: string,
): Promise<NamespaceDeletion | null> {
  const { results: rows } = await deps.db
    .prepare(`
      SELECT id, deleted, chunk_count AS chunkCount FROM records
      WHERE vector_store_id = ?1 AND namespace = ?2 ORDER BY id LIMIT ?3`)
    .bind(store.id, namespace, MAX_SWEEP_RECORDS)
    .all<{ id: string; deleted: number; chunkCount: number }>();
  if (rows.length === 0) return null;
  const page = withinSweepBudget(rows);

  const owner = new Map<string, string>();
  const live = page.filter((r) => r.deleted === 0 && r.chunkCount > 0);
  const stems = await Promise.all(live.map((r) => recordVectorStem(store.id, namespace, r.id)));
  live.forEach((r, i) => {
    for (const id of vectorIds(stems[i]!, 0, r.chunkCount)) owner.set(id, r.id);
  });
  const kept = new Set<string>();
  let vectorsDeleted = 0;
  for (const batch of await deleteVectors(deps.index, [...owner.keys()], deps.retry)) {
    if (batch.ok) vectorsDeleted += batch.items.length;
    else for (const id of batch.items) kept.add(owner.get(id)!);
  }

  const gone = page.filter((r) => !kept.has(r.id));
  const statements = jsonChunks(gone.map((r) => r.id)).map((json) =>
    deps.db
      .prepare(`
      DELETE FROM records WHERE vector_store_id = ?1 AND namespace = ?2 AND id IN (SELECT value FROM json_each(?3))`)
      .bind(store.id, namespace, json),
  );
  // Forgotten with its last row: the namespace's refresh watermark goes too.
  statements.push(
    deps.db
      .prepare(`
      DELETE FROM namespace_state WHERE vector_store_id = ?1 AND namespace = ?2
        AND NOT EXISTS (SELECT 1 FROM records WHERE vector_store_id = ?1 AND namespace = ?2)`)
      .bind(store.id, namespace),
  );
  statements.push(
    deps.db.prepare(`SELECT count(*) AS n FROM records WHERE vector_store_id = ?1 AND namespace = ?2`).bind(store.id, namespace),
  );
  const results = await deps.db.batch<{ n: number }>(statements);
  return {
    vector_store_id: store.id,
    namespace,
    records_deleted: gone.filter((r) => r.deleted === 0).length,
    vectors_deleted: vectorsDeleted,
    remaining: Number(results.at(-1)!.results[0]!.n),
    failed: kept.size,
  };
}
