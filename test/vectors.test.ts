import { afterEach, describe, expect, it } from "vitest";
import { call, createTenant, del, ledgerRows, sync, upsert, type Tenant } from "./support/helpers";
import { ai, counting, expectIndexMatchesLedger } from "./support/stand-ins";

async function search(t: Tenant, body: Record<string, unknown>) {
  const res = await call("POST", `/v1/vector_stores/${t.store}/search`, body, { "X-API-Key": t.key });
  return { status: res.status, body: (await res.json()) as any };
}
const ids = (r: { body: { results: { record_id: string }[] } }) => r.body.results.map((x) => x.record_id);
const longText = (words: number, seed: string) =>
  Array.from({ length: words }, (_, i) => `${seed}${i % 37} lorem${i % 11} ipsum`).join(" ");

afterEach(async () => {
  await ai.clearFaults();
});

describe("records become vectors, kept in step with the ledger", () => {
  it("an upserted record is found by searching its words", async () => {
    const t = await createTenant();
    await sync(t, [
      upsert("t1", { name: "Fix the login page crash", status: "open" }),
      upsert("t2", { name: "Quarterly revenue spreadsheet", status: "done" }),
      upsert("t3", { name: "Plan the team offsite in Lisbon", status: "open" }),
    ]);
    const res = await search(t, { query: "login crash" });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ record_id: "t1", namespace: "clickup_tasks", chunk: 0 });
    expect(res.body.results[0].text).toContain("name: Fix the login page crash");
    expect(res.body.results[0].score).toBeGreaterThan(res.body.results[1].score);
    await expectIndexMatchesLedger(t.store);
  });

  it("an update is found by its new words and not its old", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "zebra giraffe savanna" }), upsert("b", { title: "unrelated filler words" })]);
    expect(ids(await search(t, { query: "zebra giraffe", top_k: 1 }))).toEqual(["a"]);
    await sync(t, [upsert("a", { title: "submarine periscope ocean" })], { sync_timestamp: "2026-01-16T00:00:00Z" });
    const fresh = await search(t, { query: "submarine periscope", top_k: 1 });
    expect(ids(fresh)).toEqual(["a"]);
    expect(fresh.body.results[0].text).toContain("submarine");
    const old = await search(t, { query: "zebra giraffe", top_k: 2 });
    for (const r of old.body.results) expect(r.text).not.toContain("zebra");
    await expectIndexMatchesLedger(t.store);
  });

  it("a delete disappears from search and from the index", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "kangaroo wallaby" }), upsert("b", { title: "something else" })]);
    await sync(t, [del("a")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(ids(await search(t, { query: "kangaroo wallaby" }))).toEqual(["b"]);
    expect(await expectIndexMatchesLedger(t.store)).toBe(1);
  });

  it("a long record makes several vectors; shrinking it removes the extras", async () => {
    const t = await createTenant();
    await sync(t, [upsert("long", { body: longText(900, "alpha") })]);
    const many = await expectIndexMatchesLedger(t.store);
    expect(many).toBeGreaterThanOrEqual(4);
    const ns = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
    expect(((await ns.json()) as any).namespaces[0]).toMatchObject({ namespace: "clickup_tasks", record_count: 1, vector_count: many });

    const { stats } = await counting(() =>
      sync(t, [upsert("long", { body: longText(150, "beta") })], { sync_timestamp: "2026-01-16T00:00:00Z" }),
    );
    const fewer = await expectIndexMatchesLedger(t.store);
    expect(fewer).toBeLessThan(many);
    expect(fewer).toBeGreaterThanOrEqual(1);
    expect(stats.idsDeleted).toBe(many - fewer);
    // Every chunk of the new text is searchable; none of the old text is left.
    const hits = await search(t, { query: "alpha3 lorem4", top_k: 10 });
    for (const r of hits.body.results) expect(r.text).not.toContain("alpha");
  });

  it("a full_refresh sweep removes the swept records' vectors", async () => {
    const t = await createTenant();
    await sync(t, [upsert("keep", { t: "keep me" }), upsert("gone", { t: "sweep me" }), upsert("long", { body: longText(600, "gamma") })], {
      sync_timestamp: "2026-01-01T00:00:00Z",
    });
    const res = await sync(t, [upsert("keep", { t: "keep me" })], { sync_mode: "full_refresh", sync_timestamp: "2026-02-01T00:00:00Z" });
    expect(res.body.results).toEqual({ upserted: 0, deleted: 2, unchanged: 1, failed: 0, stale: 0 });
    expect(await expectIndexMatchesLedger(t.store)).toBe(1);
    expect(ids(await search(t, { query: "sweep me gamma" }))).toEqual(["keep"]);
  });

  it("an unchanged re-sync makes zero embedding calls and zero vector writes", async () => {
    const t = await createTenant();
    const ops = Array.from({ length: 300 }, (_, i) => upsert(`r${i}`, { title: `record ${i}`, body: longText(i % 3 ? 20 : 700, "d") }));
    const first = await counting(() => sync(t, ops));
    expect(first.result.body.results.upserted).toBe(300);
    expect(first.stats.embedCalls).toBeGreaterThan(0);
    const again = await counting(() => sync(t, ops, { sync_timestamp: "2026-01-20T00:00:00Z" }));
    expect(again.result.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 300, failed: 0, stale: 0 });
    expect(again.stats).toMatchObject({ embedCalls: 0, textsEmbedded: 0, upsertCalls: 0, deleteCalls: 0 });
    // Changing one record embeds exactly that record's chunks.
    const one = await counting(() =>
      sync(t, [upsert("r1", { title: "record 1 renamed", body: longText(20, "d") })], { sync_timestamp: "2026-01-21T00:00:00Z" }),
    );
    expect(one.stats).toMatchObject({ embedCalls: 1, textsEmbedded: 1, upsertCalls: 1, vectorsUpserted: 1 });
    await expectIndexMatchesLedger(t.store);
  });

  it("a record with its own vector is stored as given, with no embedding call", async () => {
    const t = await createTenant();
    const vector = Array.from({ length: 768 }, (_, i) => Math.sin(i));
    const { stats } = await counting(() => sync(t, [upsert("own", { title: "bring your own" }, "clickup_tasks", { vector })]));
    expect(stats.embedCalls).toBe(0);
    expect(stats.vectorsUpserted).toBe(1);
    const found = await search(t, { vector, top_k: 1 });
    expect(found.body.results[0]).toMatchObject({ record_id: "own", chunk: 0, text: "title: bring your own" });
    expect(found.body.results[0].score).toBeCloseTo(1, 5);
    await expectIndexMatchesLedger(t.store);

    const wrong = await sync(t, [
      upsert("bad", { x: 1 }, "clickup_tasks", { vector: [1, 2, 3] }),
      upsert("nan", { x: 1 }, "clickup_tasks", { vector: ["a"] }),
    ]);
    expect(wrong.body.errors.map((e: any) => e.code)).toEqual(["INVALID_VECTOR", "INVALID_VECTOR"]);
  });

  it("explicit text, text_fields and metadata_fields shape the vectors; search filters on metadata", async () => {
    const t = await createTenant();
    const storeRes = await call(
      "POST",
      "/v1/admin/vector-stores",
      { organization_id: t.org, text_fields: ["title", "body.summary"], metadata_fields: ["status", "assignee.name"] },
      { Authorization: "Bearer test-admin-token" },
    );
    const store = (await storeRes.json()) as any;
    expect(store).toMatchObject({ embedding_model: "@cf/baai/bge-base-en-v1.5", dimensions: 768, text_fields: ["title", "body.summary"] });
    const s = { ...t, store: store.id };
    await sync(s, [
      upsert("1", {
        title: "Rocket launch",
        body: { summary: "countdown sequence", secret: "hidden words" },
        status: "open",
        assignee: { name: "Ana" },
      }),
      upsert("2", { title: "Rocket repair", body: { summary: "engine fix" }, status: "done", assignee: { name: "Bo" } }),
      upsert("3", { title: "ignored title" }, "clickup_tasks", { text: "custom explicit text about rockets", metadata: { priority: 1 } }),
    ]);
    const hit = await search(s, { query: "rocket launch countdown", top_k: 3 });
    expect(hit.body.results[0]).toMatchObject({
      record_id: "1",
      text: "title: Rocket launch\nbody.summary: countdown sequence",
      metadata: { status: "open", "assignee.name": "Ana" },
    });
    const filtered = await search(s, { query: "rocket", filter: { status: "done" } });
    expect(ids(filtered)).toEqual(["2"]);
    const explicit = await search(s, { query: "custom explicit", top_k: 1 });
    expect(explicit.body.results[0]).toMatchObject({
      record_id: "3",
      text: "custom explicit text about rockets",
      metadata: { priority: 1 },
    });
  });

  it("metadata over Vectorize's 10 KiB fails that operation with a clear code, never truncated", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      upsert("big", { x: 1 }, "clickup_tasks", { metadata: { blob: "m".repeat(11_000) } }),
      upsert("ok", { x: 2 }),
    ]);
    expect(res.body.status).toBe("partial_success");
    expect(res.body.errors).toEqual([expect.objectContaining({ index: 0, code: "METADATA_TOO_LARGE" })]);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["ok"]);
    await expectIndexMatchesLedger(t.store);
  });

  it("a store's search never returns another store's vectors, and checks keys like sync", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await sync(a, [upsert("shared-words", { title: "platypus echidna" })]);
    await sync(b, [upsert("b-only", { title: "platypus echidna" })]);
    expect(ids(await search(a, { query: "platypus" }))).toEqual(["shared-words"]);
    expect(ids(await search(b, { query: "platypus" }))).toEqual(["b-only"]);
    const cross = await call("POST", `/v1/vector_stores/${b.store}/search`, { query: "platypus" }, { "X-API-Key": a.key });
    expect(cross.status).toBe(404);
  });

  it("search over several namespaces merges by score; bad searches are 400", async () => {
    const t = await createTenant();
    await sync(t, [
      upsert("x", { title: "lighthouse keeper" }, "notion_pages"),
      upsert("y", { title: "lighthouse lamp" }, "jira_issues"),
      upsert("z", { title: "lighthouse" }, "clickup_tasks"),
    ]);
    const two = await search(t, { query: "lighthouse", namespace: ["notion_pages", "jira_issues"] });
    expect(ids(two).sort()).toEqual(["x", "y"]);
    expect(ids(await search(t, { query: "lighthouse", namespace: "clickup_tasks" }))).toEqual(["z"]);
    const wide = await search(t, { query: "lighthouse", top_k: 50 });
    expect(ids(wide).sort()).toEqual(["x", "y", "z"]);
    for (const bad of [
      {},
      { query: "a", vector: [1] },
      { query: "a", top_k: 51 },
      { query: "a", namespace: "bad space" },
      { vector: [1, 2] },
    ]) {
      const res = await search(t, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
  });
});
