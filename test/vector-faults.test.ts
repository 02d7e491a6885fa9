import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createTenant, del, getRecord, ledgerRows, sync, upsert } from "./support/helpers";
import { ai, expectIndexMatchesLedger, index } from "./support/stand-ins";
import { validateQuery, validateVectors } from "../src/local/local-vector-index";

const longText = (words: number, seed: string) => Array.from({ length: words }, (_, i) => `${seed}${i} word`).join(" ");

afterEach(async () => {
  await ai.clearFaults();
});

describe("injected faults leave a ledger that matches the index, and a replay converges", () => {
  it("a passing embedding outage is retried away", async () => {
    const t = await createTenant();
    await ai.setFaults({ failNext: { embed: 2 } });
    const res = await sync(t, [upsert("a", { title: "retried" })]);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    await expectIndexMatchesLedger(t.store);
  });

  it("an embedding outage that applies nothing is a 503 with Retry-After; the replay applies it all", async () => {
    const t = await createTenant();
    await sync(t, [upsert("old", { title: "before" })]);
    await ai.setFaults({ failNext: { embed: Infinity } });
    const body = [upsert("old", { title: "after" }), upsert("new", { title: "fresh" })];
    const res = await sync(t, body, { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", type: "api_error", status: 503 });
    expect(res.headers.get("Retry-After")).toBe("10");
    expect((await getRecord(t, "clickup_tasks", "old")).body.data).toEqual({ title: "before" });
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["old"]);
    await expectIndexMatchesLedger(t.store);

    await ai.clearFaults();
    const replay = await sync(t, body, { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(replay.body.results).toEqual({ upserted: 2, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    expect((await getRecord(t, "clickup_tasks", "old")).body.data).toEqual({ title: "after" });
    await expectIndexMatchesLedger(t.store);
  });

  it("a failed vector upsert batch fails only its records: partial_success, then the replay converges", async () => {
    const t = await createTenant();
    // 1100 records of one chunk each: two upsert calls (1000 + 100). The one carrying r0000 fails every attempt.
    const ops = Array.from({ length: 1100 }, (_, i) => upsert(`r${String(i).padStart(4, "0")}`, { title: `record ${i}` }));
    await ai.setFaults({ failUpsertOfRecords: ["r0000"] });
    const res = await sync(t, ops);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("partial_success");
    expect(res.body.results).toEqual({ upserted: 100, deleted: 0, unchanged: 0, failed: 1000, stale: 0 });
    expect(res.body.errors[0]).toMatchObject({ code: "VECTOR_WRITE_FAILED" });
    expect((await ledgerRows(t.store)).length).toBe(res.body.results.upserted);
    await expectIndexMatchesLedger(t.store);

    await ai.clearFaults();
    const replay = await sync(t, ops);
    expect(replay.body.results).toEqual({
      upserted: res.body.results.failed,
      deleted: 0,
      unchanged: res.body.results.upserted,
      failed: 0,
      stale: 0,
    });
    expect(await expectIndexMatchesLedger(t.store)).toBe(1100);
  });

  it("a failed vector delete keeps the record in the ledger until a replay deletes it", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "to delete" }), upsert("b", { title: "to keep" })]);
    await ai.setFaults({ failNext: { deleteByIds: Infinity } });
    const res = await sync(t, [del("a")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(res.status).toBe(503);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "b"]);
    await expectIndexMatchesLedger(t.store);
    await ai.clearFaults();
    const replay = await sync(t, [del("a")], { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(replay.body.results.deleted).toBe(1);
    expect(await expectIndexMatchesLedger(t.store)).toBe(1);
  });

  it("a shrink whose trailing delete fails leaves the old record, and the replay shrinks it", async () => {
    const t = await createTenant();
    await sync(t, [upsert("long", { body: longText(1200, "w") }), upsert("other", { title: "other" })]);
    const before = await expectIndexMatchesLedger(t.store);
    await ai.setFaults({ failNext: { deleteByIds: Infinity } });
    const shrink = [upsert("long", { body: "short now" }), upsert("other", { title: "other changed" })];
    const res = await sync(t, shrink, { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(res.body.status).toBe("partial_success");
    expect(res.body.errors).toEqual([expect.objectContaining({ index: 0, id: "long", code: "VECTOR_WRITE_FAILED" })]);
    // The ledger still expects the old chunk count, and the index still has all those ids.
    expect(await expectIndexMatchesLedger(t.store)).toBe(before);
    await ai.clearFaults();
    await sync(t, shrink, { sync_timestamp: "2026-01-16T00:00:00Z" });
    expect(await expectIndexMatchesLedger(t.store)).toBe(2);
  });

  it("a sweep whose vector delete fails is reported and retried by the next request of the run", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { t: 1 }), upsert("b", { t: 2 })], { sync_timestamp: "2026-01-01T00:00:00Z" });
    await ai.setFaults({ failNext: { deleteByIds: Infinity } });
    const run = { sync_mode: "full_refresh", sync_timestamp: "2026-02-01T00:00:00Z" };
    const res = await sync(t, [upsert("a", { t: 1 }), upsert("c", { t: 3 })], run);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("partial_success");
    expect(res.body.results).toEqual({ upserted: 1, deleted: 0, unchanged: 1, failed: 0, stale: 0 });
    expect(res.body.errors).toEqual([expect.objectContaining({ index: null, id: "b", code: "VECTOR_WRITE_FAILED" })]);
    await expectIndexMatchesLedger(t.store);
    await ai.clearFaults();
    const again = await sync(t, [upsert("a", { t: 1 }), upsert("c", { t: 3 })], run);
    expect(again.body.results.deleted).toBe(1);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a", "c"]);
    await expectIndexMatchesLedger(t.store);
  });

  it("the index stand-in enforces Vectorize's limits", async () => {
    const vec = Array.from({ length: 768 }, () => 0.1);
    // The checks the stand-in's upsert/insert/query run before touching its store.
    expect(() => validateVectors([{ id: "x".repeat(65), values: vec }], 768)).toThrow(/64 bytes/);
    expect(() => validateVectors([{ id: "é".repeat(33), values: vec }], 768)).toThrow(/64 bytes/);
    expect(() => validateVectors([{ id: "short", values: [1, 2] }], 768)).toThrow(/dimensions/);
    expect(() => validateVectors([{ id: "nan", values: vec.map(() => NaN) }], 768)).toThrow(/non-finite/);
    expect(() =>
      validateVectors(
        Array.from({ length: 1001 }, (_, i) => ({ id: `v${i}`, values: vec })),
        768,
      ),
    ).toThrow(/1000/);
    expect(() => validateVectors([{ id: "m", values: vec, metadata: { big: "x".repeat(10_300) } }], 768)).toThrow(/10 KiB/);
    expect(() => validateVectors([{ id: "ns", namespace: "n".repeat(65), values: vec }], 768)).toThrow(/namespace/);
    expect(() => validateQuery(vec, { topK: 21, returnMetadata: "all" }, 768)).toThrow(/topK/);
    expect(() => validateQuery(vec, { topK: 101 }, 768)).toThrow(/topK/);
    expect(() => validateQuery(vec, { topK: 100 }, 768)).not.toThrow();
    // insert keeps an existing id, as Vectorize does; upsert replaces it.
    await index.upsert([{ id: "keep", values: vec, metadata: { v: 1 } }]);
    await index.insert([{ id: "keep", values: vec, metadata: { v: 2 } }]);
    expect((await index.getByIds(["keep"]))[0]!.metadata).toEqual({ v: 1 });
    const info = await index.describe();
    expect(info.dimensions).toBe(768);
    expect((env as unknown as { EMBEDDING_DIMENSIONS: string }).EMBEDDING_DIMENSIONS).toBe("768");
  });
});
