// Finding a sync's stored result by its id alone (GET /v1/connectors/pipeline/syncs/{id}): the id
// does not say which store, so which ledger shard, it belongs to. The catalog names the shards
// holding the organization's stores (one, for most organizations), and those are read in parallel.
import type { Bindings } from "../env";
import { getSyncResult } from "./ledger";
import { ledgerOf, ledgerShards } from "./placement";
import { readSession, type D1Reader, type ShardBookmark } from "./sessions";
import { cachedStore } from "./store-cache";
import { shardsOfOrganization, type VectorStore } from "./vector-stores";

export type SyncResultRow = NonNullable<Awaited<ReturnType<typeof getSyncResult>>>;

/**
 * The organization's sync of this id with its store (for the store's index), or null. Read from
 * replicas (for its shard, from the client's bookmark when given) and, when they have nothing,
 * from the primaries: a just-committed sync is never reported missing because a replica lags.
 */
export async function findSyncResult(
  env: Bindings,
  organizationId: string,
  syncId: string,
  bookmark: ShardBookmark | null = null,
): Promise<(SyncResultRow & { store: VectorStore }) | null> {
  const shard = (n: number) => ledgerOf(env, { ledger_shard: n });
  // The bookmark's shard is read too: the client says its sync is there, whatever a replica lists.
  const fromReplicas = await lookup(
    env,
    readSession(env.DB),
    (n) => readSession(shard(n), bookmark?.shard === n ? bookmark.bookmark : null),
    bookmark && ledgerShards(env).includes(bookmark.shard) ? [bookmark.shard] : [],
  );
  return fromReplicas ?? (await lookup(env, env.DB, shard, []));

  async function lookup(env: Bindings, catalog: D1Reader, reader: (shard: number) => D1Reader, also: number[]) {
    const shards = [...new Set([...(await shardsOfOrganization(catalog, organizationId)), ...also])];
    const rows = await Promise.all(shards.map((n) => getSyncResult(reader(n), syncId)));
    const row = rows.find((r) => r !== null && r.organization_id === organizationId);
    if (!row) return null;
    const store = await cachedStore(env.DB, row.vector_store_id);
    return store ? { ...row, store } : null;
  }
}
