// Stores' rows as the read paths see them: from memory for a short while, else from a catalog
// replica, else (a replica's "not found" is never trusted) from the primary. A store's row changes
// only through the admin API's shard move; a read that then finds nothing on the shard it was sent
// to asks the primaries again (readableStore), so a stale entry costs one retry, never a
// wrong answer.
import { getVectorStore } from "./vector-stores";
import { readSession } from "./sessions";
import { ExpiringMap } from "../base/memo";
import type { VectorStore } from "../model/store";

/** How long a store's row is served from memory. */
export const STORE_CACHE_TTL_MS = 30_000;
/** Rows kept at most (the oldest go first). */
export const STORE_CACHE_MAX = 10_000;

const cache = new ExpiringMap<VectorStore>(STORE_CACHE_TTL_MS, STORE_CACHE_MAX);

/** A store's row: memory, a replica, or the primary (null only when the primary has none). */
export async function cachedStore(catalog: D1Database, id: string, now = Date.now()): Promise<VectorStore | null> {
  const hit = cache.get(id, now);
  if (hit) return hit;
  const store = (await getVectorStore(readSession(catalog), id)) ?? (await getVectorStore(catalog, id));
  if (store) cache.set(id, store, now);
  else cache.delete(id);
  return store;
}

/** The primary's row, remembered (a routed read found the store gone from where it looked). */
export async function primaryStore(catalog: D1Database, id: string, now = Date.now()): Promise<VectorStore | null> {
  const store = await getVectorStore(catalog, id);
  if (store) cache.set(id, store, now);
  else cache.delete(id);
  return store;
}

/** Drops a store's row (the admin API changed it here: other isolates see the change within the TTL). */
export function forgetStore(id: string): void {
  cache.delete(id);
}
