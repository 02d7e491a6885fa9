import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { call, createTenant, ledgerRows, syncBody, unique, upsert } from "./support/helpers";
import { ai, counting } from "./support/stand-ins";
import { canonicalJson } from "../src/base/json/canonical-json";
import { sha256Base64 } from "../src/base/crypto";
import { bodyHashOf } from "../src/store/store-sync";
import { operationHashInput } from "../src/sync/operation-hash";
import { ledgerOfStore } from "./support/placement";

const post = (t: { key: string }, body: unknown, key?: string) =>
  call("POST", "/v1/connectors/pipeline/sync", body, { "X-API-Key": t.key, ...(key ? { "Idempotency-Key": key } : {}) });

/** The body hash runStoreSync reserves a key with: over the envelope and each operation's hash. */
async function hashOf(body: unknown): Promise<string> {
  const { operations, ...envelope } = body as { operations: unknown[] };
  return bodyHashOf(canonicalJson(envelope), await Promise.all(operations.map((op) => sha256Base64(canonicalJson(op)))));
}

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
    const { results } = await (await ledgerOfStore(t.store))
      .prepare("SELECT count(*) AS n FROM syncs WHERE vector_store_id = ?1")
      .bind(t.store)
      .all<{ n: number }>();
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

  it("the same request re-serialised (key order, spacing) replays; operations in another order are another body", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("a", { v: 1, w: [1, 2] }), upsert("b", { v: 2 })]) as Record<string, unknown>;
    const first = await post(t, body, "reserialised");
    expect(first.status).toBe(200);
    // Every object's keys reversed, pretty-printed: the same JSON value.
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : value !== null && typeof value === "object"
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reversed(v)]),
            )
          : value;
    const again = await post(t, JSON.stringify(reversed(body), null, 2), "reserialised");
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await again.json()) as any).sync_id).toBe(((await first.json()) as any).sync_id);

    const swapped = { ...body, operations: [...(body.operations as unknown[])].reverse() };
    const other = await post(t, swapped, "reserialised");
    expect(other.status).toBe(422);
  });

  it("a body with a number a float64 cannot hold and its correction with null are two bodies (422, not the old answer)", async () => {
    const t = await createTenant();
    const text = JSON.stringify(syncBody(t, [upsert("n", { v: 0 })]));
    const refused = await post(t, text.replace('"v":0', '"v":1e400'), "inexact");
    expect(((await refused.json()) as any).results).toMatchObject({ upserted: 0, failed: 1 });
    const corrected = await post(t, text.replace('"v":0', '"v":null'), "inexact");
    expect(corrected.status).toBe(422);
    expect(((await corrected.json()) as any).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Resent as it was, the refused body replays its answer; with a fresh key the correction applies.
    const again = await post(t, text.replace('"v":0', '"v":1e400'), "inexact");
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await post(t, text.replace('"v":0', '"v":null'), "inexact-2")).status).toBe(200);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["n"]);
  });

  it("the operation hash tells apart every value that JSON.stringify would write alike", () => {
    const inputs = [
      { a: null },
      { a: Number.POSITIVE_INFINITY },
      { a: Number.NEGATIVE_INFINITY },
      { a: "nInfinity" },
      { a: "snull" },
      { a: [null, Number.POSITIVE_INFINITY] },
      { a: [Number.POSITIVE_INFINITY, null] },
      { a: Number.POSITIVE_INFINITY, b: "nInfinity" },
      { a: "nInfinity", b: Number.POSITIVE_INFINITY },
    ];
    const texts = inputs.map(operationHashInput);
    expect(new Set(texts).size).toBe(inputs.length);
    // Values without a non-finite number keep their canonical JSON (hashes stored before stay valid).
    expect(operationHashInput({ b: null, a: 1 })).toBe(canonicalJson({ a: 1, b: null }));
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
    expect(((await result.json()) as any).results).toEqual({ upserted: 0, deleted: 0, unchanged: 2, failed: 0, stale: 0 });
    expect(stats).toMatchObject({ embedCalls: 0, upsertCalls: 0 });
  });
});

describe("Idempotency-Key reservations, per organization", () => {
  afterEach(async () => {
    await ai.clearFaults();
  });

  const reservation = async (org: string, key: string) =>
    env.DB.prepare(
      "SELECT state, sync_id, vector_store_id, body_hash FROM idempotency_reservations WHERE organization_id = ?1 AND key = ?2",
    )
      .bind(org, key)
      .first<{ state: string; sync_id: string | null; vector_store_id: string; body_hash: string }>();

  it("the same key and body sent again while the first is running waits for it and replays its answer", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("w", { v: 1 })]);
    // The first request's embedding is held 300 ms: the second arrives while it runs.
    await ai.setFaults({ delayMs: 300, failNext: { embed: 1 } });
    const first = post(t, body, "while-running");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post(t, body, "while-running");
    const firstRes = await first;
    await ai.clearFaults();
    expect([firstRes.status, second.status]).toEqual([200, 200]);
    expect(firstRes.headers.get("Idempotent-Replayed")).toBeNull();
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await second.json()) as any).sync_id).toBe(((await firstRes.json()) as any).sync_id);
    expect(await reservation(t.org, "while-running")).toMatchObject({ state: "completed" });
  });

  it("one key sent at once to two stores of one organization applies exactly one request; its retry replays", async () => {
    const org = unique("org");
    const vs1 = await createTenant({ org });
    const vs2 = await createTenant({ org });
    const caller = vs1; // an organization-wide key: it covers both stores
    const body1 = syncBody(vs1, [upsert("one", { store: 1 })]);
    const body2 = syncBody(vs2, [upsert("two", { store: 2 })]);
    // Each request's first embedding attempt fails after 300 ms and is retried: both requests
    // are inside their store's object, between the key check and the commit, at the same time.
    await ai.setFaults({ failNext: { embed: 2 }, delayMs: 300 });
    const [r1, r2] = await Promise.all([post(caller, body1, "same-key"), post(caller, body2, "same-key")]);
    await ai.clearFaults();

    const statuses = [r1.status, r2.status];
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    const one = { res: r1, body: body1, t: vs1, id: "one" };
    const two = { res: r2, body: body2, t: vs2, id: "two" };
    const [winner, loser] = r1.status === 200 ? [one, two] : [two, one];
    expect([409, 422]).toContain(loser.res.status);
    expect(((await loser.res.json()) as any).error.code).toMatch(/^IDEMPOTENCY_KEY_(REUSED|IN_PROGRESS)$/);
    const won = (await winner.res.json()) as any;
    expect(won.results.upserted).toBe(1);
    expect((await ledgerRows(winner.t.store)).map((r) => r.id)).toEqual([winner.id]);
    expect(await ledgerRows(loser.t.store)).toEqual([]);
    // Completed after the answer (the store's object does it before its next task).
    await expect
      .poll(() => reservation(org, "same-key"))
      .toMatchObject({ state: "completed", sync_id: won.sync_id, vector_store_id: winner.t.store });

    // The winner's retry replays its stored answer; the loser's retry is still refused.
    const again = await post(caller, winner.body, "same-key");
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await again.json()) as any).sync_id).toBe(won.sync_id);
    const loserAgain = await post(caller, loser.body, "same-key");
    expect(loserAgain.status).toBe(422);
    expect(await ledgerRows(loser.t.store)).toEqual([]);
  });

  it("a failed sync releases its key: the same request retried afterwards applies, and so does another store's", async () => {
    const org = unique("org");
    const vs1 = await createTenant({ org });
    const vs2 = await createTenant({ org });
    const body = syncBody(vs1, [upsert("n", { v: 1 })]);
    await ai.setFaults({ failNext: { embed: Infinity } });
    const failed = await post(vs1, body, "released");
    await ai.clearFaults();
    expect(failed.status).toBe(503);
    expect(await reservation(org, "released")).toBeNull();

    const retried = await post(vs1, body, "released");
    expect(retried.status).toBe(200);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
    expect(((await retried.json()) as any).results.upserted).toBe(1);
    expect((await ledgerRows(vs1.store)).map((r) => r.id)).toEqual(["n"]);

    // Another store of the organization, after a failure there: its key is free as well.
    await ai.setFaults({ failNext: { embed: Infinity } });
    expect((await post(vs1, syncBody(vs2, [upsert("m", { v: 1 })]), "released-2")).status).toBe(503);
    await ai.clearFaults();
    const other = await post(vs1, syncBody(vs1, [upsert("o", { v: 1 })]), "released-2");
    expect(other.status).toBe(200);
    expect((await ledgerRows(vs1.store)).map((r) => r.id)).toEqual(["n", "o"]);
  });

  it("a pending key answers 409 IDEMPOTENCY_KEY_IN_PROGRESS to its body and 422 to another, until it is abandoned", async () => {
    const t = await createTenant();
    const elsewhere = await createTenant({ org: t.org });
    const body = syncBody(t, [upsert("p", { v: 1 })]);
    const bodyHash = await hashOf(body);
    // A request that reserved the key for another store of the organization (another object, which
    // may still be running it, or whose worker died): its reservation stays pending.
    const reserve = (createdAt: string) =>
      env.DB.prepare(`
        INSERT INTO idempotency_reservations (organization_id, key, reservation_id, body_hash, vector_store_id, state, created_at)
        VALUES (?1, 'pending-key', 'idr_dead', ?2, ?3, 'pending', ?4)`)
        .bind(t.org, bodyHash, elsewhere.store, createdAt)
        .run();
    await reserve(new Date(Date.now() - 60_000).toISOString());

    const busy = await post(t, body, "pending-key");
    expect(busy.status).toBe(409);
    expect(busy.headers.get("Retry-After")).toBe("5");
    expect(((await busy.json()) as any).error).toMatchObject({ code: "IDEMPOTENCY_KEY_IN_PROGRESS", type: "conflict_error" });
    const other = await post(t, syncBody(t, [upsert("q", { v: 1 })]), "pending-key");
    expect(other.status).toBe(422);
    expect(((await other.json()) as any).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await ledgerRows(t.store)).toEqual([]);

    // Older than the 2-minute bound: abandoned, taken over by the next request.
    await env.DB.prepare("DELETE FROM idempotency_reservations WHERE organization_id = ?1").bind(t.org).run();
    await reserve(new Date(Date.now() - 121_000).toISOString());
    const taken = await post(t, body, "pending-key");
    expect(taken.status).toBe(200);
    expect(taken.headers.get("Idempotent-Replayed")).toBeNull();
    const syncId = ((await taken.json()) as any).sync_id;
    await expect.poll(() => reservation(t.org, "pending-key")).toMatchObject({ state: "completed", sync_id: syncId });

    // Past the 24-hour window a completed key is free again, for any body.
    await env.DB.prepare("UPDATE idempotency_reservations SET completed_at = ?2 WHERE organization_id = ?1")
      .bind(t.org, new Date(Date.now() - 25 * 3600_000).toISOString())
      .run();
    const later = await post(t, syncBody(t, [upsert("q", { v: 2 })]), "pending-key");
    expect(later.status).toBe(200);
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["p", "q"]);
  });

  it("a pending key of this store left by a gone instance of its object is taken over at once, keeping its sync id", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("g", { v: 1 })]);
    // The store's object crashed mid-sync (its reservation, seconds old, names an instance that no
    // longer exists): a retry runs now instead of hearing 409 for two minutes.
    await env.DB.prepare(`
      INSERT INTO idempotency_reservations (organization_id, key, reservation_id, body_hash, vector_store_id, state, sync_id, created_at)
      VALUES (?1, 'crashed-key', 'idr_0123456789abcdef_00', ?2, ?3, 'pending', 'sync_never_committed', ?4)`)
      .bind(t.org, await hashOf(body), t.store, new Date(Date.now() - 5_000).toISOString())
      .run();
    const retry = await post(t, body, "crashed-key");
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(((await retry.json()) as any).sync_id).toBe("sync_never_committed");
    expect((await ledgerRows(t.store)).map((r) => r.id)).toEqual(["g"]);
    await expect.poll(() => reservation(t.org, "crashed-key")).toMatchObject({ state: "completed", sync_id: "sync_never_committed" });
  });

  it("a sync that committed in its shard but whose key was never completed (its worker died) is answered, not run again", async () => {
    const t = await createTenant();
    const body = syncBody(t, [upsert("c", { v: 1 })]);
    const first = await post(t, body, "died-after-commit");
    const firstBody = (await first.json()) as any;
    expect(first.status).toBe(200);
    // The catalog as a worker that died between the shard's commit and the key's completion leaves it.
    const dieAt = (ms: number) =>
      env.DB.prepare(`UPDATE idempotency_reservations SET state = 'pending', completed_at = NULL, created_at = ?3
                      WHERE organization_id = ?1 AND key = ?2`)
        .bind(t.org, "died-after-commit", new Date(Date.now() - ms).toISOString())
        .run();
    // Still pending (its worker may be alive): its sync has committed, so that is the answer.
    await dieAt(30_000);
    for (const age of [30_000, 121_000]) {
      await dieAt(age);
      const { result: again, stats } = await counting(() => post(t, body, "died-after-commit"));
      expect(again.status).toBe(200);
      expect(again.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await again.json()).toEqual(firstBody);
      expect(stats).toMatchObject({ embedCalls: 0, upsertCalls: 0, deleteCalls: 0 });
    }
    // The request that took the abandoned key over completed it (after its answer).
    await expect.poll(() => reservation(t.org, "died-after-commit")).toMatchObject({ state: "completed", sync_id: firstBody.sync_id });
    const { results } = await (await ledgerOfStore(t.store))
      .prepare("SELECT count(*) AS n FROM syncs WHERE vector_store_id = ?1")
      .bind(t.store)
      .all<{ n: number }>();
    expect(results[0]!.n).toBe(1);
  });
});
