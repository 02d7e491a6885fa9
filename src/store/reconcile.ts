import { type LedgerPageRow, listLedgerPage } from "../db/ledger";
import { countKeywordRows, rewriteKeywords } from "../db/keywords";
import { recordVectorStem, vectorIds } from "../vectors/ids";
import { deleteVectors, getVectors } from "../vectors/index-writer";
import { hasFlatDottedKey } from "../vectors/metadata-paths";
import { applyPlanToIndex, searchableChunks, type VectorDeps } from "../vectors/vector-sync";
import type { VectorStore } from "../model/store";
import { keyOf, type SyncPlan, type RecordWrite } from "../model/plan";
import type { ReconcileReport } from "../model/store-object";

/** Ids past a record's chunk count (or of a deleted record) that are probed for leftovers. */
export const STALE_PROBE = 2;

/**
 * Checks one page of a store's ledger against the index: every vector the ledger expects is
 * read back (getByIds); a record missing any, or whose vectors carry flat dotted metadata keys,
 * is re-embedded from the ledger's stored data and written again; ids the ledger knows must not
 * exist (past a record's chunk count, or of a deleted record) are deleted when found. The keyword
 * index is checked too (checkKeywords). Runs in the store's Durable Object, between syncs.
 */
export async function reconcilePage(
  deps: VectorDeps & { db: D1Database },
  store: VectorStore,
  cursor: string | null,
  limit: number,
): Promise<ReconcileReport> {
  const rows = await listLedgerPage(deps.db, store.id, cursor ? JSON.parse(cursor) : null, limit);
  const expected = new Map<string, string>(); // vector id -> record key
  const stale = new Set<string>();
  const stems = await Promise.all(rows.map((r) => recordVectorStem(store.id, r.namespace, r.id)));
  rows.forEach((row, i) => {
    const key = keyOf(row.namespace, row.id);
    const count = row.deleted ? 0 : row.chunk_count;
    for (const id of vectorIds(stems[i]!, 0, count)) expected.set(id, key);
    for (const id of vectorIds(stems[i]!, count, count + STALE_PROBE)) stale.add(id);
  });
  const vectors = await getVectors(deps.index, [...expected.keys(), ...stale], deps.retry);
  const found = new Set(vectors.map((v) => v.id));

  const broken = new Set<string>();
  // Vectors written while dotted metadata fields were stored as flat keys ("assignee.name"), which a
  // filter never matches (a dot is nesting): rewritten like missing ones, with nested metadata.
  for (const v of vectors) {
    const key = expected.get(v.id);
    if (key !== undefined && hasFlatDottedKey(v.metadata as Record<string, unknown> | undefined)) broken.add(key);
  }
  let missing = 0;
  for (const [id, key] of expected) {
    if (!found.has(id)) {
      missing += 1;
      broken.add(key);
    }
  }
  const leftovers = [...stale].filter((id) => found.has(id));
  let staleDeleted = 0;
  for (const batch of await deleteVectors(deps.index, leftovers, deps.retry)) if (batch.ok) staleDeleted += batch.items.length;

  // Rewrite the broken records' vectors from the ledger, exactly as a sync of them would.
  const writes: RecordWrite[] = rows
    .filter((r) => !r.deleted && broken.has(keyOf(r.namespace, r.id)))
    .map((r) => {
      const data = JSON.parse(r.data!) as Record<string, unknown>;
      const file = r.file ? JSON.parse(r.file) : null;
      return {
        key: keyOf(r.namespace, r.id),
        namespace: r.namespace,
        id: r.id,
        version: r.version,
        updatedAt: null,
        previousChunkCount: r.chunk_count,
        chunkCount: 0,
        record: {
          data: r.data!,
          file: r.file,
          createdAt: null,
          sourceSystem: null,
          text: r.text,
          metadata: r.metadata,
          vector: r.vector ? JSON.parse(r.vector) : null,
          contentHash: r.content_hash ?? "",
          parsed: { data, file },
        },
      };
    });
  const plan = { writes, sweeps: [] } as unknown as SyncPlan;
  const outcome = writes.length > 0 ? await applyPlanToIndex(deps, store, plan) : { failures: new Map() };

  const keywordsRepaired = await checkKeywords(deps.db, store, rows);
  const last = rows.at(-1);
  return {
    checked: expected.size,
    missing,
    repaired: writes.length - outcome.failures.size,
    stale_deleted: staleDeleted,
    failed: outcome.failures.size,
    keywords_repaired: keywordsRepaired,
    next_cursor: rows.length === limit && last ? JSON.stringify([last.namespace, last.id]) : null,
  };
}

/**
 * The keyword index against a page of the ledger: a live record has exactly one row per chunk,
 * any other body none. A record whose count differs (synced before the index existed, most
 * likely) gets its rows rewritten from its stored data, in one batch. Returns how many.
 */
async function checkKeywords(db: D1Database, store: VectorStore, rows: LedgerPageRow[]): Promise<number> {
  const withBody = rows.filter((r) => r.body_id !== null);
  const counts = await countKeywordRows(
    db,
    withBody.map((r) => r.body_id!),
  );
  const wrong = withBody.filter((r) => (counts.get(r.body_id!) ?? 0) !== (r.deleted ? 0 : r.chunk_count));
  await rewriteKeywords(
    db,
    store.id,
    wrong.map((r) => r.body_id!),
    wrong
      .filter((r) => !r.deleted && r.chunk_count > 0)
      .map((r) => ({
        namespace: r.namespace,
        id: r.id,
        version: r.version,
        texts: searchableChunks(store, { data: r.data!, file: r.file, text: r.text, vector: r.vector }).slice(0, r.chunk_count),
      })),
  );
  return wrong.length;
}
