import { env } from "cloudflare:workers";
import { indexBindingName, ledgerBindingName } from "../../src/db/placement";
import type { index as Index } from "./stand-ins";

/** A store's placement as the catalog records it. */
export async function placementOf(store: string): Promise<{ ledger_shard: number; index: number }> {
  const row = await env.DB.prepare("SELECT ledger_shard, vector_index FROM vector_stores WHERE id = ?1")
    .bind(store)
    .first<{ ledger_shard: number; vector_index: number }>();
  if (!row) throw new Error(`no vector store ${store}`);
  return { ledger_shard: row.ledger_shard, index: row.vector_index };
}

/** The ledger database of a store (its shard): where tests read what the ledger holds. */
export async function ledgerOfStore(store: string): Promise<D1Database> {
  return (env as unknown as Record<string, D1Database>)[ledgerBindingName((await placementOf(store)).ledger_shard)]!;
}

/** The local index stand-in holding a store's vectors. */
export async function indexOfStore(store: string): Promise<typeof Index> {
  return (env as unknown as Record<string, typeof Index>)[indexBindingName((await placementOf(store)).index)]!;
}
