// Where a vector store lives: its ledger shard (a D1 database bound as LEDGER_<n>) and its
// Vectorize index (VECTORIZE for index 0, VECTORIZE_<n> for the others), chosen when the store is
// created and recorded in the catalog (the database bound as DB, vector_stores.ledger_shard and
// .vector_index). Every ledger read and write of a store goes to its shard and every vector
// operation to its index, so stores on different shards never wait for one another's commits.
// The pools are whatever wrangler.toml binds: adding a shard or an index is a binding and a
// deploy (docs/storage.md); existing stores stay where they are.
import type { Bindings } from "../env";
import type { VectorIndexBinding } from "../model/bindings";
import type { Placement } from "../model/store";

const LEDGER_BINDING = /^LEDGER_(0|[1-9]\d{0,3})$/;
const INDEX_BINDING = /^VECTORIZE(?:_([1-9]\d{0,3}))?$/;

export function ledgerBindingName(shard: number): string {
  return `LEDGER_${shard}`;
}

export function indexBindingName(index: number): string {
  return index === 0 ? "VECTORIZE" : `VECTORIZE_${index}`;
}

function bound(env: Bindings, name: string): unknown {
  return (env as unknown as Record<string, unknown>)[name];
}

/** The shard numbers of the LEDGER_<n> bindings, ascending. */
export function ledgerShards(env: Bindings): number[] {
  return Object.keys(env)
    .flatMap((name) => {
      const m = LEDGER_BINDING.exec(name);
      return m && bound(env, name) ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/** The index numbers of the VECTORIZE bindings, ascending. */
export function vectorIndexes(env: Bindings): number[] {
  return Object.keys(env)
    .flatMap((name) => {
      const m = INDEX_BINDING.exec(name);
      return m && bound(env, name) ? [m[1] === undefined ? 0 : Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/**
 * Indexes kept out of automatic placement (DEDICATED_VECTOR_INDEXES, e.g. "2,3"): each is given
 * to a store only when its creation asks for it (a large tenant, or one with its own metadata
 * indexes for filtering).
 */
export function dedicatedIndexes(env: Bindings): Set<number> {
  const out = new Set<number>();
  for (const part of (env.DEDICATED_VECTOR_INDEXES ?? "").split(",")) {
    const n = Number(part.trim());
    if (part.trim() !== "" && Number.isInteger(n)) out.add(n);
  }
  return out;
}

/** A placement's binding is missing: the deploy dropped a shard or index that still has stores. */
export class PlacementError extends Error {}

/** The ledger database of a store's shard. */
export function ledgerOf(env: Bindings, store: { ledger_shard: number }): D1Database {
  const db = bound(env, ledgerBindingName(store.ledger_shard));
  if (!db) throw new PlacementError(`ledger shard ${store.ledger_shard} is not bound (no ${ledgerBindingName(store.ledger_shard)})`);
  return db as D1Database;
}

/** The Vectorize index of a store. */
export function indexOf(env: Bindings, store: { index: number }): VectorIndexBinding {
  const index = bound(env, indexBindingName(store.index));
  if (!index) throw new PlacementError(`vector index ${store.index} is not bound (no ${indexBindingName(store.index)})`);
  return index as VectorIndexBinding;
}

/**
 * Sizes within this much count as equal when placing: a store goes to the least full shard, and
 * among shards about as full (sizes are measured every 30 minutes, so a burst of new stores,
 * still empty, would otherwise all land on one), to the one with the fewest stores.
 */
export const SIZE_BUCKET_BYTES = 256 * 1024 * 1024;

const COUNT_BY_SHARD = "SELECT ledger_shard AS n, count(*) AS stores FROM vector_stores GROUP BY ledger_shard";
const COUNT_BY_INDEX = "SELECT vector_index AS n, count(*) AS stores FROM vector_stores GROUP BY vector_index";
const SHARD_SIZES = "SELECT shard AS n, size_bytes FROM ledger_shards";

/** The choice among candidates by (size bucket, stores, number): pure, for tests. */
export function leastFull(candidates: number[], stores: Map<number, number>, sizes: Map<number, number> = new Map()): number {
  const score = (n: number) => [Math.floor((sizes.get(n) ?? 0) / SIZE_BUCKET_BYTES), stores.get(n) ?? 0, n] as const;
  let best = candidates[0]!;
  for (const n of candidates.slice(1)) {
    const [a, b] = [score(n), score(best)];
    if (a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))) best = n;
  }
  return best;
}

/**
 * Chooses a new store's placement from the catalog's counts (one round trip): the least full
 * ledger shard, and the requested index or else the pool index with the fewest stores.
 */
export async function placeNewStore(env: Bindings, requestedIndex: number | undefined): Promise<Placement> {
  const shards = ledgerShards(env);
  if (shards.length === 0) throw new PlacementError("no ledger shard is bound (LEDGER_0 at least)");
  const dedicated = dedicatedIndexes(env);
  const pool = vectorIndexes(env).filter((n) => !dedicated.has(n));
  if (requestedIndex === undefined && pool.length === 0) throw new PlacementError("no vector index is open to placement");
  const [byShard, byIndex, sizes] = await env.DB.batch<{ n: number; stores?: number; size_bytes?: number }>([
    env.DB.prepare(COUNT_BY_SHARD),
    env.DB.prepare(COUNT_BY_INDEX),
    env.DB.prepare(SHARD_SIZES),
  ]);
  const counts = (rows: { n: number; stores?: number }[]) => new Map(rows.map((r) => [Number(r.n), Number(r.stores)]));
  return {
    ledger_shard: leastFull(shards, counts(byShard!.results), new Map(sizes!.results.map((r) => [Number(r.n), Number(r.size_bytes)]))),
    index: requestedIndex ?? leastFull(pool, counts(byIndex!.results)),
  };
}

/**
 * Measures every ledger shard (D1 reports a database's size with each query's result) and records
 * the sizes in the catalog, for placement. On the Cron Trigger: one query per shard, in parallel,
 * and one write.
 */
export async function measureLedgerShards(env: Bindings, now = new Date()): Promise<{ shard: number; size_bytes: number }[]> {
  const sizes = await Promise.all(
    ledgerShards(env).map(async (shard) => {
      const result = await ledgerOf(env, { ledger_shard: shard }).prepare("SELECT 1").run();
      return { shard, size_bytes: Number(result.meta.size_after ?? 0) };
    }),
  );
  if (sizes.length > 0) {
    await env.DB.prepare(`INSERT INTO ledger_shards (shard, size_bytes, measured_at)
                          SELECT j.value ->> 0, j.value ->> 1, ?2 FROM json_each(?1) j WHERE true
                          ON CONFLICT (shard) DO UPDATE SET size_bytes = excluded.size_bytes, measured_at = excluded.measured_at`)
      .bind(JSON.stringify(sizes.map((s) => [s.shard, s.size_bytes])), now.toISOString())
      .run();
  }
  return sizes;
}
