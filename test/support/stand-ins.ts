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
  await expectKeywordsMatchLedger(store);
  return actual.length;
}

const hex = (text: string) => [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("");

/**
 * The keyword index must hold exactly the ledger's searchable chunks for a store: every chunk of
 * every live record under its store's and namespace's scope, and nothing else in that scope
 * (the rows a MATCH on the store's scope token finds are the ones a keyword search can find).
 */
export async function expectKeywordsMatchLedger(store: string): Promise<void> {
  const db = await ledgerOfStore(store);
  const { results: live } = await db
    .prepare("SELECT namespace, id, chunk_count, body_id FROM record_state WHERE vector_store_id = ?1 AND deleted = 0")
    .bind(store)
    .all<{ namespace: string; id: string; chunk_count: number; body_id: number }>();
  const expected = new Set<string>();
  const byBody = new Map<number, { namespace: string; id: string }>();
  for (const r of live) {
    byBody.set(r.body_id, r);
    for (let chunk = 0; chunk < r.chunk_count; chunk++) expected.add(JSON.stringify([r.namespace, r.id, chunk]));
  }
  const { results: rows } = await db
    .prepare("SELECT rowid FROM chunk_keywords WHERE chunk_keywords MATCH ?1")
    .bind(`scope : "s${hex(store)}"`)
    .all<{ rowid: number }>();
  const actual = rows.map(({ rowid }) => {
    const record = byBody.get(Math.floor(rowid / 256));
    return JSON.stringify(record ? [record.namespace, record.id, rowid % 256] : ["(no live record)", String(rowid)]);
  });
  expect(actual.length).toBe(new Set(actual).size);
  expect(new Set(actual)).toEqual(expected);
  // Each row also carries its namespace's scope token.
  for (const r of live.filter((l) => l.chunk_count > 0).slice(0, 20)) {
    const { results: inNamespace } = await db
      .prepare("SELECT rowid FROM chunk_keywords WHERE chunk_keywords MATCH ?1 AND rowid BETWEEN ?2 AND ?3")
      .bind(`scope : "s${hex(store)}" AND scope : "n${hex(r.namespace)}"`, r.body_id * 256, r.body_id * 256 + 255)
      .all();
    expect(inNamespace.length).toBe(r.chunk_count);
  }
}
