import { describe, expect, it } from "vitest";
import { createTenant, del, getRecord, ledgerRows, sync, upsert } from "./support/helpers";

const REFRESH = { sync_mode: "full_refresh" };
const ids = async (store: string, namespace = "clickup_tasks") =>
  (await ledgerRows(store)).filter((r) => r.namespace === namespace).map((r) => r.id);

describe("full_refresh", () => {
  it("a run in two requests sharing a sync_timestamp leaves exactly what was sent", async () => {
    const t = await createTenant();
    await sync(
      t,
      ["a", "b", "c", "d"].map((id) => upsert(id, { v: 1 })),
      { sync_timestamp: "2026-01-01T00:00:00Z" },
    );
    await sync(t, [upsert("other", { v: 1 }, "clickup_spaces")], { sync_timestamp: "2026-01-01T00:00:00Z" });

    const ts = "2026-02-01T00:00:00Z";
    const part1 = await sync(t, [upsert("a", { v: 1 }), upsert("b", { v: 2 })], { ...REFRESH, sync_timestamp: ts });
    // After part 1: c and d were not seen by this run yet, so they are swept.
    expect(part1.body.results).toEqual({ upserted: 1, deleted: 2, unchanged: 1, failed: 0, stale: 0 });
    const part2 = await sync(t, [upsert("c", { v: 1 }), upsert("e", { v: 1 })], { ...REFRESH, sync_timestamp: ts });
    // Part 2 does not delete part 1's records: they carry the same sync_timestamp.
    expect(part2.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    expect(await ids(t.store)).toEqual(["a", "b", "c", "e"]);
    // A namespace the run never named is untouched.
    expect(await ids(t.store, "clickup_spaces")).toEqual(["other"]);
    expect((await getRecord(t, "clickup_tasks", "b")).body.data).toEqual({ v: 2 });
  });

  it("an older full_refresh is refused with 409 and changes nothing", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 2 })], { ...REFRESH, sync_timestamp: "2026-03-01T00:00:00Z" });
    const stale = await sync(t, [upsert("b", { v: 1 })], { ...REFRESH, sync_timestamp: "2026-02-01T00:00:00Z" });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("STALE_SYNC");
    expect(stale.body.error.details.namespaces).toEqual({ clickup_tasks: "2026-03-01T00:00:00.000Z" });
    expect(await ids(t.store)).toEqual(["a"]);
    // The same timestamp again is part of the same run, not stale.
    expect((await sync(t, [upsert("b", { v: 1 })], { ...REFRESH, sync_timestamp: "2026-03-01T00:00:00Z" })).status).toBe(200);
  });

  it("an upsert older than a full_refresh, of a record the refresh did not send, arrives too late", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 })], { ...REFRESH, sync_timestamp: "2026-02-01T00:00:00Z" });
    // Sent before the refresh but delivered after it: in version order the refresh swept it.
    const late = await sync(t, [upsert("z", { v: 1 }), upsert("a", { v: 0 })], { sync_timestamp: "2026-01-20T00:00:00Z" });
    expect(late.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 2 });
    expect(await ids(t.store)).toEqual(["a"]);
    // Newer than the refresh, it is applied as usual.
    const newer = await sync(t, [upsert("z", { v: 2 })], { sync_timestamp: "2026-02-02T00:00:00Z" });
    expect(newer.body.results.upserted).toBe(1);
    expect(await ids(t.store)).toEqual(["a", "z"]);
  });

  it("a full_refresh with no operations touches nothing", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 })]);
    const empty = await sync(t, [], { ...REFRESH, sync_timestamp: "2027-01-01T00:00:00Z" });
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      status: "success",
      processed: 0,
      results: { upserted: 0, deleted: 0, unchanged: 0, failed: 0, stale: 0 },
    });
    expect(await ids(t.store)).toEqual(["a"]);
  });

  it("an operation that failed validation keeps the whole request from sweeping", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 }), upsert("b", { v: 1 }), upsert("c", { v: 1 })], { sync_timestamp: "2026-01-01T00:00:00Z" });
    const res = await sync(t, [upsert("a", { v: 1 }), { action: "upsert", id: "b", namespace: "clickup_tasks", data: {} }], {
      ...REFRESH,
      sync_timestamp: "2026-02-01T00:00:00Z",
    });
    expect(res.body.status).toBe("partial_success");
    expect(res.body.results).toEqual({ upserted: 0, deleted: 0, unchanged: 1, failed: 1, stale: 0 });
    expect(res.body.sweep).toMatchObject({ deleted: 0, skipped_namespaces: ["clickup_tasks"] });
    expect(await ids(t.store)).toEqual(["a", "b", "c"]);
    expect((await getRecord(t, "clickup_tasks", "b")).body.data).toEqual({ v: 1 });
  });

  it("deletes inside a full_refresh apply; swept records stay gone for older incrementals", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { v: 1 }), upsert("b", { v: 1 }), upsert("c", { v: 1 })], { sync_timestamp: "2026-01-01T00:00:00Z" });
    const res = await sync(t, [upsert("a", { v: 1 }), del("b")], { ...REFRESH, sync_timestamp: "2026-02-01T00:00:00Z" });
    expect(res.body.results).toEqual({ upserted: 0, deleted: 2, unchanged: 1, failed: 0, stale: 0 });
    expect(res.body.by_namespace).toEqual({ clickup_tasks: { upserted: 0, deleted: 2, unchanged: 1, failed: 0, stale: 0 } });
    const late = await sync(t, [upsert("c", { v: 1 })], { sync_timestamp: "2026-01-15T00:00:00Z" });
    expect(late.body.results.stale).toBe(1);
    expect(await ids(t.store)).toEqual(["a"]);
  });
});
