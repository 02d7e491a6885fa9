import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, createTenant, del, sync, upsert, type Tenant } from "./support/helpers";
import { ai, expectIndexMatchesLedger } from "./support/stand-ins";
import { searchStore } from "../src/store/search";
import { vectorDeps } from "../src/store/deps";
import { getVectorStore } from "../src/db/vector-stores";
import { ledgerOfStore } from "./support/placement";
import { RERANK_MODEL } from "../src/vectors/reranker";
import { tokenOverlapScore } from "../src/local/token-overlap";
import type { Bindings } from "../src/env";

async function search(t: Tenant, body: unknown) {
  const res = await call("POST", `/v1/vector_stores/${t.store}/search`, body, { "X-API-Key": t.key });
  return { status: res.status, body: (await res.json()) as any };
}
const ids = (r: { body: { results: { record_id: string }[] } }) => r.body.results.map((x) => x.record_id);

const tickets = [
  upsert("t1", { title: "Pump stops after firmware update", body: "Customer reports error E1047 on part PN-48213 after the update." }),
  upsert("t2", { title: "Pump noisy at startup", body: "A rattling noise from the pump housing when it starts in the morning." }),
  upsert("t3", { title: "Display flickers", body: "The control panel display flickers; part PN-11873 replaced, error E2210 gone." }),
  upsert("t4", {
    title: "Either reset OR replace",
    body: "Advice: reset the controller, or replace the board if it is NEAR its end of life.",
  }),
  upsert("t5", { title: "Leak at the valve", body: "Water leaks from the inlet valve of the pump; seal PN-48214 ordered." }),
];

describe("keyword and hybrid search", () => {
  it("finds exact tokens (part numbers, error codes) by keyword and hybrid, with each ranking's score", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    for (const query of ["PN-48213", "E1047", "pn-48213 firmware"]) {
      const keyword = await search(t, { query, mode: "keyword" });
      expect(keyword.status).toBe(200);
      expect(ids(keyword)[0], query).toBe("t1");
      const hybrid = await search(t, { query });
      expect(ids(hybrid)[0], query).toBe("t1");
    }
    const keyword = await search(t, { query: "PN-48213", mode: "keyword" });
    // Only the record holding the phrase "pn 48213" (PN-48214 is another phrase).
    expect(ids(keyword)).toEqual(["t1"]);
    const hit = keyword.body.results[0];
    expect(hit.scores).toEqual({ vector: null, keyword: expect.any(Number), fused: null, rerank: null });
    expect(hit.score).toBe(hit.scores.keyword);
    expect(hit.scores.keyword).toBeGreaterThan(0);
    expect(hit.text).toContain("PN-48213");

    const hybrid = await search(t, { query: "PN-48213" });
    const top = hybrid.body.results[0];
    expect(top.scores).toEqual({ vector: expect.any(Number), keyword: expect.any(Number), fused: expect.any(Number), rerank: null });
    expect(top.score).toBe(top.scores.fused);
    // A chunk only the vector ranking found has no keyword score.
    expect(hybrid.body.results.some((r: any) => r.scores.keyword === null && r.scores.vector !== null)).toBe(true);
    const scores = hybrid.body.results.map((r: any) => r.scores.fused);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const vector = await search(t, { query: "PN-48213", mode: "vector" });
    expect(vector.body.results[0].scores).toEqual({ vector: expect.any(Number), keyword: null, fused: null, rerank: null });
  });

  it("a query given as a vector searches by vector; keyword, hybrid and rerank need text (400)", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    const vector = Array.from({ length: 768 }, (_, i) => (i % 7) / 7);
    const byVector = await search(t, { vector, top_k: 3 });
    expect(byVector.status).toBe(200);
    expect(byVector.body.results).toHaveLength(3);
    for (const r of byVector.body.results) expect(r.scores).toEqual({ vector: r.score, keyword: null, fused: null, rerank: null });
    for (const body of [
      { vector, mode: "keyword" },
      { vector, mode: "hybrid" },
      { vector, rerank: true },
      { query: "pump", mode: "bm25" },
      { query: "pump", mode: "" },
      { query: "pump", rerank: "yes" },
      { query: "pump", candidates: 0 },
      { query: "pump", candidates: 101 },
    ]) {
      const res = await search(t, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const unknown = await search(t, { query: "pump", mode: "bm25" });
    expect(Object.keys(unknown.body.error.details.fields)).toEqual(["mode"]);
  });

  it("treats the query as words, never as FTS5 syntax: hostile text is safe and means its words", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    const hostile = [
      '"',
      "*",
      "-",
      "NEAR(",
      "OR",
      "AND NOT",
      '") OR scope : *',
      "text : pump",
      "scope : s00",
      "NEAR(pump valve, 1)",
      "pump*",
      "^pump",
      "{scope text} : pump",
      "'; DROP TABLE record_state; --",
      "\u0000\u0001",
      "a".repeat(8192),
      Array.from({ length: 500 }, (_, i) => `w${i}`).join(" "),
    ];
    for (const query of hostile) {
      for (const mode of ["keyword", "hybrid"]) {
        const res = await search(t, { query, mode });
        expect(res.status, `${mode}: ${query.slice(0, 30)}`).toBe(200);
      }
    }
    // Punctuation alone holds no word: no keyword hit.
    for (const query of ['"', "*", "-", "(", '"*"']) expect(ids(await search(t, { query, mode: "keyword" })), query).toEqual([]);
    // Operators are words like any other: the records that hold them.
    expect(ids(await search(t, { query: "OR", mode: "keyword" }))).toEqual(["t4"]);
    expect(ids(await search(t, { query: "NEAR(", mode: "keyword" }))).toEqual(["t4"]);
    // A column filter in the text is words too: "scope" is in no record.
    expect(ids(await search(t, { query: "scope : s00", mode: "keyword" }))).toEqual([]);
    expect(ids(await search(t, { query: "text : leaks", mode: "keyword" }))).toEqual(["t5"]);
    // The ledger is intact.
    await expectIndexMatchesLedger(t.store);
  });

  it("follows the ledger: a changed record's old words, a deleted record and a deleted namespace are not found", async () => {
    const t = await createTenant();
    await sync(t, [...tickets, upsert("o1", { title: "Other namespace PN-48213" }, "other_ns")]);
    expect(new Set(ids(await search(t, { query: "PN-48213", mode: "keyword" })))).toEqual(new Set(["t1", "o1"]));
    // Namespaces named: only theirs.
    expect(ids(await search(t, { query: "PN-48213", mode: "keyword", namespace: "other_ns" }))).toEqual(["o1"]);
    await sync(t, [upsert("t1", { title: "Pump stops", body: "now about part PN-99999" }), del("t5")], {
      sync_timestamp: "2026-02-01T00:00:00Z",
    });
    expect(ids(await search(t, { query: "PN-48213", mode: "keyword" }))).toEqual(["o1"]);
    expect(ids(await search(t, { query: "PN-99999", mode: "keyword" }))).toEqual(["t1"]);
    expect(ids(await search(t, { query: "leaks valve", mode: "keyword" }))).toEqual([]);
    const gone = await call("DELETE", `/v1/vector_stores/${t.store}/namespaces/other_ns`, undefined, { "X-API-Key": t.key });
    expect(gone.status).toBe(200);
    expect(ids(await search(t, { query: "PN-48213", mode: "keyword" }))).toEqual([]);
    // Another store never sees this one's chunks.
    const other = await createTenant();
    await sync(other, [upsert("x", { title: "nothing in common" })]);
    expect(ids(await search(other, { query: "PN-99999", mode: "keyword" }))).toEqual([]);
    await expectIndexMatchesLedger(t.store);
  });

  it("a filter applies to keyword hits as to vector hits", async () => {
    const t = await createTenant({ metadataFields: ["status"] });
    await sync(t, [
      upsert("open1", { title: "pump failure E1047", status: "open" }),
      upsert("closed1", { title: "pump failure E1047 again", status: "closed" }),
    ]);
    for (const mode of ["keyword", "hybrid", "vector"]) {
      const res = await search(t, { query: "E1047 pump", mode, filter: { status: "open" } });
      expect(ids(res), mode).toEqual(["open1"]);
      expect(res.body.results[0].metadata).toEqual({ status: "open" });
    }
  });
});

describe("reconciliation checks the keyword index", () => {
  it("rewrites the rows of records that have none (synced before the index existed) or too many", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    const db = await ledgerOfStore(t.store);
    const body = async (id: string) =>
      (await db
        .prepare("SELECT body_id FROM record_state WHERE vector_store_id = ?1 AND id = ?2")
        .bind(t.store, id)
        .first<{ body_id: number }>())!.body_id;
    // t1 loses its rows, as a record synced before migration 0007; t2 gets a stray row past its chunks.
    const [b1, b2] = [await body("t1"), await body("t2")];
    await db
      .prepare("DELETE FROM chunk_keywords WHERE rowid BETWEEN ?1 AND ?2")
      .bind(b1 * 256, b1 * 256 + 255)
      .run();
    await db
      .prepare("INSERT INTO chunk_keywords (rowid, scope, text) VALUES (?1, 'x', 'stray words')")
      .bind(b2 * 256 + 9)
      .run();
    expect(ids(await search(t, { query: "PN-48213", mode: "keyword" }))).toEqual([]);

    const res = await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, ADMIN);
    expect(await res.json()).toMatchObject({ missing: 0, keywords_repaired: 2, failed: 0 });
    expect(ids(await search(t, { query: "PN-48213", mode: "keyword" }))).toEqual(["t1"]);
    const again = await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, ADMIN);
    expect(await again.json()).toMatchObject({ keywords_repaired: 0 });
    await expectIndexMatchesLedger(t.store);
  });
});

describe("reranking", () => {
  it("reorders the fused candidates by the reranker's score, shown per hit (the local stand-in: word overlap)", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    const query = "pump housing noise startup";
    await ai.resetStats();
    const res = await search(t, { query, rerank: true, candidates: 5, top_k: 5 });
    expect(res.status).toBe(200);
    const stats = await ai.stats();
    expect(stats.rerankCalls).toBe(1);
    const results = res.body.results as any[];
    expect(results.length).toBeGreaterThan(1);
    for (const r of results) {
      expect(r.scores.rerank).toBeCloseTo(tokenOverlapScore(query, r.text), 12);
      expect(r.score).toBe(r.scores.rerank);
      expect(r.scores.fused).toEqual(expect.any(Number));
    }
    const rerank = results.map((r) => r.scores.rerank);
    expect(rerank).toEqual([...rerank].sort((a, b) => b - a));
    expect(results[0].record_id).toBe("t2");
    // Fewer candidates than results asked for: only the candidates come back.
    expect((await search(t, { query, rerank: true, candidates: 2, top_k: 5 })).body.results).toHaveLength(2);
  });

  it("production path: calls Workers AI's bge-reranker-base with {query, contexts, top_k}, in batches, retried", async () => {
    const t = await createTenant();
    const many = Array.from({ length: 60 }, (_, i) => upsert(`m${i}`, { title: `pump report ${i}`, body: `valve ${i % 3} leaks` }));
    await sync(t, many);
    const store = (await getVectorStore(env.DB, t.store))!;
    const db = await ledgerOfStore(t.store);
    const calls: { model: string; inputs: any }[] = [];
    let failures = 1;
    const reranker = {
      async run(model: string, inputs: { query: string; contexts: { text: string }[]; top_k?: number }) {
        calls.push({ model, inputs });
        if (failures-- > 0) throw new Error("transient");
        // Reverse order of the contexts, as ids into the call's list.
        return { response: inputs.contexts.map((_, id) => ({ id, score: id / 100 })).reverse() };
      },
    };
    const deps = { ...vectorDeps(env as unknown as Bindings, store), retry: { attempts: 3, baseDelayMs: 0, sleep: async () => {} } };
    const found = await searchStore({ ...deps, db, primary: db, reranker }, store, {
      query: "pump valve",
      top_k: 10,
      rerank: true,
      candidates: 60,
    });
    // 60 candidates in calls of at most 25 contexts, one of them retried once.
    expect(calls.map((c) => c.inputs.contexts.length).sort((a, b) => a - b)).toEqual([10, 25, 25, 25]);
    for (const c of calls) {
      expect(c.model).toBe(RERANK_MODEL);
      expect(Object.keys(c.inputs).sort()).toEqual(["contexts", "query", "top_k"]);
      expect(c.inputs.query).toBe("pump valve");
      expect(c.inputs.top_k).toBe(c.inputs.contexts.length);
      for (const ctx of c.inputs.contexts) expect(Object.keys(ctx)).toEqual(["text"]);
    }
    expect(found.results).toHaveLength(10);
    // The best-scored context of each call is its last: the last of the last full call first.
    const rerank = found.results.map((r) => r.scores.rerank!);
    expect(rerank).toEqual([...rerank].sort((a, b) => b - a));
    expect(rerank[0]).toBe(0.24);
  });

  it("a reranker that keeps failing is a 503 UPSTREAM_UNAVAILABLE, not an unreranked answer", async () => {
    const t = await createTenant();
    await sync(t, tickets);
    await ai.setFaults({ failNext: { rerank: Number.POSITIVE_INFINITY } });
    try {
      const res = await search(t, { query: "pump", rerank: true });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("UPSTREAM_UNAVAILABLE");
    } finally {
      await ai.clearFaults();
    }
  });
});
