import { ApiError } from "../base/errors";
import { randomToken } from "../base/crypto";
import {
  completeIdempotencyKey,
  releaseIdempotencyKey,
  reservationFromResult,
  reservationStatements,
  type IdempotencyKeyRow,
  IDEMPOTENCY_WINDOW_MS,
} from "../db/idempotency-keys";
import { getSyncResult, loadLedgerEntries } from "../db/ledger";
import { storeFromResult, vectorStoreStatement } from "../db/vector-stores";
import { revocationStatement } from "../auth/api-keys";
import { storedSyncResponse, type SyncResponse } from "../schemas/sync";
import { Errors } from "../base/errors";
import { ledgerRequest, newSyncId, readLedger, runSync, type SyncDeps } from "../sync/engine";
import { checkOperations, countOperations } from "../sync/operations";
import {
  hashOperationBytes,
  MIN_OPERATIONS_FOR_UNCHANGED_BYTES,
  operationKeys,
  unchangedBytes,
  type UnchangedBytes,
} from "../sync/unchanged-bytes";
import { keyOf, type LedgerEntry, type RecordKey } from "../model/plan";
import { span } from "../base/profile";
import { sha256Base64 } from "../base/crypto";
import type { VectorStore } from "../model/store";
import type { ShardBookmark, SyncInput, IdempotencyRequest, SyncAccess } from "../model/store-object";
import type { CheckedOperation } from "../model/operations";

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

export interface StoreSyncDeps {
  catalog: D1Database;
  /** The ledger shard and index dependencies of a store, by its placement. */
  depsFor: (store: VectorStore) => SyncDeps & { db: D1Database };
  /**
   * The store as its object knows it (a shard move changes it), or null while a move's copy is
   * incomplete (the sync is refused 503 STORE_MOVING).
   */
  place: (store: VectorStore) => Promise<VectorStore | null>;
  /** The store's placement as last seen, so its ledger read can start with the catalog's (null: not known yet). */
  lastSeen: VectorStore | null;
  /**
   * This instance of the store's object, as the prefix of its reservation ids: a pending key of the
   * store reserved under another prefix was left by an instance that is gone, and is taken over at
   * once instead of after ABANDONED_RESERVATION_MS.
   */
  instancePrefix: string;
}

export interface StoreSyncResult {
  response: SyncResponse;
  replayed: boolean;
  /** The store's row as the catalog has it (the object keeps it for the next request's ledger read). */
  store: VectorStore;
  /** Work left for after the answer: completing the Idempotency-Key in the catalog. */
  after?: () => Promise<void>;
  /** The shard's D1 bookmark after the sync's commit: reads given it see the sync's writes. */
  bookmark?: ShardBookmark | null;
}

/**
 * A sync request in its store's object, in as few D1 round trips as it can be:
 * 1. the operations are checked (CPU; a refusal is held until the access checks have spoken);
 * 2. one catalog batch reads whether the API key is revoked and the store's row, and reserves the
 *    Idempotency-Key (only for a key not revoked and a store of the organization); at the same
 *    time the ledger read goes to the store's shard, as last seen by the object;
 * 3. revoked: 401; no such store of the organization: 404; then a refused operation: 400; a key
 *    held by another request: its answer (422, 409, or the stored result replayed);
 * 4. the sync runs (embedding, vector writes) and commits in one shard batch; the key is
 *    completed in the catalog after the answer.
 * The Idempotency-Key is reserved with one conditional insert in the catalog (atomic, so two
 * requests with one key to two stores, which run in two objects, cannot both run), fixing the
 * sync's id. A failure before the commit deletes the reservation, so the client's retry runs. A
 * pending key whose sync has committed (its completion still to come, or its worker dead) answers
 * with that sync's stored result; a pending reservation older than ABANDONED_RESERVATION_MS, or a
 * completed one older than 24 hours, is taken over by the next request.
 */
export async function runStoreSync(
  deps: StoreSyncDeps,
  access: SyncAccess,
  input: SyncInput,
  idempotency: IdempotencyRequest | null,
  options: RunOptions = {},
): Promise<StoreSyncResult> {
  const catalog = deps.catalog;
  const revocation = () => revocationStatement(catalog, access.apiKeyId);
  const checkAccess = (results: D1Result[]) => {
    if ((results[0]?.results.length ?? 0) > 0) throw Errors.invalidApiKey();
    const row = storeFromResult(results[1]);
    if (!row || row.organization_id !== access.organizationId) throw Errors.storeNotFound(access.storeId);
    return row;
  };
  // A new object does not know its store yet (its dimensions check the operations, its shard takes
  // the ledger read): one catalog read first, this once. So too for a request naming a store of
  // another organization: it is refused (401 or 404) before any work is done for it here.
  if (!deps.lastSeen || deps.lastSeen.organization_id !== access.organizationId) {
    const row = checkAccess(await catalog.batch([revocation(), vectorStoreStatement(catalog, access.storeId)]));
    deps = { ...deps, lastSeen: (await deps.place(row)) ?? row };
  }
  const dimensions = deps.lastSeen!.dimensions;

  // The unchanged-bytes path (a large body without an Idempotency-Key): the ledger rows of the
  // keys read off the operations' bytes come first, so that an operation whose bytes are its
  // record's last applied operation's is not parsed; the ledger read below skips those keys.
  const source = input.operations;
  let unchanged: UnchangedBytes | undefined;
  let prefetched: { keys: Set<string>; entries: LedgerEntry[] } | null = null;
  if (!idempotency && !Array.isArray(source) && countOperations(source) >= MIN_OPERATIONS_FOR_UNCHANGED_BYTES) {
    const keys = operationKeys(source);
    const asked = new Map<string, RecordKey>();
    for (const key of keys) if (key) asked.set(keyOf(key.namespace, key.id), key);
    const [hashes, entries] = await span("unchanged bytes: hash and ledger read", () =>
      Promise.all([hashOperationBytes(source), loadLedgerEntries(deps.depsFor(deps.lastSeen!).db, access.storeId, [...asked.values()])]),
    );
    unchanged = unchangedBytes(hashes, keys, entries);
    prefetched = { keys: new Set(asked.keys()), entries };
  }

  // Checked before anything is reserved: a body that is not JSON is refused without touching it.
  let checked: CheckedOperation[] = [];
  let operationHashes: string[] | null = null;
  let refusal: ApiError | null = null;
  try {
    ({ checked, operationHashes } = await span("check operations", () =>
      checkOperations(input.operations, input.syncTimestamp, dimensions, {
        hashOperations: idempotency !== null,
        unchanged,
      }),
    ));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    refusal = err;
  }
  // Kept only while the shard the early rows came from may prove wrong (then checked again in full).
  let recheck = unchanged ? source : null;
  if (options.consumeOperations) input.operations = [];
  let request = refusal ? null : ledgerRequest(input, checked);
  const asked = prefetched?.keys;
  const rest = request && asked ? { ...request, keys: request.keys.filter((k) => !asked.has(keyOf(k.namespace, k.id))) } : request;

  const now = Date.now();
  const reservationId = `${deps.instancePrefix}${randomToken(12)}`;
  const bodyHash = idempotency && !refusal ? await bodyHashOf(idempotency.envelope, operationHashes!) : null;
  const syncId = newSyncId();
  const statements = [
    revocation(),
    vectorStoreStatement(catalog, access.storeId),
    ...(idempotency && bodyHash
      ? reservationStatements(catalog, {
          organizationId: access.organizationId,
          key: idempotency.key,
          reservationId,
          bodyHash,
          vectorStoreId: access.storeId,
          syncId,
          apiKeyId: access.apiKeyId,
          instancePrefix: deps.instancePrefix,
          now: new Date(now).toISOString(),
          abandonedBefore: new Date(now - ABANDONED_RESERVATION_MS).toISOString(),
          expiredBefore: new Date(now - IDEMPOTENCY_WINDOW_MS).toISOString(),
        })
      : []),
  ];
  // The ledger read, beside the catalog's: on the shard the store was last seen on.
  const guess = deps.lastSeen!;
  const early = rest ? settle(readLedger(deps.depsFor(guess).db, access.storeId, rest)) : null;
  const results = await span("access and key (catalog)", () => catalog.batch(statements));

  const row = checkAccess(results);
  if (refusal) throw refusal;
  const store = await deps.place(row);
  if (!store) {
    // Nothing was applied: the key reserved above is freed for the retry the 503 asks for.
    const mine = idempotency ? reservationFromResult(results[3]) : null;
    if (idempotency && mine?.reservation_id === reservationId) {
      await releaseIdempotencyKey(catalog, access.organizationId, idempotency.key, reservationId);
    }
    throw storeMoving(access.storeId);
  }
  const shardDeps = deps.depsFor(store);
  // The commit goes through a session of the shard, whose bookmark the answer carries.
  const session = typeof shardDeps.db.withSession === "function" ? shardDeps.db.withSession("first-primary") : null;
  const storeDeps = { ...shardDeps, db: session ?? shardDeps.db };
  const bookmark = () => {
    const b = session?.getBookmark() ?? null;
    return b === null ? null : { shard: store.ledger_shard, bookmark: b };
  };

  if (recheck && guess.ledger_shard !== store.ledger_shard) {
    // The early rows came from the wrong shard: what they made known unchanged is checked in full.
    ({ checked } = await checkOperations(recheck, input.syncTimestamp, dimensions));
    request = ledgerRequest(input, checked);
    prefetched = null;
  }
  recheck = null;
  const ledgerFor = async () => {
    const got = early && guess.ledger_shard === store.ledger_shard ? await early : null;
    if (got && "value" in got) {
      const ledger = got.value;
      if (prefetched) {
        const wanted = new Set(request!.keys.map((k) => keyOf(k.namespace, k.id)));
        ledger.entries = [...prefetched.entries.filter((e) => wanted.has(keyOf(e.namespace, e.id))), ...ledger.entries];
      }
      return { request: request!, ledger };
    }
    return { request: request!, ledger: await readLedger(storeDeps.db, store.id, request!) };
  };

  if (!idempotency) {
    const response = await runSync(storeDeps, store, input, { checked, ...(await ledgerFor()), syncId });
    return { response, replayed: false, store, bookmark: bookmark() };
  }
  const key = reservationFromResult(results[3]);
  if (!key) throw new Error("Idempotency-Key reservation: the key's row is missing right after its insert");
  if (key.reservation_id !== reservationId) {
    return { response: await answerHeldKey(shardDeps.db, key, idempotency.key, bodyHash!), replayed: true, store };
  }
  const { organizationId } = access;
  // Completed as of no later than its sync's commit: the 24 hours of replay (from completed_at) end
  // before the sync's stored result may expire (SYNC_RESULT_RETENTION_DAYS, at least 1).
  const complete = (at: string) => () => completeIdempotencyKey(catalog, organizationId, idempotency.key, reservationId, at);

  // Taken over from an abandoned reservation of this body (it kept that one's sync id): its sync
  // may have committed. A fresh reservation has this request's own id, and nothing to look for.
  const committed = key.sync_id === syncId ? null : await getSyncResult(shardDeps.db, key.sync_id);
  if (committed) {
    return { response: JSON.parse(committed.result) as SyncResponse, replayed: true, store, after: complete(committed.created_at) };
  }
  const startedAt = new Date().toISOString();

  let response: SyncResponse;
  try {
    response = await runSync(storeDeps, store, input, { checked, ...(await ledgerFor()), syncId: key.sync_id });
  } catch (err) {
    await settleFailedRun(shardDeps.db, catalog, store, idempotency, reservationId, key.sync_id, complete(startedAt));
    throw err;
  }
  // The sync committed: its answer stands. The key is completed after the answer; until then (or
  // should that fail) a request with this key and body finds the committed sync and replays it.
  return { response, replayed: false, store, after: complete(startedAt), bookmark: bookmark() };
}

/** A promise that never rejects (a read started early whose result may not be wanted). */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Retry-After (seconds) of a request refused while its store's ledger is being copied to another shard. */
export const STORE_MOVING_RETRY_AFTER_SECONDS = 30;

export function storeMoving(storeId: string): ApiError {
  return new ApiError(
    503,
    "STORE_MOVING",
    "This vector store's ledger is being moved to another shard; nothing was applied. Retry the request shortly.",
    "api_error",
    { vector_store_id: storeId },
    "Store ledger move in progress",
    { "Retry-After": String(STORE_MOVING_RETRY_AFTER_SECONDS) },
  );
}

function warn(event: string, storeId: string, err: unknown) {
  console.warn(JSON.stringify({ level: "warn", event, vector_store_id: storeId, message: String(err).slice(0, 300) }));
}

/** A sync's stored answer in the ledger shard, or null when it never committed. */
async function storedResult(db: D1Database, syncId: string): Promise<SyncResponse | null> {
  const row = await getSyncResult(db, syncId);
  return row ? storedSyncResponse(row.result) : null;
}

/**
 * After a failed run: had the commit gone through after all (an error on its way back), the key
 * is completed; otherwise it is freed for the client's retry. Should that check fail too, the
 * reservation is left to lapse as abandoned (the takeover then checks again).
 */
async function settleFailedRun(
  db: D1Database,
  catalog: D1Database,
  store: VectorStore,
  idempotency: IdempotencyRequest,
  reservationId: string,
  syncId: string,
  complete: () => Promise<void>,
) {
  try {
    if (await getSyncResult(db, syncId)) await complete();
    else await releaseIdempotencyKey(catalog, idempotency.organizationId, idempotency.key, reservationId);
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
    // Its sync may have committed already (the key is completed after the answer): then it is done.
    const committed = await storedResult(db, row.sync_id);
    if (committed) return committed;
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
