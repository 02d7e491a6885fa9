import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, ledgerRows, syncBody, upsert } from "./helpers";
import { ai, counting } from "./stand-ins";

const post = (t: { key: string }, body: unknown, key?: string) =>
  call("POST", "/v1/connectors/pipeline/sync", body, { "X-API-Key": t.key, ...(key ? { "Idempotency-Key": key } : {}) });

describe("Idempotency-Key and replays", () => {
  it("the same key and body answer the stored result without applying anything again", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("a", { v: 1 }), upsert("b", { v: 2 })]);
    const first = await post(t, body, "run-42-part-1");
    const firstBody = (await first.json()) as any;
    expect(firstBody.results.upserted).toBe(2);
    // Meanwhile the record changes; a replay of the old request must not roll it back.
    await post(t, syncBody(t, [upsert("a", { v: 9 })], { sync_timestamp: "2026-01-15T10:00:00Z" }));
    const { result: again, stats } = await counting(() => post(t, body, "run-42-part-1"));
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    expect(stats).toMatchObject({ embedCalls: 0, upsertCalls: 0, deleteCalls: 0 });
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM syncs WHERE vector_store_id = ?1").bind(t.store).all<{ n: number }>();
    expect(results[0]!.n).toBe(2);
  });

  it("the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED, and nothing is applied", async () => {
    const t = await createTenant();
    await post(t, syncBody(t, [upsert("a", { v: 1 })]), "k1");
    const res = await post(t, syncBody(t, [upsert("z", { v: 1 })]), "k1");
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", type: "invalid_request_error" });
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["a"]);
  });

  it("keys are per organization, a failed request records no key, and a bad key is a 400", async () => {
    const a = await createTenant();
    const b = await createTenant();
    expect((await post(a, syncBody(a, [upsert("x", { v: 1 })]), "shared")).status).toBe(200);
    expect((await post(b, syncBody(b, [upsert("y", { v: 1 })]), "shared")).status).toBe(200);

    await ai.setFaults({ failNext: { embed: Infinity } });
    const failed = await post(a, syncBody(a, [upsert("n", { v: 1 })], { sync_timestamp: "2026-02-01T00:00:00Z" }), "retry-me");
    await ai.clearFaults();
    expect(failed.status).toBe(503);
    const retried = await post(a, syncBody(a, [upsert("n", { v: 1 })], { sync_timestamp: "2026-02-01T00:00:00Z" }), "retry-me");
    expect(retried.status).toBe(200);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
    expect(((await retried.json()) as any).results.upserted).toBe(1);

    const bad = await post(a, syncBody(a, []), "has space");
    expect(bad.status).toBe(400);
  });

  it("replaying a request without a key converges instead of duplicating", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("a", { v: 1 }), upsert("long", { body: Array.from({ length: 900 }, (_, k) => `w${k}`).join(" ") })]);
    await post(t, body);
    const { result, stats } = await counting(() => post(t, body));
    expect(((await result.json()) as any).results).toEqual({ upserted: 0, deleted: 0, unchanged: 2, failed: 0 });
    expect(stats).toMatchObject({ embedCalls: 0, upsertCalls: 0 });
  });
});
