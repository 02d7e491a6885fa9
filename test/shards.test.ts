import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { leastFull, measureLedgerShards, placeNewStore, SIZE_BUCKET_BYTES } from "../src/db/placement";
import { getVectorStore } from "../src/db/vector-stores";
import { advanceMove, newMoveState, type StoredContent } from "../src/db/shard-move";
import { searchableChunks } from "../src/vectors/vector-sync";
import { failingD1 } from "./support/faulty-d1";
import { ADMIN, call, createTenant, getRecord, ledgerRows, sync, syncBody, unique, upsert, del, type Tenant } from "./support/helpers";
import { expectIndexMatchesLedger } from "./support/stand-ins";
import { indexOfStore, ledgerOfStore, placementOf } from "./support/placement";
import type { MoveState } from "../src/model/store-object";
import { SearchRequest } from "../src/schemas/search";
import { searchThroughStoreObject } from "../src/store/store-client";
import { primaryStore } from "../src/db/store-cache";

// Dev and the tests run with two ledger shards (LEDGER_0, LEDGER_1) and two indexes (VECTORIZE,
// VECTORIZE_1), each a database or index of its own: a read or write sent to the wrong one finds
// nothing, so every other test file exercises the routing too. These tests check it directly.

const shards = [env.LEDGER_0, env.LEDGER_1];
const key = (t: Tenant) => ({ "X-API-Key": t.key });

/** Rows of a store in one database, over every table a store owns there. */
async function rowsIn(db: D1Database, store: string) {
  const row = await db
    .prepare(`SELECT (SELECT count(*) FROM record_state WHERE vector_store_id = ?1) AS state,
                     (SELECT count(*) FROM record_bodies b WHERE b.body_id IN
                        (SELECT body_id FROM record_state WHERE vector_store_id = ?1)) AS bodies,
                     (SELECT count(*) FROM syncs WHERE vector_store_id = ?1) AS syncs,
                     (SELECT count(*) FROM sync_runs WHERE vector_store_id = ?1) AS runs,
                     (SELECT count(*) FROM namespace_state WHERE vector_store_id = ?1) AS watermarks`)
    .bind(store)
    .first<{ state: number; bodies: number; syncs: number; runs: number; watermarks: number }>();
  return row!;
}

/** A store's whole ledger in one database, as the API would see it (bodies by content, not by id). */
async function ledgerRowsIn(db: D1Database, store: string) {
  const { results } = await db
    .prepare(`SELECT namespace, id, deleted, data, file, text, metadata, vector, content_hash, chunk_count, version,
                     synced_at, sync_id, created_at, updated_at, source_system
              FROM records WHERE vector_store_id = ?1 ORDER BY namespace, id`)
    .bind(store)
    .all();
  return results;
}

/** Two stores of one organization on different ledger shards (placement alternates them). */
async function twoStores(): Promise<[Tenant, Tenant]> {
  const org = unique("org");
  const a = await createTenant({ org });
  const b = await createTenant({ org });
  const [pa, pb] = [await placementOf(a.store), await placementOf(b.store)];
  expect(pa.ledger_shard).not.toBe(pb.ledger_shard);
  expect(pa.index).not.toBe(pb.index);
  return [a, b];
}

describe("placement", () => {
  it("puts each new store on the least full shard and index, and shows its placement", async () => {
    const created = [];
    for (let i = 0; i < 4; i++) {
      const res = await call("POST", "/v1/admin/vector-stores", { organization_id: unique("org") }, ADMIN);
      expect(res.status).toBe(201);
      created.push((await res.json()) as any);
    }
    for (const store of created) {
      expect([0, 1]).toContain(store.ledger_shard);
      expect([0, 1]).toContain(store.index);
      expect(await placementOf(store.id)).toEqual({ ledger_shard: store.ledger_shard, index: store.index });
    }
    const { results } = await env.DB.prepare("SELECT ledger_shard, count(*) AS n FROM vector_stores GROUP BY ledger_shard").all<{
      ledger_shard: number;
      n: number;
    }>();
    const counts = results.map((r) => r.n);
    expect(counts).toHaveLength(2);
    expect(Math.abs(counts[0]! - counts[1]!)).toBeLessThanOrEqual(1);

    const t = await createTenant();
    const got = await call("GET", `/v1/vector_stores/${t.store}`, undefined, key(t));
    expect(await got.json()).toMatchObject(await placementOf(t.store));
  });

  it("prefers the emptier shard by measured size, then the one with fewer stores", () => {
    const stores = new Map([
      [0, 10],
      [1, 2],
    ]);
    expect(leastFull([0, 1], stores)).toBe(1);
    expect(leastFull([0, 1], stores, new Map([[1, 3 * SIZE_BUCKET_BYTES]]))).toBe(0);
    // Within one size bucket, the store count decides.
    expect(leastFull([0, 1], stores, new Map([[1, SIZE_BUCKET_BYTES / 2]]))).toBe(1);
    expect(leastFull([0, 1, 2], new Map())).toBe(0);
  });

  it("measures the shards on the Cron Trigger, and placement follows the measurement", async () => {
    const sizes = await measureLedgerShards(env);
    expect(sizes.map((s) => s.shard)).toEqual([0, 1]);
    for (const s of sizes) expect(s.size_bytes).toBeGreaterThan(0);
    const { results } = await env.DB.prepare("SELECT shard, size_bytes FROM ledger_shards ORDER BY shard").all();
    expect(results).toEqual(sizes);
    // Shard 0 reported far fuller: new stores go to shard 1, however many stores it has.
    await env.DB.prepare("UPDATE ledger_shards SET size_bytes = ?1 WHERE shard = 0")
      .bind(8 * SIZE_BUCKET_BYTES)
      .run();
    for (let i = 0; i < 3; i++) expect((await placeNewStore(env, undefined)).ledger_shard).toBe(1);
    await measureLedgerShards(env);
  });

  it("gives a store the index its creation names; dedicated indexes are left out of automatic placement", async () => {
    const org = unique("org");
    const res = await call("POST", "/v1/admin/vector-stores", { organization_id: org, index: 1 }, ADMIN);
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).index).toBe(1);
    const bad = await call("POST", "/v1/admin/vector-stores", { organization_id: org, index: 7 }, ADMIN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details.fields.index[0]).toMatch(/bound vector index: 0, 1/);
    const dedicated = { ...env, DEDICATED_VECTOR_INDEXES: "1" };
    for (let i = 0; i < 3; i++) expect((await placeNewStore(dedicated, undefined)).index).toBe(0);
    expect((await placeNewStore(dedicated, 1)).index).toBe(1);
  });
});

describe("routing: every read and write of a store goes to its shard and its index", () => {
  it("two stores on different shards never touch each other's shard or index", async () => {
    const [a, b] = await twoStores();
    for (const t of [a, b]) {
      expect((await sync(t, [upsert("x", { title: `record of ${t.store}` }), upsert("y", { title: "other" })])).status).toBe(200);
      const full = await sync(t, [upsert("x", { title: `record of ${t.store}` })], {
        sync_mode: "full_refresh",
        sync_timestamp: "2026-02-01T00:00:00Z",
      });
      expect(full.body.results).toMatchObject({ unchanged: 1, deleted: 1 });
    }
    for (const [t, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const own = await ledgerOfStore(t.store);
      const foreign = shards.find((db) => db !== own)!;
      expect(await rowsIn(own, t.store)).toMatchObject({ state: 2, bodies: 2, syncs: 2, runs: 1, watermarks: 1 });
      expect(await rowsIn(foreign, t.store)).toEqual({ state: 0, bodies: 0, syncs: 0, runs: 0, watermarks: 0 });
      expect(await rowsIn(env.DB, t.store)).toEqual({ state: 0, bodies: 0, syncs: 0, runs: 0, watermarks: 0 });
      // Its vectors are in its own index only.
      const index = await indexOfStore(t.store);
      expect((await index.dump()).filter((v) => v.vector_store_id === t.store)).toHaveLength(1);
      expect((await (await indexOfStore(other.store)).dump()).filter((v) => v.vector_store_id === t.store)).toEqual([]);
      await expectIndexMatchesLedger(t.store);

      // Reads follow the store: records, namespaces, search, runs, sync status and lists.
      expect((await getRecord(t, "clickup_tasks", "x")).body.data).toEqual({ title: `record of ${t.store}` });
      const namespaces = (await (await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, key(t))).json()) as any;
      expect(namespaces.namespaces).toMatchObject([{ namespace: "clickup_tasks", record_count: 1, vector_count: 1 }]);
      const list = (await (await call("GET", `/v1/vector_stores/${t.store}/records/clickup_tasks`, undefined, key(t))).json()) as any;
      expect(list.records.map((r: any) => r.id)).toEqual(["x"]);
      const search = (await (
        await call("POST", `/v1/vector_stores/${t.store}/search`, { query: `record of ${t.store}` }, key(t))
      ).json()) as any;
      expect(search.results.map((r: any) => r.record_id)).toEqual(["x"]);
      const run = await call(
        "GET",
        `/v1/connectors/pipeline/runs/${t.store}/${encodeURIComponent("2026-02-01T00:00:00Z")}`,
        undefined,
        key(t),
      );
      expect(run.status).toBe(200);
    }
    // The organization's sync list merges both shards, newest first; each status is found.
    const listed = (await (await call("GET", "/v1/connectors/pipeline/syncs", undefined, key(a))).json()) as any;
    expect(listed.syncs).toHaveLength(4);
    expect(new Set(listed.syncs.map((s: any) => s.vector_store_id))).toEqual(new Set([a.store, b.store]));
    const times = listed.syncs.map((s: any) => s.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const page = (await (await call("GET", "/v1/connectors/pipeline/syncs?limit=3", undefined, key(a))).json()) as any;
    const rest = (await (
      await call("GET", `/v1/connectors/pipeline/syncs?limit=3&cursor=${page.next_cursor}`, undefined, key(a))
    ).json()) as any;
    expect([...page.syncs, ...rest.syncs].map((s: any) => s.sync_id)).toEqual(listed.syncs.map((s: any) => s.sync_id));
    for (const s of listed.syncs) {
      const status = await call("GET", `/v1/connectors/pipeline/syncs/${s.sync_id}`, undefined, key(a));
      expect(await status.json()).toMatchObject({ sync_id: s.sync_id, vector_store_id: s.vector_store_id, queryable: true });
    }
  });

  it("namespace deletion and the Cron Trigger's reconciliation follow the store", async () => {
    const [a, b] = await twoStores();
    for (const t of [a, b]) await sync(t, [upsert("x", { v: 1 }, "ns1"), upsert("y", { v: 2 }, "ns2")]);
    // Lose b's vectors: the scheduled reconciliation must repair them in b's own index.
    const bIndex = await indexOfStore(b.store);
    const ids = (await bIndex.dump()).filter((v) => v.vector_store_id === b.store).map((v) => v.id);
    await bIndex.deleteByIds(ids);
    const ctx = createExecutionContext();
    worker.scheduled!(createScheduledController({ cron: "*/30 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    await expectIndexMatchesLedger(b.store);
    expect((await bIndex.dump()).filter((v) => v.vector_store_id === b.store)).toHaveLength(2);

    const gone = await call("DELETE", `/v1/vector_stores/${a.store}/namespaces/ns1`, undefined, key(a));
    expect(await gone.json()).toMatchObject({ records_deleted: 1, remaining: 0 });
    expect((await ledgerRows(a.store)).map((r) => r.id)).toEqual(["y"]);
    expect((await ledgerRows(b.store)).map((r) => r.id)).toEqual(["x", "y"]);
    await expectIndexMatchesLedger(a.store);
    await expectIndexMatchesLedger(b.store);
  });
});

describe("moving a store to another shard", () => {
  const move = (store: string, body: unknown) => call("POST", `/v1/admin/vector-stores/${store}/move`, body, ADMIN);

  it("copies the ledger, switches, deletes the source; syncs sent meanwhile all apply; ledger equals index after", async () => {
    const t = await createTenant();
    const from = (await placementOf(t.store)).ledger_shard;
    const to = 1 - from;
    const ops = Array.from({ length: 120 }, (_, i) => upsert(`r${i}`, { title: `record ${i}`, body: "x".repeat(i * 40) }));
    expect((await sync(t, ops)).status).toBe(200);
    await sync(t, [del("r0"), upsert("r1", { title: "changed" })], { sync_timestamp: "2026-01-16T00:00:00Z" });
    const run = await sync(t, [upsert("r2", { title: "part" })], {
      sync_mode: "full_refresh",
      final: false,
      sync_timestamp: "2026-01-17T00:00:00Z",
    });
    const before = await ledgerRows(t.store);
    const oldSource = shards[from]!;
    const sourceRows = await rowsIn(oldSource, t.store);

    // The move and a stream of syncs, all at once: the syncs queue in the store's object.
    const moving = move(t.store, { ledger_shard: to });
    const during = Array.from({ length: 6 }, (_, i) =>
      sync(t, [upsert(`new${i}`, { title: `written during the move ${i}` }), upsert(`r${10 + i}`, { title: `updated ${i}` })], {
        sync_timestamp: `2026-01-18T00:00:0${i}Z`,
      }),
    );
    const report = (await (await moving).json()) as any;
    expect(report).toMatchObject({ vector_store_id: t.store, from, to, phase: "done", done: true });
    // Syncs that reached the object before the move were copied with the rest.
    expect(report.records_copied).toBeGreaterThanOrEqual(120);
    expect(report.records_copied).toBeLessThanOrEqual(126);
    for (const res of await Promise.all(during)) expect(res.status).toBe(200);

    expect(await placementOf(t.store)).toMatchObject({ ledger_shard: to });
    expect((await (await call("GET", `/v1/vector_stores/${t.store}`, undefined, key(t))).json()) as any).toMatchObject({
      ledger_shard: to,
    });
    expect(await rowsIn(oldSource, t.store)).toEqual({ state: 0, bodies: 0, syncs: 0, runs: 0, watermarks: 0 });
    const moved = await rowsIn(shards[to]!, t.store);
    expect(moved.state).toBe(sourceRows.state + 6);
    expect(moved.syncs).toBe(sourceRows.syncs + 6);
    expect(moved.runs).toBe(1);

    // Nothing lost: what was there, plus what the syncs during the move wrote.
    const after = new Map((await ledgerRows(t.store)).map((r) => [r.id, JSON.parse(r.data)]));
    for (const row of before) if (!/^r1[0-5]$/.test(row.id)) expect(after.get(row.id)).toEqual(JSON.parse(row.data));
    for (let i = 0; i < 6; i++) {
      expect(after.get(`new${i}`)).toEqual({ title: `written during the move ${i}` });
      expect(after.get(`r${10 + i}`)).toEqual({ title: `updated ${i}` });
    }
    expect(after.has("r0")).toBe(false);
    await expectIndexMatchesLedger(t.store);

    // The store goes on working from its new shard: status of an old sync, its open run, a re-sync.
    const status = await call("GET", `/v1/connectors/pipeline/syncs/${run.body.sync_id}`, undefined, key(t));
    expect(status.status).toBe(200);
    const final = await sync(t, [], {
      sync_mode: "full_refresh",
      final: true,
      sync_timestamp: "2026-01-17T00:00:00Z",
      namespaces: ["clickup_tasks"],
    });
    expect(final.status).toBe(200);
    expect(final.body.run.state).toBe("completed");
    const again = await sync(t, ops.slice(50, 60), { sync_timestamp: "2026-01-20T00:00:00Z" });
    expect(again.body.results.upserted).toBe(10);
    await expectIndexMatchesLedger(t.store);
  });

  it("a call that read the store before the switch still reaches the new shard", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 }), upsert("b", { v: 1 }, "other")]);
    const stale = (await getVectorStore(env.DB, t.store))!;
    const to = 1 - stale.ledger_shard;
    expect((await move(t.store, { ledger_shard: to })).status).toBe(200);
    // The Cron Trigger and the admin routes pass the store as they read it: here, before the move.
    const stub = env.STORE_SYNC.get(env.STORE_SYNC.idFromName(t.store));
    expect(await stub.reconcile(stale, null, 100)).toMatchObject({ checked: 2, missing: 0 });
    expect(await stub.deleteNamespace(stale, "other")).toMatchObject({ records_deleted: 1, remaining: 0 });
    expect((await sync(t, [upsert("c", { v: 2 })], { sync_timestamp: "2026-02-01T00:00:00Z" })).status).toBe(200);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "c"]);
    expect(await rowsIn(shards[stale.ledger_shard]!, t.store)).toMatchObject({ state: 0 });
    await expectIndexMatchesLedger(t.store);
  });

  it("a search with the store as read before the switch still finds its records (searches run outside the sync object)", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "quarterly invoice overdue" }), upsert("b", { title: "printer jam" })]);
    const stale = (await getVectorStore(env.DB, t.store))!;
    expect((await move(t.store, { ledger_shard: 1 - stale.ledger_shard })).status).toBe(200);
    // A search object knows nothing of the move: the stale row names the emptied shard, every
    // match is a ghost there, and the empty answer is checked against the catalog's primary.
    const request = SearchRequest.parse({ query: "quarterly invoice overdue", top_k: 1 });
    const answer = await searchThroughStoreObject(env, stale, request, null, () => primaryStore(env.DB, t.store));
    expect(answer.results.map((r) => r.record_id)).toEqual(["a"]);
  });

  it("a move too large for one call resumes; syncs between its calls are refused with 503 and lose nothing", async () => {
    const t = await createTenant();
    const ops = Array.from({ length: 30 }, (_, i) => upsert(`r${i}`, { i }));
    await sync(t, ops);
    const store = (await getVectorStore(env.DB, t.store))!;
    const to = 1 - store.ledger_shard;
    const stub = env.STORE_SYNC.get(env.STORE_SYNC.idFromName(t.store));
    // A budget of 2 round trips a call: the copy takes several calls.
    const first = (await stub.moveLedger(store, to, 2)) as any;
    expect(first.done).toBe(false);
    const refused = await sync(t, [upsert("late", { v: 1 })], { sync_timestamp: "2026-02-01T00:00:00Z" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("30");
    expect(refused.body.error.code).toBe("STORE_MOVING");
    // With an Idempotency-Key: the 503 frees the key, so the retry after the move runs (not 409).
    const keyed = () =>
      call("POST", "/v1/connectors/pipeline/sync", syncBody(t, [upsert("keyed", { v: 1 })], { sync_timestamp: "2026-02-02T00:00:00Z" }), {
        ...key(t),
        "Idempotency-Key": "during-the-move",
      });
    expect((await keyed()).status).toBe(503);
    const nsDelete = await call("DELETE", `/v1/vector_stores/${t.store}/namespaces/clickup_tasks`, undefined, key(t));
    expect(nsDelete.status).toBe(503);
    // Another target while this move is unfinished: refused.
    const other = await move(t.store, { ledger_shard: store.ledger_shard });
    expect(other.status).toBe(409);
    let report = first;
    for (let calls = 0; !report.done && calls < 100; calls++) report = await stub.moveLedger(store, to, 2);
    expect(report).toMatchObject({ done: true, records_copied: 30, phase: "done" });
    // The client retries: it applies now, on the new shard.
    expect((await sync(t, [upsert("late", { v: 1 })], { sync_timestamp: "2026-02-01T00:00:00Z" })).status).toBe(200);
    expect((await keyed()).status).toBe(200);
    expect((await ledgerRows(t.store)).length).toBe(32);
    expect(await rowsIn(shards[store.ledger_shard]!, t.store)).toEqual({ state: 0, bodies: 0, syncs: 0, runs: 0, watermarks: 0 });
    await expectIndexMatchesLedger(t.store);
  });

  it("a move step that fails (a D1 error mid-page) runs again without harm: the target ends equal to the source", async () => {
    const t = await createTenant();
    // Bodies of 4.5 MB in all: the page of records is written in two groups (4 MiB each at most).
    const ops = Array.from({ length: 45 }, (_, i) =>
      upsert(`r${i}`, { i, body: "y".repeat(100_000) }, "clickup_tasks", { text: `record ${i}` }),
    );
    await sync(t, ops);
    await sync(t, [del("r3")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    const from = (await placementOf(t.store)).ledger_shard;
    const [source, target] = [shards[from]!, shards[1 - from]!];
    const before = await ledgerRowsIn(source, t.store);
    let saved = newMoveState(from, 1 - from);
    let switched = 0;
    const placedStore = (await getVectorStore(env.DB, t.store))!;
    const step = (db: D1Database) => ({
      source,
      target: db,
      storeId: t.store,
      maxQueries: 1000,
      switchPlacement: async (state: MoveState) => {
        switched += 1;
        saved = structuredClone(state);
      },
      save: async (state: MoveState) => {
        saved = structuredClone(state);
      },
      keywordTexts: (record: StoredContent) => searchableChunks(placedStore, record),
    });
    // The target fails on its 6th round trip (after 4 of clearing: the page's second group, its
    // first written), then on its 2nd after that (the second group again, the first rewritten).
    await expect(advanceMove(step(failingD1(target, 6)), structuredClone(saved))).rejects.toThrow(/injected D1 fault/);
    expect(saved.phase).toBe("records");
    await expect(advanceMove(step(failingD1(target, 2)), structuredClone(saved))).rejects.toThrow(/injected D1 fault/);
    const state = structuredClone(saved);
    await advanceMove(step(target), state);
    expect(state.phase).toBe("done");
    expect(switched).toBe(1);
    expect(await ledgerRowsIn(target, t.store)).toEqual(before);
    expect(await rowsIn(source, t.store)).toEqual({ state: 0, bodies: 0, syncs: 0, runs: 0, watermarks: 0 });
    // The catalog was not switched by this direct call: put the rows back where the store is.
    const back = newMoveState(1 - from, from);
    await advanceMove({ ...step(source), source: target, switchPlacement: async () => {} }, back);
    expect(await ledgerRowsIn(source, t.store)).toEqual(before);
  });

  it("refuses a move to the shard the store is on, to an unbound shard, and of an unknown store", async () => {
    const t = await createTenant();
    const { ledger_shard } = await placementOf(t.store);
    const same = await move(t.store, { ledger_shard });
    expect(same.status).toBe(409);
    expect(((await same.json()) as any).error.code).toBe("MOVE_CONFLICT");
    expect((await move(t.store, { ledger_shard: 5 })).status).toBe(400);
    expect((await move("vs_nope", { ledger_shard: 0 })).status).toBe(404);
  });
});
