// The engine's runSync takes its operations checked and its ledger read, as the store's object
// (runStoreSync) gives them. Tests that drive the engine directly, without the object and its
// catalog (a D1 spy, injected faults), prepare a sync the same way here.
import type { VectorStore } from "../../src/model/store";
import type { SyncInput } from "../../src/model/store-object";
import { checkOperations } from "../../src/sync/operations";
import { ledgerRequest, newSyncId, readLedger, runSync, type SyncDeps } from "../../src/sync/engine";

export async function checkAndRunSync(deps: SyncDeps, store: VectorStore, input: SyncInput) {
  const { checked } = await checkOperations(input.operations, input.syncTimestamp, store.dimensions);
  const request = ledgerRequest(input, checked);
  const ledger = await readLedger(deps.db, store.id, request);
  return runSync(deps, store, input, { checked, request, ledger, syncId: newSyncId() });
}
