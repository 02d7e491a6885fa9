import { ApiError } from "../errors";
import { randomToken } from "../crypto";
import type { VectorStore } from "../db/vector-stores";
import { releaseIdempotencyKey, reserveIdempotencyKey, type IdempotencyKeyRow } from "../db/ledger";
import type { SyncResponse } from "../schemas/sync";
import { runSync, type SyncDeps, type SyncInput } from "./engine";
import { checkOperations } from "./operations";
import { span } from "../profile";
import { sha256Base64 } from "../crypto";

/** How long a stored answer is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * How long a pending reservation holds its key before it counts as abandoned (its worker died
 * between reserving and committing or releasing) and another request may take it over. A sync
 * reserves when its turn in the store's Durable Object comes, so this bounds one sync's run, not
 * its wait in the queue. The largest sync (5000 operations) runs for seconds (dominated by about
 * 63 embedding calls, 4 at a time; a D1 batch may take at most 30 s), and even with every upstream
 * call retried to its limit it stays far below a minute: 2 minutes leaves a wide margin, and
 * bounds how long a client whose request died keeps hearing 409 IDEMPOTENCY_KEY_IN_PROGRESS.
 */
export const ABANDONED_RESERVATION_MS = 2 * 60 * 1000;

/** Retry-After (seconds) of a 409 IDEMPOTENCY_KEY_IN_PROGRESS: a typical sync is done by then. */
export const IN_PROGRESS_RETRY_AFTER_SECONDS = 5;

export interface IdempotencyRequest {
  organizationId: string;
  key: string;
  /**
   * The request body without its operations, as canonical JSON. The body's hash is taken over it
   * and each operation's canonical JSON (hashed as the store's object checks them), so the same
   * request re-serialised (key order, spacing) is the same request.
   */
  envelope: string;
}

export interface RunOptions {
  /**
   * Let go of `input.operations` (a body's bytes) once they are checked. Only for a caller whose
   * input is its own copy, as a Durable Object's RPC argument is.
   */
  consumeOperations?: boolean;
}

/** The hash an Idempotency-Key's body is compared by: over the envelope and each operation's hash. */
export function bodyHashOf(envelope: string, operationHashes: string[]): Promise<string> {
  return sha256Base64(`${envelope}\n${operationHashes.join("\n")}`);
}

/**
 * Runs a sync under an optional Idempotency-Key. Before any work the key is reserved for the
 * organization with one conditional insert in D1 (atomic, so two requests with one key to two
 * stores, which run in two Durable Objects, cannot both run). Then:
 * - reserved: the sync runs; its commit completes the reservation in the same transaction, and a
 *   failure deletes it, so the client's retry runs;
 * - another request holds the key, with another body: 422 IDEMPOTENCY_KEY_REUSED;
 * - it holds it with this body and is still running: 409 IDEMPOTENCY_KEY_IN_PROGRESS, Retry-After;
 * - it completed with this body within 24 hours: its stored result (same sync_id), replayed
 *   without applying anything again.
 * A pending reservation older than ABANDONED_RESERVATION_MS, or a completed one older than 24
 * hours, is taken over by the next request.
 */
export async function runIdempotentSync(
  deps: SyncDeps,
  store: VectorStore,
  input: SyncInput,
  idempotency: IdempotencyRequest | null,
  options: RunOptions = {},
): Promise<{ response: SyncResponse; replayed: boolean }> {
  // Checked before the key is reserved: a body that is not JSON is refused without touching it.
  const { checked, operationHashes } = await span("check operations", () =>
    checkOperations(input.operations, input.syncTimestamp, store.dimensions, { hashOperations: idempotency !== null }),
  );
  if (options.consumeOperations) input.operations = [];
  if (!idempotency) return { response: await runSync(deps, store, input, null, checked), replayed: false };
  const bodyHash = await bodyHashOf(idempotency.envelope, operationHashes!);

  const now = Date.now();
  const reservationId = `idr_${randomToken(12)}`;
  const row = await span("idempotency key reserve", () =>
    reserveIdempotencyKey(deps.db, {
      organizationId: idempotency.organizationId,
      key: idempotency.key,
      reservationId,
      bodyHash,
      vectorStoreId: store.id,
      now: new Date(now).toISOString(),
      abandonedBefore: new Date(now - ABANDONED_RESERVATION_MS).toISOString(),
      expiredBefore: new Date(now - IDEMPOTENCY_WINDOW_MS).toISOString(),
    }),
  );
  if (!row) throw new Error("Idempotency-Key reservation: the key's row is missing right after its insert");
  if (row.reservation_id !== reservationId) return { response: answerHeldKey(row, idempotency.key, bodyHash), replayed: true };

  try {
    const response = await runSync(
      deps,
      store,
      input,
      { organizationId: idempotency.organizationId, key: idempotency.key, bodyHash, reservationId },
      checked,
    );
    return { response, replayed: false };
  } catch (err) {
    // Nothing was committed (the commit completes the reservation in its own transaction): free
    // the key for the retry. Should this fail too, the reservation lapses as abandoned.
    try {
      await releaseIdempotencyKey(deps.db, idempotency.organizationId, idempotency.key, reservationId);
    } catch (releaseErr) {
      console.warn(
        JSON.stringify({
          level: "warn",
          event: "idempotency_release_failed",
          vector_store_id: store.id,
          message: String(releaseErr).slice(0, 300),
        }),
      );
    }
    throw err;
  }
}

/** The answer for a key another request holds: its stored result, or why this one may not run. */
function answerHeldKey(row: IdempotencyKeyRow, key: string, bodyHash: string): SyncResponse {
  if (row.body_hash !== bodyHash) {
    throw new ApiError(
      422,
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was already used with a different request body.",
      "invalid_request_error",
      { idempotency_key: key, sync_id: row.sync_id },
    );
  }
  if (row.state === "pending") {
    throw new ApiError(
      409,
      "IDEMPOTENCY_KEY_IN_PROGRESS",
      "A request with this Idempotency-Key and body is still being processed. Retry the same request shortly.",
      "conflict_error",
      { idempotency_key: key },
      "Idempotency-Key reserved by a request still running",
      { "Retry-After": String(IN_PROGRESS_RETRY_AFTER_SECONDS) },
    );
  }
  // The completion and the sync's stored result commit in one transaction, so the result is there.
  if (row.result === null) throw new Error(`Idempotency-Key completed by sync ${row.sync_id}, whose result is missing`);
  return JSON.parse(row.result) as SyncResponse;
}
