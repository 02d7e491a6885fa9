import { describe, expect, it } from "vitest";
import { createTenant, getRecord, ledgerRows, sync, upsert } from "./support/helpers";

describe("operation-level validation: a bad operation fails alone", () => {
  it("one bad operation among good ones: the others apply, it is listed in errors", async () => {
    const t = await createTenant();
    const res = await sync(t, [
      upsert("good-1", { x: 1 }),
      { action: "upsert", id: "no-data", namespace: "clickup_tasks" },
      upsert("good-2", { x: 2 }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("partial_success");
    expect(res.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 1, stale: 0 });
    expect(res.body.by_namespace.clickup_tasks.failed).toBe(1);
    expect(res.body.errors).toEqual([
      { index: 1, id: "no-data", namespace: "clickup_tasks", code: "INVALID_OPERATION", message: expect.stringContaining("data") },
    ]);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["good-1", "good-2"]);
  });

  it("every kind of invalid operation is reported with its index", async () => {
    const t = await createTenant();
    const bad = [
      { action: "merge", id: "a", namespace: "ns", data: { x: 1 } },
      { action: "upsert", id: "", namespace: "ns", data: { x: 1 } },
      { action: "upsert", id: "x".repeat(256), namespace: "ns", data: { x: 1 } },
      { action: "upsert", id: "a", namespace: "has space", data: { x: 1 } },
      { action: "upsert", id: "a", namespace: "n".repeat(65), data: { x: 1 } },
      { action: "upsert", id: "a", namespace: "ns", data: {} },
      { action: "upsert", id: "a", namespace: "ns", data: [1, 2] },
      { action: "upsert", id: "a", namespace: "ns", data: { x: 1 }, updated_at: "yesterday" },
      { action: "upsert", id: "a", namespace: "ns", data: { x: 1 }, created_at: "2026-02-30T00:00:00Z" },
      { action: "delete", id: 42, namespace: "ns" },
      "not an object",
      null,
      { action: "upsert", id: "big", namespace: "ns", data: { text: "x".repeat(300 * 1024) } },
    ];
    const res = await sync(t, [...bad, upsert("ok", { x: 1 }, "ns")]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 0, failed: bad.length, stale: 0 });
    expect(res.body.errors.map((e: any) => e.index)).toEqual(bad.map((_, i) => i));
    expect(res.body.errors.at(-1)).toMatchObject({ id: "big", code: "RECORD_TOO_LARGE" });
    expect(res.body.errors[0].message).toMatch(/upsert.*delete/);
    expect(res.body.errors[2].id).toHaveLength(255); // echoed ids are clipped
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["ok"]);
  });

  it("when every operation fails the status is 'failed' and nothing is written", async () => {
    const t = await createTenant();
    const res = await sync(t, [{ action: "upsert", id: "a", namespace: "ns" }]);
    expect(res.body).toMatchObject({ status: "failed", processed: 1, results: { failed: 1 } });
    expect(await ledgerRows(t.store)).toEqual([]);
    expect((await getRecord(t, "ns", "a")).status).toBe(404);
  });

  it("an id of 255 characters and unicode content are accepted", async () => {
    const t = await createTenant();
    const id = "é".repeat(255);
    const res = await sync(t, [upsert(id, { title: "Überprüfung 🚀" }, "ns")]);
    expect(res.body.results.upserted).toBe(1);
    expect((await getRecord(t, "ns", id)).body.data).toEqual({ title: "Überprüfung 🚀" });
  });
});
