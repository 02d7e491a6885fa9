import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { expireOldRows, syncResultRetentionDays } from "../src/db/expiry";
import { call, createTenant, sync, upsert } from "./support/helpers";
import { ledgerOfStore } from "./support/placement";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse("2026-11-29T12:00:00.000Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

async function addSync(id: string, createdAt: string) {
  await env.DB.prepare(
    `INSERT INTO syncs (id, organization_id, vector_store_id, sync_mode, sync_timestamp, status, result, created_at)
     VALUES (?1, 'org_expiry', 'vs_expiry', 'incremental', '2026-01-01T00:00:00Z', 'success', '{}', ?2)`,
  )
    .bind(id, createdAt)
    .run();
}

async function addKey(key: string, state: "pending" | "completed", createdAt: string, completedAt: string | null) {
  await env.DB.prepare(
    `INSERT INTO idempotency_reservations (organization_id, key, reservation_id, body_hash, vector_store_id, state, sync_id,
       created_at, completed_at) VALUES ('org_expiry', ?1, 'idr_x', 'h', 'vs_expiry', ?2, ?3, ?4, ?5)`,
  )
    .bind(key, state, state === "completed" ? "sync_x" : null, createdAt, completedAt)
    .run();
}

const ids = async (sql: string) => (await env.DB.prepare(sql).all<{ id: string }>()).results.map((r) => r.id).sort();

describe("expiry of sync results and Idempotency-Keys", () => {
  it("deletes sync results past the retention and keys past 24 hours, in bounded pages, and nothing newer", async () => {
    for (const [id, age] of [
      ["sync_old1", 40 * DAY],
      ["sync_old2", 31 * DAY],
      ["sync_old3", 30 * DAY + 1],
      ["sync_keep1", 30 * DAY - 1000],
      ["sync_keep2", 2 * DAY],
    ] as const)
      await addSync(id, ago(age));
    await addKey("done-long-ago", "completed", ago(3 * DAY), ago(3 * DAY));
    await addKey("done-yesterday", "completed", ago(25 * 60 * 60 * 1000), ago(24 * 60 * 60 * 1000 + 1));
    await addKey("abandoned", "pending", ago(2 * DAY), null);
    await addKey("done-recently", "completed", ago(2 * DAY), ago(60 * 60 * 1000)); // reserved long ago, completed an hour ago
    await addKey("running", "pending", ago(60 * 1000), null);

    // Pages of 2, one page per run: each run removes at most 2 of each and says there is more.
    const first = await expireOldRows(env.DB, NOW, { pageSize: 2, pages: 1 });
    expect(first).toEqual({ idempotency_keys_deleted: 2, sync_results_deleted: 2, more: true });
    const second = await expireOldRows(env.DB, NOW, { pageSize: 2, pages: 1 });
    expect(second).toEqual({ idempotency_keys_deleted: 1, sync_results_deleted: 1, more: false });
    expect(await expireOldRows(env.DB, NOW)).toEqual({ idempotency_keys_deleted: 0, sync_results_deleted: 0, more: false });

    expect(await ids("SELECT id FROM syncs WHERE organization_id = 'org_expiry'")).toEqual(["sync_keep1", "sync_keep2"]);
    expect(await ids("SELECT key AS id FROM idempotency_reservations WHERE organization_id = 'org_expiry'")).toEqual([
      "done-recently",
      "running",
    ]);
  });

  it("finds expired rows through indexes, never by scanning the tables", async () => {
    const plan = async (sql: string) =>
      (await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind("2026-01-01T00:00:00.000Z", 1000).all<{ detail: string }>()).results
        .map((r) => r.detail)
        .join("\n");
    const { EXPIRE_SYNCS, EXPIRE_IDEMPOTENCY } = await import("../src/db/expiry");
    expect(await plan(EXPIRE_SYNCS)).toMatch(/syncs USING (COVERING )?INDEX syncs_by_age/);
    expect(await plan(EXPIRE_IDEMPOTENCY)).toMatch(/idempotency_reservations USING (COVERING )?INDEX idempotency_expiry/);
    expect(await plan(EXPIRE_SYNCS)).not.toMatch(/SCAN syncs\b(?! USING)/);
  });

  it("a retention shorter than a day is raised to one (a 24-hour replay must find its result); unset is 30 days", () => {
    expect(syncResultRetentionDays(undefined)).toBe(30);
    expect(syncResultRetentionDays("")).toBe(30);
    expect(syncResultRetentionDays("7")).toBe(7);
    expect(syncResultRetentionDays("0.1")).toBe(1);
    expect(syncResultRetentionDays("soon")).toBe(30);
  });

  it("runs on the Cron Trigger: an expired sync's status is then 404", async () => {
    const t = await createTenant();
    const res = await sync(t, [upsert("a", { title: "alpha" })]);
    const syncId = res.body.sync_id as string;
    // Age it past the retention.
    await (await ledgerOfStore(t.store))
      .prepare("UPDATE syncs SET created_at = ?1 WHERE id = ?2")
      .bind(new Date(Date.now() - 31 * DAY).toISOString(), syncId)
      .run();
    const ctx = createExecutionContext();
    worker.scheduled!(createScheduledController({ cron: "*/30 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const status = await call("GET", `/v1/connectors/pipeline/syncs/${syncId}`, undefined, { "X-API-Key": t.key });
    expect(status.status).toBe(404);
    // The records it wrote are untouched.
    const record = await call("GET", `/v1/vector_stores/${t.store}/records/clickup_tasks/a`, undefined, { "X-API-Key": t.key });
    expect(record.status).toBe(200);
  });
});
