export interface VectorStore {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
  embedding_model: string;
  dimensions: number;
  text_fields: string[] | null;
  metadata_fields: string[] | null;
}

interface VectorStoreRow extends Omit<VectorStore, "text_fields" | "metadata_fields"> {
  text_fields: string | null;
  metadata_fields: string | null;
}

const COLUMNS = "id, organization_id, name, created_at, embedding_model, dimensions, text_fields, metadata_fields";

function toStore(row: VectorStoreRow): VectorStore {
  return {
    ...row,
    text_fields: row.text_fields === null ? null : JSON.parse(row.text_fields),
    metadata_fields: row.metadata_fields === null ? null : JSON.parse(row.metadata_fields),
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

export async function getVectorStore(db: D1Database, id: string): Promise<VectorStore | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM vector_stores WHERE id = ?1`).bind(id).first<VectorStoreRow>();
  return row ? toStore(row) : null;
}

/** Inserts a store; false when the id is taken. */
export async function insertVectorStore(db: D1Database, store: VectorStore): Promise<boolean> {
  const result = await db
    .prepare(`INSERT INTO vector_stores (${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
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
