// The read paths' access to a store and its ledger shard (docs/measurements.md#latency): the key's local checks,
// the store's row from memory or a replica, the shard read from a replica (or from the client's
// bookmark), and an absence checked again at the primaries before it is answered.
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { Errors } from "../base/errors";
import { checkStoreAccess } from "../auth/store-access";
import { ledgerOf } from "../db/placement";
import { BOOKMARK_HEADER, parseBookmark, readSession, type D1Reader } from "../db/sessions";
import { cachedStore, primaryStore } from "../db/store-cache";
import type { VectorStore } from "../model/store";

/** The store a read names, if the key may read it: 403 (local checks), 404 (none at the primary). */
export async function readableStore(c: Context<AppEnv>, storeId: string): Promise<VectorStore> {
  const key = c.get("apiKey");
  checkStoreAccess(key, storeId, key.organization_id);
  const store = await cachedStore(c.env.DB, storeId);
  if (!store || store.organization_id !== key.organization_id) throw Errors.storeNotFound(storeId);
  return store;
}

/** A read session on the store's shard: from the client's bookmark of that shard, else any replica. */
export function shardReader(c: Context<AppEnv>, store: VectorStore): D1Reader {
  const bookmark = parseBookmark(c.req.header(BOOKMARK_HEADER));
  return readSession(ledgerOf(c.env, store), bookmark?.shard === store.ledger_shard ? bookmark.bookmark : null);
}

/**
 * Reads from the store's shard through a replica; when that finds nothing (`empty`), reads again
 * at the primaries: the store's row (it may have moved) and then its shard's. A replica behind the
 * primary never turns into a 404 or an empty list.
 */
export async function readStoreLedger<T>(
  c: Context<AppEnv>,
  storeId: string,
  read: (db: D1Reader, store: VectorStore) => Promise<T>,
  empty: (value: T) => boolean,
): Promise<{ store: VectorStore; value: T }> {
  const store = await readableStore(c, storeId);
  // A replica that fails (or refuses a forged bookmark: what D1 does with one is not checked here)
  // is not the client's problem: the primaries answer instead.
  const value = await read(shardReader(c, store), store).catch(() => null);
  if (value !== null && !empty(value)) return { store, value };
  const fresh = await primaryStore(c.env.DB, storeId);
  if (!fresh || fresh.organization_id !== store.organization_id) throw Errors.storeNotFound(storeId);
  return { store: fresh, value: await read(ledgerOf(c.env, fresh), fresh) };
}
