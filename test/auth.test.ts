import { describe, expect, it } from "vitest";
import { ADMIN, call, createTenant, sync, syncBody, upsert, type Tenant } from "./support/helpers";

const get = (t: Tenant, path: string, key = t.key) => call("GET", path, undefined, { "X-API-Key": key });

describe("API keys and the authorization matrix", () => {
  it("org A's key never reads or writes org B's data", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const written = await sync(b, [upsert("secret", { owner: "b" })]);
    expect(written.status).toBe(200);

    // A writing into B's store, under B's org id -> 403; under its own org id -> 404 (not its store).
    const asB = await call("POST", "/v1/connectors/pipeline/sync", syncBody(b, [upsert("x", { y: 1 })]), { "X-API-Key": a.key });
    expect(asB.status).toBe(403);
    const intoB = await call("POST", "/v1/connectors/pipeline/sync", syncBody({ ...b, org: a.org }, [upsert("x", { y: 1 })]), {
      "X-API-Key": a.key,
    });
    expect(intoB.status).toBe(404);
    for (const path of [
      `/v1/vector_stores/${b.store}`,
      `/v1/vector_stores/${b.store}/namespaces`,
      `/v1/vector_stores/${b.store}/records/clickup_tasks/secret`,
      `/v1/connectors/pipeline/syncs/${written.body.sync_id}`,
    ]) {
      const res = await get(a, path);
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(await res.json())).not.toContain("owner");
    }
    for (const path of [
      `/v1/vector_stores/${b.store}/records/clickup_tasks`,
      `/v1/connectors/pipeline/runs/${b.store}/${encodeURIComponent("2026-01-15T10:00:00Z")}`,
      `/v1/connectors/pipeline/syncs?vector_store_id=${b.store}`,
    ]) {
      const res = await get(a, path);
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(await res.json())).not.toContain("secret");
    }
    const listed = (await (await get(a, "/v1/connectors/pipeline/syncs")).json()) as any;
    expect(listed.syncs.map((s: any) => s.sync_id)).not.toContain(written.body.sync_id);
    expect((await call("DELETE", `/v1/vector_stores/${b.store}/namespaces/clickup_tasks`, undefined, { "X-API-Key": a.key })).status).toBe(
      404,
    );
    const search = await call("POST", `/v1/vector_stores/${b.store}/search`, { query: "owner" }, { "X-API-Key": a.key });
    expect(search.status).toBe(404);
    expect((await call("POST", `/v1/admin/vector-stores/${b.store}/reconcile`, {}, { "X-API-Key": a.key })).status).toBe(401);
    // B still sees its own record, unchanged.
    const own = await get(b, `/v1/vector_stores/${b.store}/records/clickup_tasks/secret`);
    expect(((await own.json()) as any).data).toEqual({ owner: "b" });
  });

  it("a key restricted to one store stays in it", async () => {
    const t = await createTenant({ restrictToStore: true });
    const other = await call("POST", "/v1/admin/vector-stores", { organization_id: t.org, id: `vs_other_${t.store.slice(3)}` }, ADMIN);
    const otherId = ((await other.json()) as any).id;
    expect((await sync(t, [upsert("a", { x: 1 })])).status).toBe(200);
    const res = await call("POST", "/v1/connectors/pipeline/sync", syncBody({ ...t, store: otherId }, [upsert("a", { x: 1 })]), {
      "X-API-Key": t.key,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe("INSUFFICIENT_PERMISSIONS");
    expect((await get(t, `/v1/vector_stores/${otherId}`)).status).toBe(403);
    expect((await get(t, `/v1/vector_stores/${t.store}`)).status).toBe(200);
  });

  it("an unrestricted key reaches every store of its organization", async () => {
    const t = await createTenant();
    const second = await call("POST", "/v1/admin/vector-stores", { organization_id: t.org, name: "Second" }, ADMIN);
    const store = (await second.json()) as any;
    expect(store).toMatchObject({ organization_id: t.org, name: "Second" });
    expect(store.id).toMatch(/^vs_/);
    expect((await sync({ ...t, store: store.id }, [upsert("a", { x: 1 })])).status).toBe(200);
  });

  it("a revoked key stops working at once", async () => {
    const t = await createTenant();
    expect((await sync(t, [])).status).toBe(200);
    const del = await call("DELETE", `/v1/admin/api-keys/${t.keyId}`, undefined, ADMIN);
    expect(del.status).toBe(204);
    const after = await sync(t, []);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("INVALID_API_KEY");
    expect((await call("DELETE", "/v1/admin/api-keys/key_unknown", undefined, ADMIN)).status).toBe(404);
  });

  it("revocation takes effect at once even where KV still serves the old record", async () => {
    const t = await createTenant();
    const { env } = await import("cloudflare:workers");
    const { keys } = await env.API_KEYS.list({ prefix: "key:" });
    const before = await Promise.all(keys.map(async (k) => [k.name, await env.API_KEYS.get(k.name)] as const));
    expect((await call("DELETE", `/v1/admin/api-keys/${t.keyId}`, undefined, ADMIN)).status).toBe(204);
    // Imitate a KV location that has not seen the revocation yet: put the active records back.
    for (const [name, value] of before) await env.API_KEYS.put(name, value!);
    const res = await sync(t, []);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("INVALID_API_KEY");
  });

  it("accepts Authorization: Bearer as well as X-API-Key", async () => {
    const t = await createTenant();
    const res = await call("GET", `/v1/vector_stores/${t.store}`, undefined, { Authorization: `Bearer ${t.key}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: t.store, organization_id: t.org });
  });

  it("KV holds only a hash of the key, never the plaintext", async () => {
    const t = await createTenant();
    const { env } = await import("cloudflare:workers");
    const { keys } = await env.API_KEYS.list();
    for (const { name } of keys) {
      expect(name).not.toContain(t.key);
      expect(await env.API_KEYS.get(name)).not.toContain(t.key);
    }
    expect(keys.some((k) => /^key:[0-9a-f]{64}$/.test(k.name))).toBe(true);
  });

  it("admin routes need the admin token; a wrong one is 401", async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }, { Authorization: "test-admin-token" }];
    for (const headers of attempts) {
      const res = await call("POST", "/v1/admin/vector-stores", { organization_id: "org_x" }, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.type).toBe("authentication_error");
    }
    // A pipeline key is not an admin token.
    const t = await createTenant();
    expect((await call("POST", "/v1/admin/api-keys", { organization_id: t.org }, { Authorization: `Bearer ${t.key}` })).status).toBe(401);
  });

  it("admin input is validated: bad org, a duplicate store id, a key for another org's store", async () => {
    const bad = await call("POST", "/v1/admin/vector-stores", { organization_id: "acme" }, ADMIN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details.fields).toHaveProperty("organization_id");
    const t = await createTenant();
    const dup = await call("POST", "/v1/admin/vector-stores", { organization_id: t.org, id: t.store }, ADMIN);
    expect(dup.status).toBe(409);
    const other = await createTenant();
    const cross = await call("POST", "/v1/admin/api-keys", { organization_id: t.org, vector_store_ids: [other.store] }, ADMIN);
    expect(cross.status).toBe(400);
  });
});
