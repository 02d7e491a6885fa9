export interface VectorStore {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}

export async function getVectorStore(db: D1Database, id: string): Promise<VectorStore | null> {
  return db.prepare("SELECT id, organization_id, name, created_at FROM vector_stores WHERE id = ?1")
    .bind(id).first<VectorStore>();
}

/** Inserts a store; false when the id is taken. */
export async function insertVectorStore(db: D1Database, store: VectorStore): Promise<boolean> {
  const result = await db.prepare(`INSERT INTO vector_stores (id, organization_id, name, created_at)
                                   VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING`)
    .bind(store.id, store.organization_id, store.name, store.created_at).run();
  return result.meta.changes === 1;
}

export async function listStoreIdsOfOrganization(db: D1Database, organizationId: string, ids: string[]): Promise<string[]> {
  const { results } = await db.prepare(`SELECT id FROM vector_stores WHERE organization_id = ?1
                                        AND id IN (SELECT value FROM json_each(?2))`)
    .bind(organizationId, JSON.stringify(ids)).all<{ id: string }>();
  return results.map((r) => r.id);
}
