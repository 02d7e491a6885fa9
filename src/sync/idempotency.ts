import { ApiError } from "../errors";
import type { VectorStore } from "../db/vector-stores";
import { findIdempotencyKey, getSyncResult } from "../db/ledger";
import type { SyncResponse } from "../schemas/sync";
import { runSync, type SyncDeps, type SyncInput } from "./engine";

/** How long a stored answer is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyRequest {
  organizationId: string;
  key: string;
  /** SHA-256 of the request body's canonical JSON. */
  bodyHash: string;
}

/**
 * Runs a sync under an optional Idempotency-Key: the same key and body within 24 hours answer
 * the stored result (same sync_id) without applying anything again; the same key with another
 * body is refused. The key is recorded in the same D1 transaction as the sync's writes.
 */
export async function runIdempotentSync(deps: SyncDeps, store: VectorStore, input: SyncInput,
  idempotency: IdempotencyRequest | null): Promise<{ response: SyncResponse; replayed: boolean }> {
  if (idempotency) {
    const prior = await findIdempotencyKey(deps.db, idempotency.organizationId, idempotency.key);
    const fresh = prior && Date.now() - Date.parse(prior.created_at) < IDEMPOTENCY_WINDOW_MS;
    if (prior && fresh) {
      if (prior.body_hash !== idempotency.bodyHash) {
        throw new ApiError(422, "IDEMPOTENCY_KEY_REUSED",
          "This Idempotency-Key was already used with a different request body.", "invalid_request_error",
          { idempotency_key: idempotency.key, sync_id: prior.sync_id });
      }
      const stored = await getSyncResult(deps.db, prior.sync_id);
      if (stored) return { response: JSON.parse(stored.result) as SyncResponse, replayed: true };
    }
  }
  return { response: await runSync(deps, store, input, idempotency), replayed: false };
}
