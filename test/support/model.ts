import { expect } from "vitest";
import { expectIndexMatchesLedger } from "./stand-ins";
import { ledgerOfStore } from "./placement";

/** A sync request as the model sees it: operations without updated_at, so the version is `ts`. */
export interface ModelRequest {
  mode: "incremental" | "full_refresh";
  ts: string;
  ops: { action: "upsert" | "delete"; id: string; namespace: string; data?: Record<string, unknown> }[];
}

/**
 * The semantics, as simply as they can be said: apply the requests in timestamp order; an
 * upsert sets, a delete removes; a full_refresh then removes every record of the namespaces it
 * names that it did not name itself.
 */
export function applyModel(requests: ModelRequest[]): Map<string, Record<string, unknown>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const request of [...requests].sort((a, b) => a.ts.localeCompare(b.ts))) {
    const named = new Set<string>();
    const namespaces = new Set<string>();
    for (const op of request.ops) {
      const key = `${op.namespace}/${op.id}`;
      named.add(key);
      namespaces.add(op.namespace);
      if (op.action === "upsert") state.set(key, op.data!);
      else state.delete(key);
    }
    if (request.mode === "full_refresh") {
      for (const key of [...state.keys()]) {
        if (namespaces.has(key.split("/")[0]!) && !named.has(key)) state.delete(key);
      }
    }
  }
  return state;
}

/** The ledger of a store as the model's map. */
export async function ledgerState(store: string): Promise<Map<string, unknown>> {
  const { results } = await (await ledgerOfStore(store))
    .prepare("SELECT namespace, id, data FROM records WHERE vector_store_id = ?1 AND deleted = 0")
    .bind(store)
    .all<{ namespace: string; id: string; data: string }>();
  return new Map(results.map((r) => [`${r.namespace}/${r.id}`, JSON.parse(r.data)]));
}

/** Ledger equals the model, and the index holds exactly the ledger's vectors. */
export async function expectStoreMatchesModel(
  store: string,
  requests: ModelRequest[],
  dump?: Parameters<typeof expectIndexMatchesLedger>[1],
): Promise<void> {
  const expected = applyModel(requests);
  const actual = await ledgerState(store);
  expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
  await expectIndexMatchesLedger(store, dump);
}
