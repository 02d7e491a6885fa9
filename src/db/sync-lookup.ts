// Finding a sync's stored result by its id alone (GET /v1/connectors/pipeline/syncs/{id}): the id
// does not say which store, so which ledger shard, it belongs to. The catalog names the shards
// holding the organization's stores (one, for most organizations), and those are read in parallel.
import type { Bindings } from "../env";
import { getSyncResult } from "./ledger";
import { ledgerOf } from "./placement";
import { getVectorStore, shardsOfOrganization, type VectorStore } from "./vector-stores";

export type SyncResultRow = NonNullable<Awaited<ReturnType<typeof getSyncResult>>>;

/** The organization's sync of this id with its store (for the store's index), or null. */
export async function findSyncResult(
  env: Bindings,
  organizationId: string,
  syncId: string,
): Promise<(SyncResultRow & { store: VectorStore }) | null> {
  const shards = await shardsOfOrganization(env.DB, organizationId);
  const rows = await Promise.all(shards.map((shard) => getSyncResult(ledgerOf(env, { ledger_shard: shard }), syncId)));
  const row = rows.find((r) => r !== null && r.organization_id === organizationId);
  if (!row) return null;
  const store = await getVectorStore(env.DB, row.vector_store_id);
  return store ? { ...row, store } : null;
}
