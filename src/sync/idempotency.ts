import { ApiError } from "../errors";
import { randomToken } from "../crypto";
import type { VectorStore } from "../db/vector-stores";
import { completeIdempotencyKey, releaseIdempotencyKey, reserveIdempotencyKey, type IdempotencyKeyRow } from "../db/idempotency-keys";
import { getSyncResult } from "../db/ledger";
import type { SyncResponse } from "../schemas/sync";
import { newSyncId, runSync, type SyncDeps, type SyncInput } from "./engine";
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
 * organization with one conditional insert in the catalog (atomic, so two requests with one key
 * to two stores, which run in two Durable Objects, cannot both run), fixing the sync's id. Then:
 * - reserved: the sync runs and commits in the store's ledger shard, then the key is completed in
 *   the catalog; a failure before the commit deletes the reservation, so the client's retry runs;
 * - another request holds the key, with another body: 422 IDEMPOTENCY_KEY_REUSED;
 * - it holds it with this body and is still running: 409 IDEMPOTENCY_KEY_IN_PROGRESS, Retry-After;
 * - it completed with this body within 24 hours: its stored result (same sync_id), replayed
 *   without applying anything again.
 * A pending reservation older than ABANDONED_RESERVATION_MS, or a completed one older than 24
 * hours, is taken over by the next request; an abandoned one whose sync had committed (its worker
 * died before completing the key) is completed and answered with that sync's result.
 */
export async function runIdempotentSync(
  deps: SyncDeps & { catalog: D1Database },
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
  const { organizationId, key } = idempotency;

  const now = Date.now();
  const reservationId = `idr_${randomToken(12)}`;
  const row = await span("idempotency key reserve", () =>
    reserveIdempotencyKey(deps.catalog, {
      organizationId,
      key,
      reservationId,
      bodyHash,
      vectorStoreId: store.id,
      syncId: newSyncId(),
      now: new Date(now).toISOString(),
      abandonedBefore: new Date(now - ABANDONED_RESERVATION_MS).toISOString(),
      expiredBefore: new Date(now - IDEMPOTENCY_WINDOW_MS).toISOString(),
    }),
  );
  if (!row) throw new Error("Idempotency-Key reservation: the key's row is missing right after its insert");
  if (row.reservation_id !== reservationId) return { response: await answerHeldKey(deps.db, row, key, bodyHash), replayed: true };
  const complete = () => completeIdempotencyKey(deps.catalog, organizationId, key, reservationId, new Date().toISOString());

  // Taken over from an abandoned reservation of this body: its sync may have committed.
  const committed = await storedResult(deps.db, row.sync_id);
  if (committed) {
    await complete();
    return { response: committed, replayed: true };
  }

  let response: SyncResponse;
  try {
    response = await runSync(deps, store, input, row.sync_id, checked);
  } catch (err) {
    await settleFailedRun(deps, store, idempotency, reservationId, row.sync_id, complete);
    throw err;
  }
  try {
    await complete();
  } catch (err) {
    // The sync committed: its answer stands. The key stays pending until it lapses as abandoned;
    // the request that then takes it over finds this sync and answers with it.
    warn("idempotency_complete_failed", store.id, err);
  }
  return { response, replayed: false };
}

function warn(event: string, storeId: string, err: unknown) {
  console.warn(JSON.stringify({ level: "warn", event, vector_store_id: storeId, message: String(err).slice(0, 300) }));
}

/** A sync's stored answer in the ledger shard, or null when it never committed. */
async function storedResult(db: D1Database, syncId: string): Promise<SyncResponse | null> {
  const row = await getSyncResult(db, syncId);
  return row ? (JSON.parse(row.result) as SyncResponse) : null;
}

/**
 * After a failed run: had the commit gone through after all (an error on its way back), the key
 * is completed; otherwise it is freed for the client's retry. Should that check fail too, the
 * reservation is left to lapse as abandoned (the takeover then checks again).
 */
async function settleFailedRun(
  deps: SyncDeps & { catalog: D1Database },
  store: VectorStore,
  idempotency: IdempotencyRequest,
  reservationId: string,
  syncId: string,
  complete: () => Promise<void>,
) {
  try {
    if (await getSyncResult(deps.db, syncId)) await complete();
    else await releaseIdempotencyKey(deps.catalog, idempotency.organizationId, idempotency.key, reservationId);
  } catch (err) {
    warn("idempotency_release_failed", store.id, err);
  }
}

/** The answer for a key another request holds: its stored result, or why this one may not run. */
async function answerHeldKey(db: D1Database, row: IdempotencyKeyRow, key: string, bodyHash: string): Promise<SyncResponse> {
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
  // Completed only after its sync committed; the body (so the store) is this request's, and a
  // store's syncs follow it to another shard, so its shard holds the result (kept >= 24 h).
  const result = await storedResult(db, row.sync_id);
  if (result === null) throw new Error(`Idempotency-Key completed by sync ${row.sync_id}, whose result is missing`);
  return result;
}
