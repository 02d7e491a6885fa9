// Finding a sync's stored result by its id alone (GET /v1/connectors/pipeline/syncs/{id}): the id
// does not say which store, so which ledger shard, it belongs to. The catalog names the shards
// holding the organization's stores (one, for most organizations), and those are read in parallel.
import type { Bindings } from "../env";
import { getSyncResult } from "./ledger";
import { ledgerOf, ledgerShards } from "./placement";
import { readSession, type D1Reader } from "./sessions";
import { ExpiringMap } from "../base/memo";
import { cachedStore } from "./store-cache";
import { shardsOfOrganization } from "./vector-stores";
import type { ShardBookmark } from "../model/store-object";
import type { VectorStore } from "../model/store";

export type SyncResultRow = NonNullable<Awaited<ReturnType<typeof getSyncResult>>>;

/** How long the shards of an organization's stores are kept in memory, and for how many organizations. */
const SHARDS_TTL_MS = 30_000;
const SHARDS_MAX = 10_000;
const shardsByOrganization = new ExpiringMap<number[]>(SHARDS_TTL_MS, SHARDS_MAX);

/**
 * The shards holding an organization's stores, from memory or a replica. Either may be behind (a
 * store just created on another shard): the lookup then finds nothing there and asks the primary.
 */
async function knownShards(catalog: D1Reader, organizationId: string, now = Date.now()): Promise<number[]> {
  const hit = shardsByOrganization.get(organizationId, now);
  if (hit) return hit;
  const shards = await shardsOfOrganization(catalog, organizationId);
  // None (a replica that has not seen the organization's first store yet): not kept.
  if (shards.length > 0) shardsByOrganization.set(organizationId, shards, now);
  return shards;
}

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
  // A replica that fails (or refuses a forged bookmark) is not the client's problem: the primaries answer.
  const fromReplicas = await lookup(
    env,
    (org) => knownShards(readSession(env.DB), org),
    (n) => readSession(shard(n), bookmark?.shard === n ? bookmark.bookmark : null),
    bookmark && ledgerShards(env).includes(bookmark.shard) ? [bookmark.shard] : [],
  ).catch(() => null);
  return fromReplicas ?? (await lookup(env, (org) => shardsOfOrganization(env.DB, org), shard, []));

  async function lookup(
    env: Bindings,
    shardsOf: (organizationId: string) => Promise<number[]>,
    reader: (shard: number) => D1Reader,
    also: number[],
  ) {
    const shards = [...new Set([...(await shardsOf(organizationId)), ...also])];
    const rows = await Promise.all(shards.map((n) => getSyncResult(reader(n), syncId)));
    const row = rows.find((r) => r !== null && r.organization_id === organizationId);
    if (!row) return null;
    const store = await cachedStore(env.DB, row.vector_store_id);
    return store ? { ...row, store } : null;
  }
}
