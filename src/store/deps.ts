import type { Bindings } from "../env";
import { indexOf, ledgerOf } from "../db/placement";
import { defaultSleep, type RetryPolicy } from "../base/retry";
import type { VectorDeps } from "../vectors/vector-sync";
import type { Placement } from "../model/store";

export function retryPolicy(env: Pick<Bindings, "UPSTREAM_RETRY_BASE_MS">): RetryPolicy {
  const base = Number(env.UPSTREAM_RETRY_BASE_MS ?? "200");
  return { attempts: 4, baseDelayMs: Number.isFinite(base) ? base : 200, sleep: defaultSleep };
}

/** The embedding and index dependencies of a store's syncs and searches: its own index. */
export function vectorDeps(env: Bindings, store: Pick<Placement, "index">): VectorDeps {
  const inFlight = Number(env.EMBED_CALLS_IN_FLIGHT);
  return {
    ai: env.AI,
    index: indexOf(env, store),
    retry: retryPolicy(env),
    ...(Number.isInteger(inFlight) && inFlight >= 1 ? { embedCallsInFlight: inFlight } : {}),
  };
}

/**
 * Everything a store's sync, search, reconciliation or namespace deletion works with, routed by its
 * placement: its ledger shard (db), the catalog (for Idempotency-Keys) and its index.
 */
export function storeDeps(env: Bindings, store: Placement): VectorDeps & { db: D1Database; catalog: D1Database } {
  return { db: ledgerOf(env, store), catalog: env.DB, ...vectorDeps(env, store) };
}
