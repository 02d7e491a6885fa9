import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { expect, it } from "vitest";
import worker from "../src/index";
import { ADMIN, BASE, createTenant, syncBody, upsert } from "./support/helpers";

// The sync path crosses once: the Worker makes no D1 call, and its one remote call is to the store's
// Durable Object, which every path creates beside D1's primary (a locationHint on every get()).

/** The env with D1 and the object namespace watched: D1 calls made by the Worker, get()s and their options. */
function watched() {
  const d1: string[] = [];
  const gets: (DurableObjectNamespaceGetDurableObjectOptions | undefined)[] = [];
  const watch = (name: string, db: D1Database) =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === "prepare" || prop === "batch" || prop === "withSession") d1.push(`${name}.${String(prop)}`);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const objects = new Proxy(env.STORE_SYNC, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "get") {
        return (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
          gets.push(options);
          return target.get(id, options);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const wrapped = {
    ...env,
    DB: watch("DB", env.DB),
    LEDGER_0: watch("LEDGER_0", env.LEDGER_0),
    LEDGER_1: watch("LEDGER_1", env.LEDGER_1),
    STORE_SYNC: objects,
  };
  return { env: wrapped as Cloudflare.Env, d1, gets };
}

async function fetchWith(e: Cloudflare.Env, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(BASE + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    e,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

it("a sync makes no D1 call from the Worker: its one remote call is the store's object", async () => {
  const t = await createTenant();
  for (const key of [null, "one-crossing"]) {
    const w = watched();
    const res = await fetchWith(
      w.env,
      "POST",
      "/v1/connectors/pipeline/sync",
      {
        "X-API-Key": t.key,
        ...(key ? { "Idempotency-Key": key } : {}),
      },
      syncBody(t, [upsert("a", { v: 1 })]),
    );
    expect(res.status).toBe(200);
    expect(w.d1).toEqual([]);
    expect(w.gets).toHaveLength(1);
  }
});

it("every path to a store's object creates it beside D1's primary (locationHint on every get())", async () => {
  const t = await createTenant();
  const w = watched();
  const key = { "X-API-Key": t.key };
  await fetchWith(w.env, "POST", "/v1/connectors/pipeline/sync", key, syncBody(t, [upsert("a", { v: 1 }, "ns")]));
  await fetchWith(w.env, "POST", `/v1/vector_stores/${t.store}/search`, key, { query: "a" });
  await fetchWith(w.env, "POST", `/v1/admin/vector-stores/${t.store}/reconcile`, ADMIN, {});
  await fetchWith(w.env, "DELETE", `/v1/vector_stores/${t.store}/namespaces/ns`, key);
  await fetchWith(w.env, "POST", `/v1/admin/vector-stores/${t.store}/move`, ADMIN, { ledger_shard: 0 });
  const ctx = createExecutionContext();
  worker.scheduled!(createScheduledController({ cron: "*/30 * * * *" }), w.env, ctx);
  await waitOnExecutionContext(ctx);
  expect(w.gets.length).toBeGreaterThanOrEqual(6);
  for (const options of w.gets) expect(options).toEqual({ locationHint: "enam" });
});
