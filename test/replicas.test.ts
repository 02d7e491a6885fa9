import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { BASE, call, createTenant, sync, syncBody, upsert, type Tenant } from "./support/helpers";
import { placementOf } from "./support/placement";
import { searchStore } from "../src/store/search";
import { vectorDeps } from "../src/store/deps";
import { readSession } from "../src/db/sessions";
import { primaryStore } from "../src/db/store-cache";
import type { Bindings } from "../src/env";

// D1 read replicas lag behind the primary. The read paths read replicas (D1's Sessions API) and
// must never let a lagging one answer "not found" or "not revoked"; a sync's bookmark makes a
// client's next reads see its writes. Here every replica is as stale as can be: a session opened
// without a bookmark finds nothing at all. A session opened from a bookmark, and the primary, are
// the real database.

interface Log {
  /** withSession calls: "<binding> <argument>". */
  sessions: string[];
  /** Queries sent to a primary (the binding itself, not a session): "<binding>". */
  primary: string[];
}

const EMPTY = { results: [], success: true, meta: { changes: 0, rows_read: 0, rows_written: 0 } };

function staleSession(): D1DatabaseSession {
  const statement = {
    bind: () => statement,
    first: async () => null,
    all: async () => EMPTY,
    run: async () => EMPTY,
    raw: async () => [],
  };
  return {
    prepare: () => statement,
    batch: async (statements: unknown[]) => statements.map(() => EMPTY),
    getBookmark: () => null,
  } as unknown as D1DatabaseSession;
}

/**
 * The bindings with each database wrapped: `withSession` is logged and answered by `session`
 * (given whether the client brought a bookmark), queries to the binding itself are logged as the
 * primary's.
 */
function withSessions(log: Log, session: (target: D1Database, arg: string | undefined, bookmark: boolean) => D1DatabaseSession) {
  const wrap = (name: string, db: D1Database): D1Database =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === "withSession") {
          return (arg?: string) => {
            log.sessions.push(`${name} ${arg ?? ""}`);
            return session(target, arg, arg !== undefined && arg !== "first-unconstrained" && arg !== "first-primary");
          };
        }
        if (prop === "prepare" || prop === "batch") log.primary.push(name);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { ...env, DB: wrap("DB", env.DB), LEDGER_0: wrap("LEDGER_0", env.LEDGER_0), LEDGER_1: wrap("LEDGER_1", env.LEDGER_1) };
}

/** Every replica as stale as can be: a session from a bookmark is the real database, any other finds nothing. */
const withStaleReplicas = (log: Log): Cloudflare.Env =>
  withSessions(log, (target, arg, bookmark) => (bookmark ? target.withSession(arg) : staleSession()));

/**
 * What a database that refuses the client's bookmark does (production D1's answer to a forged one
 * is not checked here): every query of a session opened from a bookmark fails. Sessions without
 * one, and the primary, are the real database.
 */
function withRefusedBookmarks(log: Log): Cloudflare.Env {
  const refusing = () => {
    const fail = async () => {
      throw new Error("D1_ERROR: the bookmark is not valid");
    };
    const statement = { bind: () => statement, first: fail, all: fail, run: fail, raw: fail };
    return { prepare: () => statement, batch: fail, getBookmark: () => null } as unknown as D1DatabaseSession;
  };
  return withSessions(log, (target, arg, bookmark) => (bookmark ? refusing() : target.withSession(arg)));
}

/** A request to the Worker with replicas stale. */
async function stale(
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
  bindings: (log: Log) => Cloudflare.Env = withStaleReplicas,
) {
  const log: Log = { sessions: [], primary: [] };
  const init: RequestInit = { method, headers: { ...headers, ...(key ? { "X-API-Key": key } : {}) } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, init), bindings(log), ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: (await res.json()) as any, headers: res.headers, log };
}

/** Every route a pipeline key can call, for one store. */
function routes(t: Tenant, syncId: string) {
  return [
    ["GET", `/v1/vector_stores/${t.store}`],
    ["GET", `/v1/vector_stores/${t.store}/namespaces`],
    ["GET", `/v1/vector_stores/${t.store}/records/clickup_tasks`],
    ["GET", `/v1/vector_stores/${t.store}/records/clickup_tasks/a`],
    ["POST", `/v1/vector_stores/${t.store}/search`, { query: "alpha" }],
    ["GET", `/v1/connectors/pipeline/runs/${t.store}/${encodeURIComponent("2026-01-15T10:00:00Z")}`],
    ["GET", "/v1/connectors/pipeline/syncs"],
    ["GET", `/v1/connectors/pipeline/syncs/${syncId}`],
    ["POST", "/v1/connectors/pipeline/sync", syncBody(t, [upsert("b", { title: "beta" })])],
    ["DELETE", `/v1/vector_stores/${t.store}/namespaces/clickup_tasks`],
  ] as [string, string, unknown?][];
}

describe("reads under stale replicas", () => {
  it("a just-created store, its just-committed sync, run and records are found (a replica's 'not found' is checked at the primary)", async () => {
    const t = await createTenant();
    const first = await sync(t, [upsert("a", { title: "alpha" })], { sync_mode: "full_refresh" });
    expect(first.status).toBe(200);
    for (const [method, path, body] of routes(t, first.body.sync_id).slice(0, 8)) {
      const res = await stale(method, path, t.key, body);
      expect(res.status, `${method} ${path}`).toBe(200);
      // Each asked a replica first (search reads its ledger in the store's object, not here).
      if (!path.endsWith("/search")) expect(res.log.sessions.length, `${method} ${path}`).toBeGreaterThan(0);
    }
    const record = await stale("GET", `/v1/vector_stores/${t.store}/records/clickup_tasks/a`, t.key);
    expect(record.body.data).toEqual({ title: "alpha" });
    const status = await stale("GET", `/v1/connectors/pipeline/syncs/${first.body.sync_id}`, t.key);
    expect(status.body).toMatchObject({ sync_id: first.body.sync_id, status: "success" });
    const listed = await stale("GET", "/v1/connectors/pipeline/syncs", t.key);
    expect(listed.body.syncs.map((s: any) => s.sync_id)).toEqual([first.body.sync_id]);
    // Really missing is still 404, after the primary said so too.
    const missing = await stale("GET", `/v1/vector_stores/${t.store}/records/clickup_tasks/nope`, t.key);
    expect(missing.status).toBe(404);
    expect(missing.log.primary).toContain("DB");
  });

  it("a revoked key is refused on every route, whatever a replica says", async () => {
    const t = await createTenant();
    const first = await sync(t, [upsert("a", { title: "alpha" })]);
    // Revoked in D1 only: KV (eventually consistent) still serves the key as valid.
    await env.DB.prepare("INSERT INTO revoked_api_keys (key_id, revoked_at) VALUES (?1, ?2)").bind(t.keyId, new Date().toISOString()).run();
    for (const [method, path, body] of routes(t, first.body.sync_id)) {
      const res = await stale(method, path, t.key, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe("INVALID_API_KEY");
    }
    // Nothing was applied or deleted meanwhile: the one record is there, unchanged.
    const rows = await env.LEDGER_0.prepare("SELECT count(*) AS n FROM record_state WHERE vector_store_id = ?1")
      .bind(t.store)
      .first<{ n: number }>();
    const rows1 = await env.LEDGER_1.prepare("SELECT count(*) AS n FROM record_state WHERE vector_store_id = ?1")
      .bind(t.store)
      .first<{ n: number }>();
    expect(rows!.n + rows1!.n).toBe(1);
  });

  it("a key found revoked by the store's object is refused from memory next time: no rate limit spent, no object called", async () => {
    const t = await createTenant();
    await env.DB.prepare("INSERT INTO revoked_api_keys (key_id, revoked_at) VALUES (?1, ?2)").bind(t.keyId, new Date().toISOString()).run();
    const first = await stale("POST", "/v1/connectors/pipeline/sync", t.key, syncBody(t, [upsert("a", { v: 1 })]));
    expect(first.status).toBe(401);
    let limited = 0;
    let objectCalls = 0;
    const counted = {
      ...env,
      SYNC_RATE_LIMITER: {
        limit: async (o: { key: string }) => {
          limited++;
          return env.SYNC_RATE_LIMITER.limit(o);
        },
      },
      STORE_SYNC: new Proxy(env.STORE_SYNC, {
        get(target, prop) {
          if (prop === "get") objectCalls++;
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    } as Cloudflare.Env;
    const ctx = createExecutionContext();
    const again = await worker.fetch(
      new Request(`${BASE}/v1/connectors/pipeline/sync`, {
        method: "POST",
        headers: { "X-API-Key": t.key, "Content-Type": "application/json" },
        body: JSON.stringify(syncBody(t, [upsert("a", { v: 1 })])),
      }),
      counted,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(again.status).toBe(401);
    expect({ limited, objectCalls }).toEqual({ limited: 0, objectCalls: 0 });
  });

  it("a sync's bookmark makes the client's next reads see its writes without asking a primary", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/connectors/pipeline/sync", syncBody(t, [upsert("mine", { title: "my write" })]), {
      "X-API-Key": t.key,
    });
    expect(res.status).toBe(200);
    const bookmark = res.headers.get("X-D1-Bookmark");
    expect(bookmark).toMatch(/^[01]:\S+$/);
    const syncId = ((await res.json()) as any).sync_id;
    const headers = { "X-D1-Bookmark": bookmark! };
    const shard = `LEDGER_${bookmark!.split(":")[0]}`;
    for (const path of [`/v1/vector_stores/${t.store}/records/clickup_tasks/mine`, `/v1/connectors/pipeline/syncs/${syncId}`]) {
      const read = await stale("GET", path, t.key, undefined, headers);
      expect(read.status, path).toBe(200);
      // The shard was read through a session from the bookmark, and its primary never.
      expect(read.log.sessions).toContain(`${shard} ${bookmark!.slice(bookmark!.indexOf(":") + 1)}`);
      expect(
        read.log.primary.filter((b) => b === shard),
        path,
      ).toEqual([]);
    }
    const search = await stale("POST", `/v1/vector_stores/${t.store}/search`, t.key, { query: "my write" }, headers);
    expect(search.body.results.map((r: any) => r.record_id)).toEqual(["mine"]);
    // A malformed bookmark is refused, not ignored.
    const bad = await stale("GET", `/v1/vector_stores/${t.store}/records/clickup_tasks/mine`, t.key, undefined, {
      "X-D1-Bookmark": "nonsense",
    });
    expect(bad.status).toBe(400);
  });
  it("a bookmark the database refuses is read at the primary on every read route (search too)", async () => {
    const t = await createTenant();
    const first = await sync(t, [upsert("a", { title: "alpha" })], { sync_mode: "full_refresh" });
    const { ledger_shard: shard } = await placementOf(t.store);
    const forged = { "X-D1-Bookmark": `${shard}:forged-bookmark` };
    for (const [method, path, body] of routes(t, first.body.sync_id).slice(0, 8)) {
      const res = await stale(method, path, t.key, body, forged, withRefusedBookmarks);
      expect(res.status, `${method} ${path}`).toBe(200);
    }
    const listed = await stale("GET", "/v1/connectors/pipeline/syncs", t.key, undefined, forged, withRefusedBookmarks);
    expect(listed.body.syncs.map((s: any) => s.sync_id)).toEqual([first.body.sync_id]);
    expect(listed.log.sessions).toContain(`LEDGER_${shard} forged-bookmark`);

    // Search reads its ledger in the store's object: its read, given a session that refuses, falls
    // back to the shard's primary and still answers the record.
    const log: Log = { sessions: [], primary: [] };
    const shardDb = withRefusedBookmarks(log)[`LEDGER_${shard}` as "LEDGER_0"];
    const store = (await primaryStore(env.DB, t.store))!;
    const found = await searchStore(
      {
        ...vectorDeps(env as unknown as Bindings, store),
        db: readSession(shardDb, "forged-bookmark"),
        primary: shardDb,
        reranker: (env as unknown as Bindings).AI,
      },
      store,
      { query: "alpha", top_k: 5 },
    );
    expect(found.results.map((r) => r.record_id)).toEqual(["a"]);
    expect(log.primary).toContain(`LEDGER_${shard}`);
  });
});
