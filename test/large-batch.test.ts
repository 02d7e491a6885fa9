import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkAndRunSync } from "./support/run-sync";
import { getVectorStore } from "../src/db/vector-stores";
import { vectorDeps } from "../src/store/deps";
import { createTenant, ledgerRows, sync } from "./support/helpers";
import { spyD1 } from "./support/d1-spy";
import { ledgerOfStore } from "./support/placement";

const utf8 = new TextEncoder();

function bigOps(n: number, suffix = "") {
  return Array.from({ length: n }, (_, i) => ({
    action: "upsert",
    id: `task_${i}`,
    namespace: i % 2 ? "jira_issues" : "clickup_tasks",
    data: { title: `Task ${i}${suffix}`, description: "lorem ipsum dolor sit amet ".repeat(30), assignees: [`u${i % 7}`], n: i },
  }));
}

function expectWithinD1Limits(statements: { sql: string; params: unknown[] }[]) {
  for (const { sql, params } of statements) {
    expect(params.length, sql).toBeLessThanOrEqual(100);
    expect(utf8.encode(sql).byteLength).toBeLessThan(100_000);
    for (const p of params) {
      if (typeof p === "string") expect(utf8.encode(p).byteLength).toBeLessThan(2_000_000);
    }
  }
}

describe("a 5000-operation request", () => {
  it("is applied through the worker and every record lands", async () => {
    const t = await createTenant();
    const res = await sync(t, bigOps(5000));
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ upserted: 5000, deleted: 0, unchanged: 0, failed: 0, stale: 0 });
    expect(res.body.by_namespace.jira_issues.upserted).toBe(2500);
    expect((await ledgerRows(t.store)).length).toBe(5000);
  });

  it("stays within D1's binding limits in a handful of round trips, whatever the size", async () => {
    const trips: Record<number, number> = {};
    for (const n of [500, 5000]) {
      const t = await createTenant();
      const spy = spyD1(await ledgerOfStore(t.store));
      const store = (await getVectorStore(env.DB, t.store))!;
      const input = { syncTimestamp: "2026-01-15T10:00:00Z" };
      // The records are ~1 KB each: 5000 of them exceed one 2 MB parameter and must be split.
      const first = await checkAndRunSync({ db: spy.db, ...vectorDeps(env, store) }, store, {
        ...input,
        mode: "incremental",
        operations: bigOps(n, `-${n}`),
      });
      expect(first.results.upserted).toBe(n);
      expectWithinD1Limits(spy.statements);
      trips[n] = spy.roundTrips;

      // A full_refresh of the same records (changed) with half of them gone also stays bounded.
      const refresh = spyD1(await ledgerOfStore(t.store));
      const second = await checkAndRunSync({ db: refresh.db, ...vectorDeps(env, store) }, store, {
        ...input,
        mode: "full_refresh",
        syncTimestamp: "2026-02-01T00:00:00Z",
        operations: bigOps(n, "-v2").slice(0, n / 2),
      });
      expect(second.results.deleted).toBeGreaterThanOrEqual(n / 2);
      expectWithinD1Limits(refresh.statements);
      expect(refresh.roundTrips).toBeLessThanOrEqual(3);
    }
    expect(trips[500]).toBe(2);
    expect(trips[5000]).toBe(2);
  });
});
