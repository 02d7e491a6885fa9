import { describe, expect, it } from "vitest";
import { call, createTenant, del, getRecord, ledgerRows, sync, unique, upsert, type Tenant } from "./support/helpers";
import { ai, counting, expectIndexMatchesLedger } from "./support/stand-ins";
import { ledgerOfStore } from "./support/placement";

const TS = "2026-03-01T00:00:00Z";
const part = (final: boolean, extra: Record<string, unknown> = {}) => ({ sync_mode: "full_refresh", sync_timestamp: TS, final, ...extra });
const key = (t: Tenant) => ({ "X-API-Key": t.key });

async function search(t: Tenant, query: string, namespace?: string) {
  const res = await call("POST", `/v1/vector_stores/${t.store}/search`, { query, top_k: 50, ...(namespace ? { namespace } : {}) }, key(t));
  expect(res.status).toBe(200);
  return ((await res.json()) as any).results.map((r: any) => r.record_id) as string[];
}
async function namespaceCounts(t: Tenant) {
  const res = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, key(t));
  return Object.fromEntries(((await res.json()) as any).namespaces.map((n: any) => [n.namespace, n.record_count]));
}
async function getRun(t: Tenant, ts = TS) {
  const res = await call("GET", `/v1/connectors/pipeline/runs/${t.store}/${encodeURIComponent(ts)}`, undefined, key(t));
  return { status: res.status, body: (await res.json()) as any };
}
const ids = async (t: Tenant, namespace = "tasks") => (await ledgerRows(t.store)).filter((r) => r.namespace === namespace).map((r) => r.id);
const words = (i: number) => `zebra${i} giraffe${i} savanna${i}`;

describe("full_refresh runs: parts sweep nothing, the final request sweeps once", () => {
  it("a 3-part run: no empty window, unchanged records never embedded again, exactly the unsent records gone", async () => {
    const t = await createTenant();
    // Before the run: 12 records in two namespaces.
    await sync(
      t,
      Array.from({ length: 9 }, (_, i) => upsert(`t${i}`, { title: words(i) }, "tasks")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    await sync(
      t,
      Array.from({ length: 3 }, (_, i) => upsert(`d${i}`, { title: `doc${i} lorem` }, "docs")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );

    // Part 1: t0-t2 unchanged, t3 changed. Nothing is swept; t4-t8 stay findable.
    const p1 = await counting(() =>
      sync(
        t,
        [
          upsert("t0", { title: words(0) }),
          upsert("t1", { title: words(1) }),
          upsert("t2", { title: words(2) }),
          upsert("t3", { title: "changed zebra3" }),
        ].map((op) => ({ ...op, namespace: "tasks" })),
        part(false),
      ),
    );
    expect(p1.result.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 3, failed: 0, stale: 0 });
    expect(p1.result.body.run).toEqual({ sync_timestamp: "2026-03-01T00:00:00.000Z", final: false, state: "open" });
    expect(p1.result.body.sweep).toBeUndefined();
    expect(p1.stats.textsEmbedded).toBe(1);
    for (let i = 4; i < 9; i++) expect(await search(t, words(i), "tasks")).toContain(`t${i}`);
    expect(await namespaceCounts(t)).toEqual({ tasks: 9, docs: 3 });
    expect(await getRun(t)).toMatchObject({ status: 200, body: { state: "open", parts: 1, namespaces: ["tasks"] } });

    // Part 2: t4, t5 unchanged and a new t9 in tasks; docs d0 unchanged. Still no sweep.
    const p2 = await counting(() =>
      sync(
        t,
        [
          upsert("t4", { title: words(4) }, "tasks"),
          upsert("t5", { title: words(5) }, "tasks"),
          upsert("t9", { title: words(9) }, "tasks"),
          upsert("d0", { title: "doc0 lorem" }, "docs"),
        ],
        part(false),
      ),
    );
    expect(p2.result.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 3, failed: 0, stale: 0 });
    expect(p2.stats.textsEmbedded).toBe(1);
    for (const i of [6, 7, 8]) expect(await search(t, words(i), "tasks")).toContain(`t${i}`);
    expect(await search(t, "doc2 lorem", "docs")).toContain("d2");
    expect(await namespaceCounts(t)).toEqual({ tasks: 10, docs: 3 });

    // Final: t6 unchanged; t7, t8 (tasks) and d1, d2 (docs) were never sent: swept now, once.
    const fin = await counting(() => sync(t, [upsert("t6", { title: words(6) }, "tasks")], part(true)));
    expect(fin.result.body.results).toEqual({ upserted: 0, deleted: 4, unchanged: 1, failed: 0, stale: 0 });
    expect(fin.result.body.sweep).toEqual({ deleted: 4, remaining: 0, skipped_namespaces: [] });
    expect(fin.result.body.run.state).toBe("completed");
    expect(fin.stats.textsEmbedded).toBe(0);
    expect(await ids(t, "tasks")).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t9"]);
    expect(await ids(t, "docs")).toEqual(["d0"]);
    expect(await namespaceCounts(t)).toEqual({ tasks: 8, docs: 1 });
    for (const i of [7, 8]) expect(await search(t, words(i), "tasks")).not.toContain(`t${i}`);
    await expectIndexMatchesLedger(t.store);
    const run = await getRun(t, "2026-03-01T01:00:00+01:00"); // another spelling of the same instant
    expect(run.body).toMatchObject({
      vector_store_id: t.store,
      sync_mode: "full_refresh",
      state: "completed",
      parts: 3,
      results: { upserted: 2, deleted: 4, unchanged: 7, failed: 0, stale: 0 },
      namespaces: ["docs", "tasks"],
      swept: 4,
      final_sync_id: fin.result.body.sync_id,
    });
    expect(run.body.completed_at).not.toBeNull();

    // The same run again (next day, nothing changed): no embedding, no vector write.
    const again = await counting(async () => {
      await sync(
        t,
        ["t0", "t1", "t2"].map((id) => upsert(id, { title: words(Number(id.slice(1))) }, "tasks")),
        part(false, { sync_timestamp: "2026-03-02T00:00:00Z" }),
      );
      return sync(
        t,
        [
          upsert("t3", { title: "changed zebra3" }, "tasks"),
          upsert("d0", { title: "doc0 lorem" }, "docs"),
          ...["t4", "t5", "t6", "t9"].map((id) => upsert(id, { title: words(Number(id.slice(1))) }, "tasks")),
        ],
        part(true, { sync_timestamp: "2026-03-02T00:00:00Z" }),
      );
    });
    expect(again.result.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 6, failed: 0, stale: 0 });
    expect(again.stats).toMatchObject({ embedCalls: 0, upsertCalls: 0, deleteCalls: 0 });
  });

  it("a final request with a namespaces list empties a namespace the run sent nothing for", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 }, "clickup_tasks"), upsert("b", { v: 1 }, "clickup_tasks"), upsert("keep", { v: 1 }, "other")]);
    const res = await sync(t, [], part(true, { namespaces: ["clickup_tasks"] }));
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 0, deleted: 2, unchanged: 0, failed: 0, stale: 0 });
    expect(await ids(t, "clickup_tasks")).toEqual([]);
    expect(await ids(t, "other")).toEqual(["keep"]);
    await expectIndexMatchesLedger(t.store);
  });

  it("parts after the final request are refused with 409 RUN_COMPLETED, and so is a second final", async () => {
    const t = await createTenant();
    const fin = await sync(t, [upsert("a", { v: 1 }, "tasks")], part(true));
    expect(fin.status).toBe(200);
    const late = await sync(t, [upsert("b", { v: 1 }, "tasks")], part(false));
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "RUN_COMPLETED", details: { final_sync_id: fin.body.sync_id } });
    expect((await sync(t, [], part(true))).body.error.code).toBe("RUN_COMPLETED");
    expect(await ids(t)).toEqual(["a"]);
  });

  it("a completed run stays completed: a full_refresh without final at its timestamp is 409, a late part too", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 }, "tasks"), upsert("gone", { v: 1 }, "tasks")], { sync_timestamp: "2026-02-01T00:00:00Z" });
    await sync(t, [upsert("a", { v: 1 }, "tasks")], part(false));
    const fin = await sync(t, [], part(true));
    expect(fin.body.sweep).toMatchObject({ deleted: 1 });
    const single = await sync(t, [upsert("a", { v: 2 }, "tasks")], { sync_mode: "full_refresh", sync_timestamp: TS });
    expect(single.status).toBe(409);
    expect(single.body.error).toMatchObject({ code: "RUN_COMPLETED", details: { final_sync_id: fin.body.sync_id } });
    const late = await sync(t, [upsert("gone", { v: 1 }, "tasks")], part(false));
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("RUN_COMPLETED");
    expect(await ids(t)).toEqual(["a"]);
    expect(await getRun(t)).toMatchObject({ status: 200, body: { state: "completed", final_sync_id: fin.body.sync_id, parts: 2 } });

    // A run of one request (no final) may be sent again whole; a part at its timestamp may not.
    const other = "2026-04-01T00:00:00Z";
    const once = { sync_mode: "full_refresh", sync_timestamp: other };
    expect((await sync(t, [upsert("a", { v: 3 }, "tasks")], once)).status).toBe(200);
    expect((await sync(t, [upsert("a", { v: 3 }, "tasks")], once)).body.results).toMatchObject({ unchanged: 1 });
    const afterSingle = await sync(t, [upsert("b", { v: 1 }, "tasks")], { ...once, final: false });
    expect(afterSingle.status).toBe(409);
    expect(afterSingle.body.error.code).toBe("RUN_COMPLETED");
    expect(await getRun(t, other)).toMatchObject({ status: 200, body: { state: "completed", parts: 2 } });
  });

  it("a newer run supersedes an older open one: the older final is 409 STALE_SYNC and sweeps nothing", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b", "c"].map((id) => upsert(id, { v: 0 }, "tasks")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    const older = { sync_timestamp: "2026-03-01T00:00:00Z" };
    const newer = { sync_timestamp: "2026-03-02T00:00:00Z" };
    expect((await sync(t, [upsert("a", { v: 1 }, "tasks")], part(false, older))).status).toBe(200);
    expect((await sync(t, [upsert("b", { v: 2 }, "tasks")], part(false, newer))).status).toBe(200);
    const stale = await sync(t, [], part(true, older));
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("STALE_SYNC");
    expect(await ids(t)).toEqual(["a", "b", "c"]);
    expect((await getRun(t, older.sync_timestamp)).body.state).toBe("superseded");
    expect((await getRun(t, newer.sync_timestamp)).body.state).toBe("open");
    // The newer run completes normally: a and c were not sent by it.
    const fin = await sync(t, [], part(true, newer));
    expect(fin.body.sweep).toMatchObject({ deleted: 2, remaining: 0 });
    expect(await ids(t)).toEqual(["b"]);
  });

  it("an abandoned run (no final request) never sweeps and is reported as such", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b"].map((id) => upsert(id, { v: 0 }, "tasks")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    await sync(t, [upsert("a", { v: 1 }, "tasks")], part(false));
    expect((await getRun(t)).body.state).toBe("open");
    await (await ledgerOfStore(t.store))
      .prepare("UPDATE sync_runs SET updated_at = ?2 WHERE vector_store_id = ?1")
      .bind(t.store, new Date(Date.now() - 25 * 3600_000).toISOString())
      .run();
    expect((await getRun(t)).body).toMatchObject({ state: "abandoned", swept: 0, completed_at: null });
    expect(await ids(t)).toEqual(["a", "b"]);
  });

  it("a part retried after a timeout changes nothing the second time", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b"].map((id) => upsert(id, { v: 0 }, "tasks")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    const ops = [upsert("a", { v: 1 }, "tasks"), upsert("n", { v: 1 }, "tasks")];
    const first = await sync(t, ops, part(false));
    const retry = await counting(() => sync(t, ops, part(false)));
    expect(first.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    expect(retry.result.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 2, failed: 0, stale: 0 });
    expect(retry.stats).toMatchObject({ embedCalls: 0, upsertCalls: 0 });
    expect((await getRun(t)).body).toMatchObject({ parts: 2, state: "open" });
    const fin = await sync(t, [], part(true));
    expect(fin.body.sweep.deleted).toBe(1);
    expect(await ids(t)).toEqual(["a", "n"]);
  });

  it("a failed operation in a part keeps its namespace from being swept; other namespaces are", async () => {
    const t = await createTenant();
    await sync(
      t,
      [upsert("a", { v: 0 }, "tasks"), upsert("b", { v: 0 }, "tasks"), upsert("x", { v: 0 }, "docs"), upsert("y", { v: 0 }, "docs")],
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    const p1 = await sync(
      t,
      [upsert("a", { v: 1 }, "tasks"), { action: "upsert", id: "b", namespace: "tasks", data: {} }, upsert("x", { v: 1 }, "docs")],
      part(false),
    );
    expect(p1.body.results.failed).toBe(1);
    const fin = await sync(t, [], part(true));
    expect(fin.body.sweep).toMatchObject({ deleted: 1, remaining: 0, skipped_namespaces: ["tasks"] });
    expect(fin.body.sweep.reason).toContain("failed");
    expect(await ids(t, "tasks")).toEqual(["a", "b"]);
    expect(await ids(t, "docs")).toEqual(["x"]);
    expect((await getRun(t)).body.blocked_namespaces).toEqual(["tasks"]);
  });

  it("a part that failed and was sent again (a retried part) no longer blocks the sweep", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b", "c"].map((id) => upsert(id, { v: 0 }, "tasks")),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    await ai.setFaults({ failNext: { embed: 4 } }); // every attempt of the one embedding call fails
    const failed = await sync(t, [upsert("a", { v: 1 }, "tasks"), upsert("b", { v: 0 }, "tasks"), del("gone", "tasks")], part(false));
    await ai.clearFaults();
    expect(failed.body.results).toEqual({ upserted: 0, deleted: 1, unchanged: 1, failed: 1, stale: 0 });
    expect((await getRun(t)).body.blocked_namespaces).toEqual(["tasks"]);
    expect((await sync(t, [upsert("a", { v: 1 }, "tasks")], part(false))).body.results.upserted).toBe(1);
    expect((await getRun(t)).body.blocked_namespaces).toEqual([]);
    const fin = await sync(t, [], part(true));
    expect(fin.body.sweep).toEqual({ deleted: 1, remaining: 0, skipped_namespaces: [] });
    expect(await ids(t)).toEqual(["a", "b"]);
    await expectIndexMatchesLedger(t.store);
  });

  it("final on an incremental sync, or namespaces without final: true, is a 400", async () => {
    const t = await createTenant();
    const a = await sync(t, [], { final: true });
    expect(a.status).toBe(400);
    expect(a.body.error.details.fields.final).toBeDefined();
    const b = await sync(t, [], part(false, { namespaces: ["tasks"] }));
    expect(b.status).toBe(400);
    expect(b.body.error.details.fields.namespaces).toBeDefined();
    const c = await sync(t, [], { sync_mode: "full_refresh", final: "yes" });
    expect(c.status).toBe(400);
  });

  it("the final sweep of a large namespace is split across requests with sweep.remaining", async () => {
    const t = await createTenant();
    // 25,000 records synced before the run, written straight to the ledger (one vector each, which
    // the index does not hold: deleting an id it lacks is a no-op, as in Vectorize).
    const rows = JSON.stringify(Array.from({ length: 25_000 }, (_, i) => `r${i}`));
    await (await ledgerOfStore(t.store))
      .prepare(`INSERT INTO records (vector_store_id, namespace, id, deleted, data, content_hash, version, chunk_count, synced_at, sync_id)
      SELECT ?1, 'big', value, 0, '{"v":1}', 'h', '2026-01-01T00:00:00.000000000Z', 1, '2026-01-01T00:00:00.000000000Z', 'sync_seed'
      FROM json_each(?2)`)
      .bind(t.store, rows)
      .run();
    expect((await sync(t, [upsert("r0", { v: 1 }, "big")], part(false))).status).toBe(200);
    const first = await sync(t, [], part(true));
    expect(first.body.sweep).toEqual({ deleted: 10_000, remaining: 14_999, skipped_namespaces: [] });
    expect(first.body.run.state).toBe("open");
    const second = await sync(t, [], part(true));
    expect(second.body.sweep).toEqual({ deleted: 10_000, remaining: 4_999, skipped_namespaces: [] });
    const third = await sync(t, [], part(true));
    expect(third.body.sweep).toEqual({ deleted: 4_999, remaining: 0, skipped_namespaces: [] });
    expect(third.body.run.state).toBe("completed");
    expect(await namespaceCounts(t)).toEqual({ big: 1 });
    expect((await getRun(t)).body).toMatchObject({ state: "completed", swept: 24_999, parts: 4 });
  }, 60_000);
});

describe("runs and syncs you can see", () => {
  it("GET runs: 404 for an unknown run, 400 for a timestamp that is not one, 404 across organizations", async () => {
    const t = await createTenant();
    expect((await getRun(t)).status).toBe(404);
    expect((await getRun(t)).body.error.code).toBe("RUN_NOT_FOUND");
    expect((await getRun(t, "yesterday")).status).toBe(400);
    await sync(t, [upsert("a", { v: 1 })], part(false));
    const other = await createTenant();
    const res = await call("GET", `/v1/connectors/pipeline/runs/${t.store}/${encodeURIComponent(TS)}`, undefined, key(other));
    expect(res.status).toBe(404);
  });

  it("GET syncs lists the key's syncs newest first, paginated, per store, never another organization's", async () => {
    const org = unique("org");
    const t1 = await createTenant({ org });
    const t2 = await createTenant({ org });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = i % 2 ? t2 : t1;
      const res = await sync({ ...t, key: t1.key }, [upsert(`r${i}`, { v: i })], i === 4 ? part(false) : {});
      made.push(res.body.sync_id);
    }
    await sync(await createTenant(), [upsert("x", { v: 1 })]); // another organization's
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await call("GET", `/v1/connectors/pipeline/syncs?limit=2${cursor ? `&cursor=${cursor}` : ""}`, undefined, key(t1));
      expect(res.status).toBe(200);
      const body = (await res.json()) as any;
      expect(body.syncs.length).toBeLessThanOrEqual(2);
      seen.push(...body.syncs);
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen.map((s) => s.sync_id)).toEqual([...made].reverse());
    expect(seen[0]).toMatchObject({
      sync_mode: "full_refresh",
      final: false,
      status: "success",
      processed: 1,
      results: { upserted: 1, deleted: 0, unchanged: 0, failed: 0, stale: 0 },
      vector_store_id: t1.store,
    });
    expect(seen[1]).toMatchObject({ sync_mode: "incremental", final: null });
    const onlyT2 = await call("GET", `/v1/connectors/pipeline/syncs?vector_store_id=${t2.store}`, undefined, key(t1));
    expect(((await onlyT2.json()) as any).syncs.map((s: any) => s.sync_id)).toEqual([made[3], made[1]]);
    expect((await call("GET", "/v1/connectors/pipeline/syncs?cursor=nonsense", undefined, key(t1))).status).toBe(400);
    expect((await call("GET", "/v1/connectors/pipeline/syncs?limit=0", undefined, key(t1))).status).toBe(400);
  });

  it("GET records/{namespace} lists live records, paginated, tombstones never", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["c", "a", "é", "b", "d"].map((id) => upsert(id, { v: id }, "tasks")),
    );
    await sync(t, [del("b", "tasks")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    const listed: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        "GET",
        `/v1/vector_stores/${t.store}/records/tasks?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        undefined,
        key(t),
      );
      const body = (await res.json()) as any;
      listed.push(...body.records);
      cursor = body.next_cursor;
    } while (cursor);
    expect(listed.map((r) => r.id)).toEqual(["a", "c", "d", "é"]);
    expect(listed[0]).toMatchObject({ synced_at: "2026-01-15T10:00:00.000Z", created_at: null, updated_at: null });
    const empty = await call("GET", `/v1/vector_stores/${t.store}/records/nothing`, undefined, key(t));
    expect(((await empty.json()) as any).records).toEqual([]);
  });

  it("DELETE namespaces/{namespace} removes its records and vectors, through the store's object, with the counts", async () => {
    const t = await createTenant();
    await sync(t, [
      upsert("a", { title: "alpha" }, "gone"),
      upsert("b", { title: "beta ".repeat(800) }, "gone"),
      upsert("k", { v: 1 }, "kept"),
    ]);
    await sync(t, [del("a", "gone")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    const vectors = await expectIndexMatchesLedger(t.store);
    const res = await call("DELETE", `/v1/vector_stores/${t.store}/namespaces/gone`, undefined, key(t));
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ vector_store_id: t.store, namespace: "gone", records_deleted: 1, remaining: 0, failed: 0 });
    expect(body.vectors_deleted).toBe(vectors - 1);
    expect(await namespaceCounts(t)).toEqual({ kept: 1 });
    await expectIndexMatchesLedger(t.store);
    expect((await getRecord(t, "gone", "b")).status).toBe(404);
    expect((await call("DELETE", `/v1/vector_stores/${t.store}/namespaces/gone`, undefined, key(t))).status).toBe(404);
    // The namespace starts fresh: an older upsert is no longer stale against the deleted tombstone.
    expect((await sync(t, [upsert("a", { v: 2 }, "gone")])).body.results.upserted).toBe(1);
  });
});
