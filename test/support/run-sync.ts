// The engine's runSync takes its operations checked and its ledger read, as the store's object
// (runStoreSync) gives them. Tests that drive the engine directly, without the object and its
// catalog (a D1 spy, injected faults), prepare a sync the same way here.
import type { VectorStore } from "../../src/model/store";
import { getVectorStore, insertVectorStore } from "../../src/db/vector-stores";
import type { SyncInput } from "../../src/model/store-object";
import { checkOperations } from "../../src/sync/operations";
import { splitSyncBody } from "../../src/base/json/sync-body";
import { loadLedgerEntries } from "../../src/db/ledger";
import { keyOf, type LedgerEntry, type RecordKey } from "../../src/model/plan";
import { hashOperationBytes, operationKeys, unchangedBytes, type UnchangedBytes } from "../../src/sync/unchanged-bytes";
import { ledgerRequest, newSyncId, readLedger, runSync, type SyncDeps } from "../../src/sync/engine";

/** A store of the bge-base defaults on shard 0 and index 0, written to the catalog directly (no admin route). */
export async function insertTestStore(catalog: D1Database, id: string, organizationId: string): Promise<VectorStore> {
  await insertVectorStore(catalog, {
    id,
    organization_id: organizationId,
    name: id,
    created_at: new Date().toISOString(),
    embedding_model: "@cf/baai/bge-base-en-v1.5",
    dimensions: 768,
    text_fields: null,
    metadata_fields: null,
    ledger_shard: 0,
    index: 0,
  });
  return (await getVectorStore(catalog, id))!;
}

export async function checkAndRunSync(deps: SyncDeps, store: VectorStore, input: SyncInput) {
  const { checked } = await checkOperations(input.operations, input.syncTimestamp, store.dimensions);
  const request = ledgerRequest(input, checked);
  const ledger = await readLedger(deps.db, store.id, request);
  return runSync(deps, store, input, { checked, request, ledger, syncId: newSyncId() });
}

/**
 * The same from a body's bytes, as the Worker hands them over, with the unchanged-bytes path on or
 * off: on, the keys' ledger rows are read first and operations whose bytes are their record's last
 * applied operation's are not parsed, as runStoreSync does for a large body (at any size here).
 */
export async function checkAndRunSyncFromBytes(
  deps: SyncDeps,
  store: VectorStore,
  input: Omit<SyncInput, "operations"> & { operations: unknown[] },
  unchangedBytesPath: boolean,
) {
  const split = splitSyncBody(new TextEncoder().encode(JSON.stringify({ operations: input.operations })));
  if (split.kind !== "split") throw new Error(`the body scan declined: ${split.kind}`);
  const source = split.operations;
  let unchanged: UnchangedBytes | undefined;
  let asked = new Set<string>();
  let prefetched: LedgerEntry[] = [];
  if (unchangedBytesPath) {
    const keys = operationKeys(source);
    const unique = new Map<string, RecordKey>();
    for (const k of keys) if (k) unique.set(keyOf(k.namespace, k.id), k);
    asked = new Set(unique.keys());
    prefetched = await loadLedgerEntries(deps.db, store.id, [...unique.values()]);
    unchanged = unchangedBytes(await hashOperationBytes(source), keys, prefetched);
  }
  const bytesInput = { ...input, operations: source };
  const { checked } = await checkOperations(source, input.syncTimestamp, store.dimensions, { unchanged });
  const request = ledgerRequest(bytesInput, checked);
  const ledger = await readLedger(deps.db, store.id, {
    ...request,
    keys: request.keys.filter((k) => !asked.has(keyOf(k.namespace, k.id))),
  });
  const wanted = new Set(request.keys.map((k) => keyOf(k.namespace, k.id)));
  ledger.entries = [...prefetched.filter((e) => wanted.has(keyOf(e.namespace, e.id))), ...ledger.entries];
  const unread = checked.filter((op) => op.ok && op.unread).length;
  return { response: await runSync(deps, store, bytesInput, { checked, request, ledger, syncId: newSyncId() }), unread };
}
