import { Errors } from "../base/errors";
import { getVectorStore } from "../db/vector-stores";
import type { ApiKeyRecord } from "../model/api-key";
import type { VectorStore } from "../model/store";

/**
 * The checks every store-scoped request goes through, in the contract's order:
 * another organization's id -> 403; a store outside a restricted key's list -> 403;
 * a store that does not exist or is not the organization's -> 404 (indistinguishable on purpose).
 */
export async function authorizeStore(
  db: D1Database,
  key: ApiKeyRecord,
  vectorStoreId: string,
  organizationId: string = key.organization_id,
): Promise<VectorStore> {
  checkStoreAccess(key, vectorStoreId, organizationId);
  const store = await getVectorStore(db, vectorStoreId);
  if (!store || store.organization_id !== key.organization_id) throw Errors.storeNotFound(vectorStoreId);
  return store;
}

/** The checks a key's record answers by itself (403s): the rest needs the catalog (authorizeStore). */
export function checkStoreAccess(key: ApiKeyRecord, vectorStoreId: string, organizationId: string): void {
  if (organizationId !== key.organization_id) {
    throw Errors.forbidden("This API key does not belong to the organization given.");
  }
  if (key.vector_store_ids && !key.vector_store_ids.includes(vectorStoreId)) {
    throw Errors.forbidden("This API key is not allowed to use this vector store.");
  }
}
