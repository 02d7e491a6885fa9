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

/** Searches a store in its object (see VectorStoreSync.search). */
export async function searchThroughStoreObject(env: Bindings, store: VectorStore, request: SearchRequest, bookmark: ShardBookmark | null) {
  const outcome = (await storeObject(env, store.id).search(store, request, bookmark)) as Outcome<SearchAnswer>;
  if (outcome.ok) return outcome.value;
  throw apiErrorOf(outcome.error);
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
