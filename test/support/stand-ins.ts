import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { FaultPlan, StandInStats } from "../../src/local/faults";
import { recordVectorStem, vectorIds, vectorNamespace } from "../../src/vectors/ids";
import { indexOfStore, ledgerOfStore } from "./placement";

/** The test-only switches of the local stand-ins, reached through their bindings (RPC). */
interface Switches {
  setFaults(plan: FaultPlan): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<StandInStats>;
  resetStats(): Promise<void>;
}
export const ai = env.AI as unknown as Switches;
export const index = env.VECTORIZE as unknown as Switches &
  Vectorize & {
    dump(): Promise<{ id: string; namespace: string | null; vector_store_id: string; record_id: string; chunk: number }[]>;
  };

/** Counts the stand-ins' calls made while `fn` runs. */
export async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; stats: StandInStats }> {
  await ai.resetStats();
  const result = await fn();
  return { result, stats: await ai.stats() };
}

/** The index must hold exactly the vectors the ledger expects for a store: no ghosts, no gaps. */
type Dump = () =>
  | Promise<{ id: string; namespace: string | null; vector_store_id: string }[]>
  | { id: string; namespace: string | null; vector_store_id: string }[];

export async function expectIndexMatchesLedger(store: string, dump?: Dump): Promise<number> {
  const storeIndex = await indexOfStore(store);
  const { results } = await (await ledgerOfStore(store))
    .prepare("SELECT namespace, id, chunk_count FROM records WHERE vector_store_id = ?1 AND deleted = 0")
    .bind(store)
    .all<{ namespace: string; id: string; chunk_count: number }>();
  const expected = new Map<string, string>();
  for (const r of results) {
    const ns = await vectorNamespace(store, r.namespace);
    for (const id of vectorIds(await recordVectorStem(store, r.namespace, r.id), 0, r.chunk_count)) expected.set(id, ns);
  }
  const actual = (await (dump ?? (() => storeIndex.dump()))()).filter((v) => v.vector_store_id === store);
  expect(new Set(actual.map((v) => v.id))).toEqual(new Set(expected.keys()));
  for (const v of actual) expect(v.namespace).toBe(expected.get(v.id));
  return actual.length;
}
