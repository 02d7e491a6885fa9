import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createScheduledController, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../src/index";
import { recordVectorStem, vectorId, vectorNamespace } from "../src/vectors/ids";
import { ADMIN, call, createTenant, sync, upsert } from "./support/helpers";
import { expectIndexMatchesLedger, index } from "./support/stand-ins";
import { ledgerOfStore } from "./support/placement";

const long = Array.from({ length: 900 }, (_, k) => `w${k}`).join(" ");
const reconcile = async (store: string, body?: unknown) => {
  const res = await call("POST", `/v1/admin/vector-stores/${store}/reconcile`, body, ADMIN);
  return { status: res.status, body: (await res.json()) as any };
};

describe("reconciliation and queryability", () => {
  it("finds and repairs missing vectors, deletes known-stale ones, and reports what it did", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "alpha" }), upsert("long", { body: long }), upsert("c", { title: "gamma" })]);
    const total = await expectIndexMatchesLedger(t.store);
    // Drift, as an outage could leave it: two vectors lost, one ghost past a record's chunks.
    const stemA = await recordVectorStem(t.store, "clickup_tasks", "a");
    const stemLong = await recordVectorStem(t.store, "clickup_tasks", "long");
    await index.deleteByIds([vectorId(stemA, 0), vectorId(stemLong, 1)]);
    const [ghostSource] = await index.getByIds([vectorId(stemLong, 0)]);
    await index.upsert([
      {
        id: vectorId(stemA, 1),
        values: ghostSource!.values,
        namespace: await vectorNamespace(t.store, "clickup_tasks"),
        metadata: { vector_store_id: t.store, record_id: "a", chunk: 1 },
      },
    ]);

    const report = await reconcile(t.store);
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
      checked: total,
      missing: 2,
      repaired: 2,
      stale_deleted: 1,
      failed: 0,
      keywords_repaired: 0,
      next_cursor: null,
    });
    await expectIndexMatchesLedger(t.store);
    const again = await reconcile(t.store, { limit: 2 });
    expect(again.body).toMatchObject({ missing: 0, repaired: 0, stale_deleted: 0, next_cursor: expect.any(String) });
    const rest = await reconcile(t.store, { limit: 2, cursor: again.body.next_cursor });
    expect(rest.body).toMatchObject({ missing: 0, next_cursor: null });
    expect(again.body.checked + rest.body.checked).toBe(total);
  });

  it("is admin-only and validates its input", async () => {
    const t = await createTenant();
    const res = await call("POST", `/v1/admin/vector-stores/${t.store}/reconcile`, {}, { "X-API-Key": t.key });
    expect(res.status).toBe(401);
    expect((await reconcile("vs_missing")).status).toBe(404);
    expect((await reconcile(t.store, { cursor: "nope" })).status).toBe(400);
  });

  it("runs on the Cron Trigger too", async () => {
    const t = await createTenant();
    await sync(t, [upsert("a", { title: "alpha" })]);
    const stem = await recordVectorStem(t.store, "clickup_tasks", "a");
    await index.deleteByIds([vectorId(stem, 0)]);
    const ctx = createExecutionContext();
    worker.scheduled!(createScheduledController({ cron: "*/30 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    await expectIndexMatchesLedger(t.store);
  });

  it("a sync's status tells whether the index has applied its mutations", async () => {
    const t = await createTenant();
    const res = await sync(t, [upsert("a", { title: "alpha" })]);
    const status = await call("GET", `/v1/connectors/pipeline/syncs/${res.body.sync_id}`, undefined, { "X-API-Key": t.key });
    expect(await status.json()).toMatchObject({ sync_id: res.body.sync_id, queryable: true, status: "success" });
    const { results } = await (await ledgerOfStore(t.store))
      .prepare("SELECT mutation_ids FROM syncs WHERE id = ?1")
      .bind(res.body.sync_id)
      .all<{ mutation_ids: string }>();
    expect(JSON.parse(results[0]!.mutation_ids)).toHaveLength(1);
  });
});

describe("isQueryable", () => {
  const sync = { mutation_ids: JSON.stringify(["m1", "m2"]), created_at: "2026-01-15T10:00:00.000Z" };
  const index = (processedUpToMutation: unknown, processedUpToDatetime: number) =>
    ({ describe: async () => ({ processedUpToMutation, processedUpToDatetime }) }) as never;
  it("is false until the index has processed past the sync, true after", async () => {
    const { isQueryable } = await import("../src/vectors/queryable");
    expect(await isQueryable(index("m0", Date.parse("2026-01-15T09:59:59Z")), sync)).toBe(false);
    expect(await isQueryable(index("m2", 0), sync)).toBe(true);
    expect(await isQueryable(index("m9", Date.parse("2026-01-15T10:00:01Z")), sync)).toBe(true);
    expect(await isQueryable(index("m9", Date.parse("2026-01-15T10:00:01Z") / 1000), sync)).toBe(true);
    expect(await isQueryable(index("m0", 0), { ...sync, mutation_ids: "[]" })).toBe(true);
    expect(
      await isQueryable(
        {
          describe: async () => {
            throw new Error("down");
          },
        } as never,
        sync,
      ),
    ).toBeNull();
  });
});

describe("the Cron Trigger's round over many stores", () => {
  it("visits at most storesPerRun stores a run, with a bounded number of D1 round trips, and every store over successive runs", async () => {
    const { reconcileAllStores } = await import("../src/jobs/reconcile");
    const { wrapD1 } = await import("../measure/d1-wrapper");
    // Whatever stores other tests made, the round must reach these three, each once per round.
    const mine = new Set<string>();
    for (let i = 0; i < 3; i++) mine.add((await createTenant()).store);
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM vector_stores").all<{ n: number }>();
    const total = results[0]!.n;
    let trips = 0;
    const counted = { ...env, DB: wrapD1(env.DB, () => (trips += 1)) };
    const seen: string[] = [];
    let runs = 0;
    while (seen.length < total) {
      trips = 0;
      const out = await reconcileAllStores(counted, 2);
      runs += 1;
      expect(out.length).toBeLessThanOrEqual(2);
      // One read of the round's state, one of the stores and their cursors, one write batch.
      expect(trips).toBe(3);
      seen.push(...out.map((o) => o.store));
      if (out.length < 2) break; // the round ended
    }
    expect(new Set(seen).size).toBe(seen.length); // no store twice in a round
    for (const id of mine) expect(seen).toContain(id);
    expect(runs).toBeGreaterThanOrEqual(Math.ceil(total / 2));
  });
});
