import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { getVectorStore } from "../src/db/vector-stores";
import { checkAndRunSync } from "./support/run-sync";
import { retryPolicy } from "../src/store/deps";
import { hashEmbedding } from "../src/local/hash-embedding";
import { createTenant } from "./support/helpers";
import { expectIndexMatchesLedger } from "./support/stand-ins";
import { indexOfStore, ledgerOfStore } from "./support/placement";
import type { EmbeddingBinding, IndexVector, VectorIndexBinding } from "../src/model/bindings";

const utf8 = new TextEncoder();

/** Spies on the production binding path: what the engine sends to AI.run and VECTORIZE.*. */
function spies(target: VectorIndexBinding = env.VECTORIZE) {
  const calls = { texts: [] as number[], models: new Set<string>(), upserts: [] as IndexVector[][], deletes: [] as string[][] };
  const ai: EmbeddingBinding = {
    run: (model, inputs) => {
      calls.models.add(model);
      calls.texts.push(inputs.text.length);
      return env.AI.run(model, inputs);
    },
  };
  const index: VectorIndexBinding = {
    upsert: (vectors) => {
      calls.upserts.push(vectors);
      return target.upsert(vectors);
    },
    deleteByIds: (ids) => {
      calls.deletes.push(ids);
      return target.deleteByIds(ids);
    },
    getByIds: (ids) => target.getByIds(ids),
    query: (v, o) => target.query(v, o),
    describe: () => target.describe(),
  };
  return { calls, ai, index };
}

it("never sends more than 100 texts per AI call or 1000 vectors per upsert; ids and namespaces fit in 64 bytes", async () => {
  const t = await createTenant();
  const store = (await getVectorStore(env.DB, t.store))!;
  const { calls, ai, index } = spies(await indexOfStore(t.store));
  const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${seed}x${i}`).join(" ");
  // 5000 records, every twentieth long enough for several chunks (about 7000 vectors, inside the
  // per-request budget of 10,000); ids and namespaces at their maximum length.
  const operations = Array.from({ length: 5000 }, (_, i) => ({
    action: "upsert",
    id: `${"é".repeat(240)}${i}`,
    namespace: i % 2 ? "n".repeat(64) : "tasks",
    data: { title: `title ${i}`, body: words(i % 20 === 0 ? 1500 : 10, i) },
  }));
  const deps = { db: await ledgerOfStore(t.store), ai, index, retry: retryPolicy(env) };
  const first = await checkAndRunSync(deps, store, { mode: "incremental", syncTimestamp: "2026-01-15T10:00:00Z", operations });
  expect(first.results.upserted).toBe(5000);

  expect(calls.models).toEqual(new Set(["@cf/baai/bge-base-en-v1.5"]));
  expect(Math.max(...calls.texts)).toBeLessThanOrEqual(100);
  const vectors = calls.upserts.flat();
  expect(vectors.length).toBeGreaterThan(5000);
  expect(calls.upserts.length).toBe(Math.ceil(vectors.length / 1000));
  expect(Math.max(...calls.upserts.map((b) => b.length))).toBeLessThanOrEqual(1000);
  expect(calls.texts.reduce((a, b) => a + b, 0)).toBe(vectors.length);
  for (const v of vectors) {
    expect(utf8.encode(v.id).byteLength).toBeLessThanOrEqual(64);
    expect(utf8.encode(v.namespace).byteLength).toBeLessThanOrEqual(64);
    expect(utf8.encode(JSON.stringify(v.metadata)).byteLength).toBeLessThanOrEqual(10 * 1024);
    expect(v.values).toHaveLength(768);
  }
  expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length);

  // Deleting them all: deleteByIds in batches of at most 1000.
  const deletes = operations.map((op) => ({ action: "delete", id: op.id, namespace: op.namespace }));
  const second = await checkAndRunSync(deps, store, { mode: "incremental", syncTimestamp: "2026-01-16T10:00:00Z", operations: deletes });
  expect(second.results.deleted).toBe(5000);
  expect(Math.max(...calls.deletes.map((b) => b.length))).toBeLessThanOrEqual(1000);
  expect(calls.deletes.flat().length).toBe(vectors.length);
  expect(await expectIndexMatchesLedger(t.store)).toBe(0);
});

it("reads Workers AI's own answer shape (data: number[][]) as well as the stand-in's", async () => {
  const t = await createTenant();
  const store = (await getVectorStore(env.DB, t.store))!;
  const calls: string[][] = [];
  // A fake of the production binding: Workers AI answers plain arrays of numbers.
  const ai: EmbeddingBinding = {
    run: async (_model, inputs) => {
      calls.push(inputs.text);
      return { shape: [inputs.text.length, 768], data: inputs.text.map((text) => hashEmbedding(text, 768)) };
    },
  };
  const res = await checkAndRunSync(
    { db: await ledgerOfStore(t.store), ai, index: await indexOfStore(t.store), retry: retryPolicy(env) },
    store,
    {
      mode: "incremental",
      syncTimestamp: "2026-01-15T10:00:00Z",
      operations: [{ action: "upsert", id: "plain", namespace: "ns", data: { title: "plain arrays" } }],
    },
  );
  expect(res.results.upserted).toBe(1);
  expect(calls).toEqual([["title: plain arrays"]]);
  expect(await expectIndexMatchesLedger(t.store)).toBe(1);
});
