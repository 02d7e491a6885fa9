import type { D1Reader } from "./sessions";
import type { VectorStore } from "../model/store";

interface VectorStoreRow extends Omit<VectorStore, "text_fields" | "metadata_fields" | "index"> {
  text_fields: string | null;
  metadata_fields: string | null;
  vector_index: number;
}

const COLUMNS =
  "id, organization_id, name, created_at, embedding_model, dimensions, text_fields, metadata_fields, ledger_shard, vector_index";

function toStore({ vector_index, ...row }: VectorStoreRow): VectorStore {
  return {
    ...row,
    text_fields: row.text_fields === null ? null : JSON.parse(row.text_fields),
    metadata_fields: row.metadata_fields === null ? null : JSON.parse(row.metadata_fields),
    ledger_shard: Number(row.ledger_shard),
    index: Number(vector_index),
  };
}

/**
 * Up to `limit` stores with ids after `after`, in id order, each with one extra column computed
 * by `extra` (an SQL expression over the store row `v`, e.g. a correlated subquery).
 */
export async function getStoresPage(
  db: D1Database,
  after: string,
  limit: number,
  extra: string,
): Promise<{ store: VectorStore; extra: string | null }[]> {
  const columns = COLUMNS.split(", ")
    .map((c) => `v.${c}`)
    .join(", ");
  const { results } = await db
    .prepare(`SELECT ${columns}, ${extra} AS extra FROM vector_stores v WHERE v.id > ?1 ORDER BY v.id LIMIT ?2`)
    .bind(after, limit)
    .all<VectorStoreRow & { extra: string | null }>();
  return results.map(({ extra, ...row }) => ({ store: toStore(row), extra }));
}

/** The statement reading a store's row, for a batch (read its result with storeFromResult). */
export function vectorStoreStatement(db: D1Reader, id: string): D1PreparedStatement {
  return db.prepare(`SELECT ${COLUMNS} FROM vector_stores WHERE id = ?1`).bind(id);
}

export function storeFromResult(result: D1Result | undefined): VectorStore | null {
  const row = result?.results[0] as VectorStoreRow | undefined;
  return row ? toStore(row) : null;
}

export async function getVectorStore(db: D1Reader, id: string): Promise<VectorStore | null> {
  const row = await vectorStoreStatement(db, id).first<VectorStoreRow>();
  return row ? toStore(row) : null;
}

/** Inserts a store; false when the id is taken. */
export async function insertVectorStore(db: D1Database, store: VectorStore): Promise<boolean> {
  const result = await db
    .prepare(`INSERT INTO vector_stores (${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                                   ON CONFLICT (id) DO NOTHING`)
    .bind(
      store.id,
      store.organization_id,
      store.name,
      store.created_at,
      store.embedding_model,
      store.dimensions,
      store.text_fields ? JSON.stringify(store.text_fields) : null,
      store.metadata_fields ? JSON.stringify(store.metadata_fields) : null,
      store.ledger_shard,
      store.index,
    )
    .run();
  return result.meta.changes === 1;
}

export async function listStoreIdsOfOrganization(db: D1Database, organizationId: string, ids: string[]): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT id FROM vector_stores WHERE organization_id = ?1
                                        AND id IN (SELECT value FROM json_each(?2))`)
    .bind(organizationId, JSON.stringify(ids))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * Moves a store's placement to another ledger shard (the switch of a shard move, run by the
 * store's Durable Object once the copy is complete): only from the shard it is on.
 */
export async function switchLedgerShard(db: D1Database, id: string, from: number, to: number): Promise<boolean> {
  const result = await db
    .prepare("UPDATE vector_stores SET ledger_shard = ?3 WHERE id = ?1 AND ledger_shard = ?2")
    .bind(id, from, to)
    .run();
  return result.meta.changes === 1;
}

/** The ledger shards holding an organization's stores (for its org-wide reads). */
export async function shardsOfOrganization(db: D1Reader, organizationId: string): Promise<number[]> {
  const { results } = await db
    .prepare("SELECT DISTINCT ledger_shard AS shard FROM vector_stores WHERE organization_id = ?1 ORDER BY 1")
    .bind(organizationId)
    .all<{ shard: number }>();
  return results.map((r) => Number(r.shard));
}
