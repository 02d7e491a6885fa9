// The Worker side of the store object: how routes and the Cron Trigger's jobs reach a store's
// object, and how its refusals become ApiErrors again.
import type { Bindings } from "../env";
import { ApiError } from "../base/errors";
import { rememberRevoked } from "../auth/revocations";
import type { SyncResponse } from "../schemas/sync";
import type { SearchRequest } from "../schemas/search";
import type { VectorStore } from "../model/store";
import type {
  IdempotencyRequest,
  Outcome,
  RefusedError,
  SearchAnswer,
  ShardBookmark,
  SyncAccess,
  SyncInput,
  SyncOutcome,
} from "../model/store-object";

/**
 * Where every store object is created: beside D1's primary (STORE_LOCATION_HINT, default "enam"),
 * so that its D1 round trips stay in one region whoever called first (a sync from Sydney, the Cron
 * Trigger, an admin call). A hint only matters when the object is first created; it is given on
 * every get() so that no path creates one elsewhere.
 */
export function storeObject(env: Bindings, storeId: string) {
  const hint = (env.STORE_LOCATION_HINT ?? "enam") as DurableObjectLocationHint;
  return env.STORE_SYNC.get(env.STORE_SYNC.idFromName(storeId), { locationHint: hint });
}

/** The ApiError an outcome carried. */
export function apiErrorOf(e: RefusedError): ApiError {
  return new ApiError(e.status as ApiError["status"], e.code, e.message, e.type as ApiError["type"], e.details, e.systemMessage, e.headers);
}

/**
 * Objects a store's searches are spread over, none of them the store's sync object: a search
 * only reads, so it need not wait for the CPU of a sync (checking and planning 5000 operations
 * runs in the sync object's one thread), and a hot store's searches are not bounded by one
 * object's thread. Each sits beside D1's primary like the sync object (one crossing from the
 * Worker, then D1, Workers AI and Vectorize from there).
 */
export const SEARCH_OBJECTS_PER_STORE = 4;

/** One of the store's search objects, picked at random (never its sync object, storeObject). */
export function searchObject(env: Bindings, storeId: string, pick = Math.random()) {
  const hint = (env.STORE_LOCATION_HINT ?? "enam") as DurableObjectLocationHint;
  const n = Math.min(SEARCH_OBJECTS_PER_STORE - 1, Math.floor(pick * SEARCH_OBJECTS_PER_STORE));
  return env.STORE_SYNC.get(env.STORE_SYNC.idFromName(`${storeId}#search${n}`), { locationHint: hint });
}

/**
 * Searches a store in one of its search objects (see VectorStoreSync.search), on the shard the
 * caller's row of the store names. A search object does not know of shard moves (the sync object
 * does): a row read before a move names a shard whose rows are gone, so every match is dropped as
 * a ghost. An empty answer is therefore checked against the catalog's primary once, and searched
 * again on the store's new shard when it moved.
 */
export async function searchThroughStoreObject(
  env: Bindings,
  store: VectorStore,
  request: SearchRequest,
  bookmark: ShardBookmark | null,
  fresh?: () => Promise<VectorStore | null>,
): Promise<SearchAnswer> {
  const search = async (row: VectorStore) => {
    const outcome = (await searchObject(env, row.id).search(row, request, bookmark)) as Outcome<SearchAnswer>;
    if (outcome.ok) return outcome.value;
    throw apiErrorOf(outcome.error);
  };
  const answer = await search(store);
  if (answer.results.length > 0 || !fresh) return answer;
  const current = await fresh();
  return current && current.ledger_shard !== store.ledger_shard ? search(current) : answer;
}

/**
 * Runs a sync in its store's object (its only remote call on the sync path) and turns a refused
 * outcome back into the ApiError it was. A key the object found revoked is remembered here, so
 * that this Worker refuses it at once from then on.
 */
export async function syncThroughStoreObject(
  env: Bindings,
  access: SyncAccess,
  input: SyncInput,
  idempotency: IdempotencyRequest | null,
): Promise<{ response: SyncResponse; replayed: boolean; bookmark: ShardBookmark | null }> {
  const outcome = (await storeObject(env, access.storeId).sync(access, input, idempotency)) as SyncOutcome;
  if (outcome.ok) return { response: outcome.response, replayed: outcome.replayed, bookmark: outcome.bookmark };
  const e = outcome.error;
  if (e.code === "INVALID_API_KEY") rememberRevoked(access.apiKeyId);
  throw apiErrorOf(e);
}
