import { describe, expect, it } from "vitest";
import { call, createTenant, del, getRecord, ledgerRows, sync, upsert } from "./support/helpers";
import { ledgerOfStore } from "./support/placement";

const counts = (upserted: number, deleted: number, unchanged: number, failed: number, stale = 0) => ({
  upserted,
  deleted,
  unchanged,
  failed,
  stale,
});

describe("incremental sync", () => {
  it("the contract's filled-in example answers 200 with exactly the documented fields", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      { action: "upsert", id: "task_123", namespace: "clickup_tasks", data: { name: "Implement new feature", status: "in_progress" } },
      { action: "delete", id: "task_99", namespace: "clickup_tasks" },
    ]);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      "by_namespace",
      "errors",
      "processed",
      "processing_time_ms",
      "results",
      "status",
      "sync_id",
    ]);
    expect(res.body).toMatchObject({
      status: "success",
      processed: 2,
      results: counts(1, 1, 0, 0),
      by_namespace: { clickup_tasks: counts(1, 1, 0, 0) },
      errors: [],
    });
    expect(res.body.sync_id).toMatch(/^sync_[0-9a-f]{24}$/);
    expect(Number.isInteger(res.body.processing_time_ms)).toBe(true);

    const record = await getRecord(t, "clickup_tasks", "task_123");
    expect(record.body).toEqual({
      id: "task_123",
      namespace: "clickup_tasks",
      data: { name: "Implement new feature", status: "in_progress" },
      file: null,
      created_at: null,
      updated_at: null,
      synced_at: "2026-01-15T10:00:00.000Z",
      sync_id: res.body.sync_id,
    });
  });

  it("the stored result is readable by sync id, through the alias path too", async () => {
    const t = await createTenant();
    const res = await call(
      "POST",
      "/v1/pipeline/sync",
      {
        organization_id: t.org,
        vector_store_id: t.store,
        sync_mode: "incremental",
        sync_timestamp: "2026-01-15T10:00:00Z",
        operations: [upsert("a", { x: 1 })],
      },
      { "X-API-Key": t.key },
    );
    const body = (await res.json()) as any;
    expect(body.results.upserted).toBe(1);
    const stored = await call("GET", `/v1/connectors/pipeline/syncs/${body.sync_id}`, undefined, { "X-API-Key": t.key });
    expect(stored.status).toBe(200);
    expect(await stored.json()).toMatchObject({
      sync_id: body.sync_id,
      vector_store_id: t.store,
      sync_mode: "incremental",
      status: "success",
      results: body.results,
      processed: 1,
    });
  });

  it("upsert replaces, an identical upsert is unchanged, a delete removes", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "v1", tags: ["x"] }, "clickup_tasks", { file: { file_relative_path: "a.txt" } })]);
    const same = await sync(t, [upsert("a", { tags: ["x"], title: "v1" }, "clickup_tasks", { file: { file_relative_path: "a.txt" } })], {
      sync_timestamp: "2026-01-15T11:00:00Z",
    });
    expect(same.body.results).toEqual(counts(0, 0, 1, 0)); // key order does not matter
    const changed = await sync(t, [upsert("a", { title: "v2" })], { sync_timestamp: "2026-01-15T12:00:00Z" });
    expect(changed.body.results).toEqual(counts(1, 0, 0, 0));
    expect((await getRecord(t, "clickup_tasks", "a")).body.data).toEqual({ title: "v2" });
    const gone = await sync(t, [del("a"), del("never-existed")], { sync_timestamp: "2026-01-15T13:00:00Z" });
    expect(gone.body.results).toEqual(counts(0, 2, 0, 0));
    expect((await getRecord(t, "clickup_tasks", "a")).status).toBe(404);
  });

  it("an unchanged re-send still moves synced_at, and the record keeps its data", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { x: 1 })]);
    const again = await sync(t, [upsert("a", { x: 1 })], { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(again.body.results.unchanged).toBe(1);
    const record = (await getRecord(t, "clickup_tasks", "a")).body;
    expect(record.synced_at).toBe("2026-01-16T00:00:00.000Z");
    expect(record.data).toEqual({ x: 1 });
  });

  it("stale operations are ignored: late deliveries never roll data back", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: "new" }, "clickup_tasks", { updated_at: "2026-01-10T00:00:00Z" })]);
    const late = await sync(t, [upsert("a", { v: "old" }, "clickup_tasks", { updated_at: "2026-01-09T00:00:00Z" })]);
    expect(late.body.results).toEqual(counts(0, 0, 0, 0, 1));
    expect(late.body.by_namespace).toEqual({ clickup_tasks: counts(0, 0, 0, 0, 1) });
    expect((await getRecord(t, "clickup_tasks", "a")).body.data).toEqual({ v: "new" });

    // Without updated_at the request's sync_timestamp orders it: an older request is stale too.
    await sync(t, [upsert("b", { v: "new" })], { sync_timestamp: "2026-01-20T00:00:00Z" });
    const olderRequest = await sync(t, [upsert("b", { v: "old" }), del("b")], { sync_timestamp: "2026-01-19T00:00:00Z" });
    expect(olderRequest.body.results).toEqual(counts(0, 0, 0, 0, 2));
    expect((await getRecord(t, "clickup_tasks", "b")).body.data).toEqual({ v: "new" });
  });

  it("a sync result stored before stale was counted reads stale: 0 (status, list and replay alike)", async () => {
    const t = await createTenant();
    const res = await sync(t, [upsert("a", { v: 1 })]);
    const db = await ledgerOfStore(t.store);
    await db
      .prepare("UPDATE syncs SET result = json_remove(result, '$.results.stale', '$.by_namespace.clickup_tasks.stale') WHERE id = ?1")
      .bind(res.body.sync_id)
      .run();
    const key = { "X-API-Key": t.key };
    const one = (await (await call("GET", `/v1/connectors/pipeline/syncs/${res.body.sync_id}`, undefined, key)).json()) as any;
    expect(one.results).toEqual(counts(1, 0, 0, 0));
    expect(one.by_namespace).toEqual({ clickup_tasks: counts(1, 0, 0, 0) });
    const list = (await (await call("GET", "/v1/connectors/pipeline/syncs", undefined, key)).json()) as any;
    expect(list.syncs[0].results).toEqual(counts(1, 0, 0, 0));
  });

  it("an unchanged re-send still advances the version: an older delete after it is stale", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 })], { sync_timestamp: "2026-01-01T00:00:00Z" });
    const confirm = await sync(t, [upsert("a", { v: 1 })], { sync_timestamp: "2026-01-03T00:00:00Z" });
    expect(confirm.body.results.unchanged).toBe(1);
    const late = await sync(t, [del("a")], { sync_timestamp: "2026-01-02T00:00:00Z" });
    expect(late.body.results).toEqual(counts(0, 0, 0, 0, 1));
    expect((await getRecord(t, "clickup_tasks", "a")).body.data).toEqual({ v: 1 });
  });

  it("a delete leaves a tombstone: an older upsert arriving later does not resurrect the record", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 })], { sync_timestamp: "2026-01-01T00:00:00Z" });
    await sync(t, [del("a")], { sync_timestamp: "2026-01-03T00:00:00Z" });
    const late = await sync(t, [upsert("a", { v: 1 })], { sync_timestamp: "2026-01-02T00:00:00Z" });
    expect(late.body.results.stale).toBe(1);
    expect((await getRecord(t, "clickup_tasks", "a")).status).toBe(404);
    // A newer upsert does bring it back.
    const newer = await sync(t, [upsert("a", { v: 2 })], { sync_timestamp: "2026-01-04T00:00:00Z" });
    expect(newer.body.results.upserted).toBe(1);
    expect((await getRecord(t, "clickup_tasks", "a")).body.data).toEqual({ v: 2 });
  });

  it("the same record twice in one request: the later one wins", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      upsert("a", { v: 1 }),
      upsert("a", { v: 2 }),
      upsert("b", { v: 1 }),
      del("b"),
      del("c"),
      upsert("c", { v: 3 }),
    ]);
    expect(res.body.processed).toBe(6);
    expect(res.body.results).toEqual(counts(4, 2, 0, 0));
    expect((await getRecord(t, "clickup_tasks", "a")).body.data).toEqual({ v: 2 });
    expect((await getRecord(t, "clickup_tasks", "b")).status).toBe(404);
    expect((await getRecord(t, "clickup_tasks", "c")).body.data).toEqual({ v: 3 });
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "c"]);
  });

  it("namespaces are listed with live record counts; ids with '/' and spaces round-trip", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { x: 1 }), upsert("b", { x: 1 }), upsert("folder/file name.md", { x: 2 }, "notion.pages"), del("b")]);
    const res = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
    expect(await res.json()).toEqual({
      vector_store_id: t.store,
      namespaces: [
        { namespace: "clickup_tasks", record_count: 1, vector_count: 1, last_synced_at: "2026-01-15T10:00:00.000Z" },
        { namespace: "notion.pages", record_count: 1, vector_count: 1, last_synced_at: "2026-01-15T10:00:00.000Z" },
      ],
    });
    expect((await getRecord(t, "notion.pages", "folder/file name.md")).body.data).toEqual({ x: 2 });
  });

  it("keeps every field of a record: file, timestamps, and a __proto__ key in data", async () => {
    const t = await createTenant();
    const raw =
      `{"organization_id":"${t.org}","vector_store_id":"${t.store}","sync_mode":"incremental",` +
      `"sync_timestamp":"2026-01-15T10:00:00+02:00","operations":[{"action":"upsert","id":"p","namespace":"ns",` +
      `"data":{"__proto__":{"polluted":true},"title":"T"},"file":{"file_url":"https://f/x","file_relative_path":"x.pdf"},` +
      `"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-15T07:00:00Z","source_system":"airbyte"}]}`;
    const res = await call("POST", "/v1/connectors/pipeline/sync", raw, { "X-API-Key": t.key });
    expect(res.status).toBe(200);
    const record = (await getRecord(t, "ns", "p")).body;
    expect(record).toMatchObject({
      file: { file_url: "https://f/x", file_relative_path: "x.pdf" },
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-15T07:00:00Z",
      synced_at: "2026-01-15T08:00:00.000Z",
    });
    expect(Object.keys(record.data)).toEqual(["__proto__", "title"]);
    expect(({} as any).polluted).toBeUndefined();
  });
});
