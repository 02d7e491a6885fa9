import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { app } from "../src/index";
import { SCHEMAS } from "../src/http/openapi/components";
import { ADMIN, call, createTenant, del, syncBody, unique, upsert, type Tenant } from "./support/helpers";

// The document against the app: the same routes, and every answer the routes give (each status,
// error code, header and 2xx body exercised here) is one the document describes. The document's
// own validity (an OpenAPI 3.1 validator) and its error codes against the source are checked in
// test-node/openapi.test.ts: the validator does not run in workerd.

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
interface Op {
  method: string;
  path: string;
  op: any;
}

let doc: any;
let ops: Op[];
beforeAll(async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = await res.json();
  ops = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path, op: item[m] })),
  );
});

/** Swagger UI's files and the /docs/ redirect: served, not described (the pages themselves are). */
const isDocAsset = (path: string) => path.startsWith("/docs/");
const needsKey = (o: Op) => (o.op.security ?? []).some((s: object) => "ApiKey" in s);
const needsAdmin = (o: Op) => (o.op.security ?? []).some((s: object) => "AdminToken" in s);

function fill(path: string, values: Record<string, string> = {}): string {
  const defaults: Record<string, string> = {
    vector_store_id: "vs_missing",
    sync_id: "sync_000000000000000000000000",
    sync_timestamp: "2026-01-15T10:00:00Z",
    namespace: "ns",
    record_id: "r1",
    key_id: "key_missing",
  };
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? defaults[name] ?? "x"));
}

/** Problems zod's parse does not report: keys an answer has that its schema does not declare, at any depth. */
function undeclaredKeys(schema: z.ZodType, value: unknown, at = "$"): string[] {
  const def = (schema as any)._zod.def;
  if (value === null || value === undefined) return [];
  switch (def.type) {
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [];
      const shape = def.shape as Record<string, z.ZodType>;
      return Object.entries(value).flatMap(([k, v]) =>
        k in shape ? undeclaredKeys(shape[k]!, v, `${at}.${k}`) : [`${at}.${k} is not in the schema`],
      );
    }
    case "array":
      return Array.isArray(value) ? value.flatMap((v, i) => undeclaredKeys(def.element, v, `${at}[${i}]`)) : [];
    case "record":
      return typeof value === "object" ? Object.entries(value).flatMap(([k, v]) => undeclaredKeys(def.valueType, v, `${at}.${k}`)) : [];
    case "optional":
    case "nullable":
    case "default":
      return undeclaredKeys(def.innerType, value, at);
    default:
      return [];
  }
}

function expectSchema(name: string, body: unknown, where: string) {
  const [schema] = SCHEMAS[name as keyof typeof SCHEMAS];
  const parsed = (schema as z.ZodType).safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues, `${where}: answer does not match ${name}`).toEqual([]);
  expect(undeclaredKeys(schema as z.ZodType, body), `${where}: answer has keys ${name} does not declare`).toEqual([]);
}

/**
 * Checks one answer against the document: its status is listed for the operation, an error's code
 * is in that status's enum, the body matches the status's schema, and the listed headers are sent.
 */
async function expectDocumented(method: string, path: string, res: Response, expectedStatus?: number, expectedCode?: string) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  const where = `${method} ${path} -> ${res.status}`;
  expect(op, `${method} ${path} is not in the document`).toBeDefined();
  const text = await res.text();
  const body = text === "" ? undefined : JSON.parse(text);
  if (expectedStatus !== undefined) expect(res.status, `${where}: ${text.slice(0, 300)}`).toBe(expectedStatus);
  const response = op.responses[String(res.status)];
  expect(response, `${where} is not documented: ${text.slice(0, 300)}`).toBeDefined();
  expect(response.headers?.["X-Request-Id"], `${where}: X-Request-Id not documented`).toBeDefined();
  expect(res.headers.get("X-Request-Id"), `${where}: no X-Request-Id`).toMatch(/^req_/);
  if (res.status >= 400) {
    const documented = response.content["application/json"].schema.allOf[1].properties.error.properties;
    expect(documented.code.enum, `${where}: code ${body?.error?.code} not documented`).toContain(body.error.code);
    expect(body.error.type, `${where}: error.type`).toBe(documented.type.const);
    expect(body.error.status, `${where}: error.status`).toBe(documented.status.const);
    if (expectedCode !== undefined) expect(body.error.code, where).toBe(expectedCode);
    expectSchema("Error", body, where);
    expect(body.error.trace_id).toBe(res.headers.get("X-Request-Id"));
    if (res.headers.has("Retry-After")) expect(response.headers["Retry-After"], `${where}: Retry-After not documented`).toBeDefined();
  } else {
    const ref: string | undefined = response.content?.["application/json"]?.schema?.$ref;
    if (res.status === 204) expect(text).toBe("");
    else {
      expect(ref, `${where}: no documented body schema`).toMatch(/^#\/components\/schemas\//);
      expectSchema(ref!.split("/").pop()!, body, where);
    }
  }
  return { body, headers: res.headers };
}

function jsonCall(method: string, path: string, body: unknown, headers: Record<string, string>) {
  return call(method, path, body, headers);
}

describe("the OpenAPI document", () => {
  it("serves an OpenAPI 3.1 document generated from the validating schemas", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.components.schemas.SyncRequest.properties)).toEqual(expect.arrayContaining(["final", "namespaces"]));
    expect(Object.keys(doc.components.schemas.SyncResponse.properties)).toEqual(expect.arrayContaining(["run", "sweep", "errors_omitted"]));
    const request = doc.components.schemas.SyncRequest;
    expect(request.required).toEqual(
      expect.arrayContaining(["organization_id", "vector_store_id", "sync_mode", "sync_timestamp", "operations"]),
    );
    expect(request.properties.sync_mode.enum).toEqual(["incremental", "full_refresh"]);
    expect(request.properties.operations.maxItems).toBe(5000);
    expect(JSON.stringify(request.properties.operations.items)).toContain("upsert");
    expect(doc.components.schemas.SyncResponse.properties.results.required).toEqual([
      "upserted",
      "deleted",
      "unchanged",
      "failed",
      "stale",
    ]);
    expect(Object.keys(doc.components.schemas.SyncStatus.properties)).toEqual(
      expect.arrayContaining([
        "sync_id",
        "organization_id",
        "vector_store_id",
        "sync_mode",
        "sync_timestamp",
        "created_at",
        "queryable",
        "results",
        "errors",
      ]),
    );
  });

  it("describes every route the app serves (a route without describeOperation is missing from it)", () => {
    // app.routes: one entry per handler and middleware; middleware (app.use) is method ALL.
    const documented = new Set(ops.map((o) => `${o.method} ${o.path}`));
    const undescribed = app.routes
      .filter((r) => r.method !== "ALL" && !isDocAsset(r.path))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`)
      .filter((r) => !documented.has(r));
    expect(undescribed).toEqual([]);
  });
});

describe("every answer is one the document describes", () => {
  let t: Tenant;
  let restricted: Tenant;
  beforeAll(async () => {
    t = await createTenant();
    restricted = await createTenant({ restrictToStore: true });
  });

  it("401 without credentials and with wrong ones, on every operation that needs them", async () => {
    for (const o of ops.filter((o) => needsKey(o) || needsAdmin(o))) {
      const body = o.op.requestBody ? {} : undefined;
      await expectDocumented(o.method, o.path, await jsonCall(o.method, fill(o.path), body, {}), 401, "AUTHENTICATION_REQUIRED");
      const wrong: Record<string, string> = needsAdmin(o)
        ? { Authorization: "Bearer not-the-admin-token" }
        : { "X-API-Key": "usk_not_a_key_0123456789abcdef" };
      await expectDocumented(
        o.method,
        o.path,
        await jsonCall(o.method, fill(o.path), body, wrong),
        401,
        needsAdmin(o) ? "AUTHENTICATION_REQUIRED" : "INVALID_API_KEY",
      );
    }
  });

  it("404 for an unknown store and 403 for a store outside a restricted key, on every store-scoped operation", async () => {
    for (const o of ops.filter((o) => o.path.includes("{vector_store_id}"))) {
      const auth = needsAdmin(o) ? ADMIN : { "X-API-Key": t.key };
      const body = o.method === "POST" ? (o.path.endsWith("/search") ? { query: "x" } : {}) : undefined;
      await expectDocumented(
        o.method,
        o.path,
        await jsonCall(o.method, fill(o.path, { vector_store_id: "vs_missing" }), body, auth),
        404,
        "VECTOR_STORE_NOT_FOUND",
      );
      if (needsKey(o)) {
        await expectDocumented(
          o.method,
          o.path,
          await jsonCall(o.method, fill(o.path, { vector_store_id: "vs_not_in_the_list" }), body, { "X-API-Key": restricted.key }),
          403,
          "INSUFFICIENT_PERMISSIONS",
        );
      }
    }
    for (const path of ["/v1/connectors/pipeline/sync", "/v1/pipeline/sync"]) {
      const headers = { "X-API-Key": t.key };
      await expectDocumented(
        "POST",
        path,
        await call("POST", path, syncBody({ ...t, store: "vs_missing" }, []), headers),
        404,
        "VECTOR_STORE_NOT_FOUND",
      );
      await expectDocumented(
        "POST",
        path,
        await call("POST", path, syncBody({ ...t, org: "org_other" }, []), headers),
        403,
        "INSUFFICIENT_PERMISSIONS",
      );
    }
    const list = "/v1/connectors/pipeline/syncs";
    await expectDocumented("GET", list, await call("GET", `${list}?vector_store_id=vs_missing`, undefined, { "X-API-Key": t.key }), 404);
    await expectDocumented(
      "GET",
      list,
      await call("GET", `${list}?vector_store_id=vs_other`, undefined, { "X-API-Key": restricted.key }),
      403,
    );
  });

  it("415, 400 and 413 on every operation with a JSON body", async () => {
    for (const o of ops.filter((o) => o.op.requestBody)) {
      const auth = needsAdmin(o) ? ADMIN : { "X-API-Key": t.key };
      const url = fill(o.path, { vector_store_id: t.store });
      const send = (body: string, contentType = "application/json") => call(o.method, url, body, { ...auth, "Content-Type": contentType });
      await expectDocumented(o.method, o.path, await send("{}", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE");
      await expectDocumented(o.method, o.path, await send("{"), 400, "INVALID_JSON");
      await expectDocumented(o.method, o.path, await send(`${"[".repeat(100)}${"]".repeat(100)}`), 400, "JSON_TOO_DEEP");
      await expectDocumented(o.method, o.path, await send(JSON.stringify({ limit: 0 })), 400, "VALIDATION_ERROR");
      await expectDocumented(o.method, o.path, await send(`"${"x".repeat(20 * 1024 * 1024)}"`), 413, "PAYLOAD_TOO_LARGE");
    }
  });

  it("the other documented errors: bad queries, unknown ids, conflicts", async () => {
    const key = { "X-API-Key": t.key };
    const get = async (path: string, url: string, status: number, code: string) =>
      expectDocumented("GET", path, await call("GET", url, undefined, key), status, code);
    await get("/v1/connectors/pipeline/syncs", "/v1/connectors/pipeline/syncs?limit=0", 400, "VALIDATION_ERROR");
    await get("/v1/connectors/pipeline/syncs", "/v1/connectors/pipeline/syncs?cursor=nope", 400, "VALIDATION_ERROR");
    const records = "/v1/vector_stores/{vector_store_id}/records/{namespace}";
    await get(records, `${fill(records, { vector_store_id: t.store })}?limit=1001`, 400, "VALIDATION_ERROR");
    const run = "/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}";
    await get(run, fill(run, { vector_store_id: t.store, sync_timestamp: "yesterday" }), 400, "VALIDATION_ERROR");
    await get(run, fill(run, { vector_store_id: t.store }), 404, "RUN_NOT_FOUND");
    const sync = "/v1/connectors/pipeline/syncs/{sync_id}";
    await get(sync, fill(sync), 404, "SYNC_NOT_FOUND");
    const record = "/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}";
    await get(record, fill(record, { vector_store_id: t.store }), 404, "RECORD_NOT_FOUND");
    const namespace = "/v1/vector_stores/{vector_store_id}/namespaces/{namespace}";
    await expectDocumented(
      "DELETE",
      namespace,
      await call("DELETE", fill(namespace, { vector_store_id: t.store }), undefined, key),
      404,
      "NAMESPACE_NOT_FOUND",
    );
    const apiKey = "/v1/admin/api-keys/{key_id}";
    await expectDocumented("DELETE", apiKey, await call("DELETE", fill(apiKey), undefined, ADMIN), 404, "API_KEY_NOT_FOUND");
    const stores = "/v1/admin/vector-stores";
    await expectDocumented(
      "POST",
      stores,
      await call("POST", stores, { organization_id: t.org, id: t.store }, ADMIN),
      409,
      "VECTOR_STORE_EXISTS",
    );

    const syncPath = "/v1/connectors/pipeline/sync";
    const post = (body: unknown, headers: Record<string, string> = {}) => call("POST", syncPath, body, { ...key, ...headers });
    const many = Array.from({ length: 5001 }, (_, i) => del(`d${i}`));
    await expectDocumented("POST", syncPath, await post(syncBody(t, many)), 400, "BATCH_SIZE_EXCEEDED");
    await expectDocumented("POST", syncPath, await post(syncBody(t, []), { "Idempotency-Key": "bad key" }), 400, "VALIDATION_ERROR");
    const idem = { "Idempotency-Key": unique("idem") };
    await expectDocumented("POST", syncPath, await post(syncBody(t, [upsert("a", { n: 1 })]), idem), 200);
    await expectDocumented("POST", syncPath, await post(syncBody(t, [upsert("a", { n: 2 })]), idem), 422, "IDEMPOTENCY_KEY_REUSED");
    const refresh = (ts: string, extra: Record<string, unknown> = {}) =>
      post(syncBody(t, [upsert("r", { n: 1 }, "refreshed")], { sync_mode: "full_refresh", sync_timestamp: ts, ...extra }));
    await expectDocumented("POST", syncPath, await refresh("2026-03-01T00:00:00Z"), 200);
    await expectDocumented("POST", syncPath, await refresh("2026-02-01T00:00:00Z"), 409, "STALE_SYNC");
    await expectDocumented("POST", syncPath, await refresh("2026-04-01T00:00:00Z", { final: true }), 200);
    await expectDocumented("POST", syncPath, await refresh("2026-04-01T00:00:00Z", { final: false }), 409, "RUN_COMPLETED");
  });

  it("2xx answers match their documented schemas, headers included", async () => {
    const key = { "X-API-Key": t.key };
    const ok = async (
      method: string,
      path: string,
      values: Record<string, string>,
      body?: unknown,
      headers: Record<string, string> = key,
      query = "",
    ) =>
      expectDocumented(method, path, await call(method, `${fill(path, { vector_store_id: t.store, ...values })}${query}`, body, headers));

    const ops1 = [
      upsert("task_1", { name: "One", status: "open" }),
      upsert("task/2 two", { name: "Two" }, "clickup_tasks", {
        file: { file_url: "https://example.com/f.pdf" },
        updated_at: "2026-01-15T09:00:00Z",
      }),
      del("task_gone"),
    ];
    const idem = { ...key, "Idempotency-Key": unique("idem") };
    const first = await ok("POST", "/v1/connectors/pipeline/sync", {}, syncBody(t, ops1), idem);
    expect(first.body.status).toBe("success");
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const replay = await ok("POST", "/v1/connectors/pipeline/sync", {}, syncBody(t, ops1), idem);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.body.sync_id).toBe(first.body.sync_id);
    await ok("POST", "/v1/pipeline/sync", {}, syncBody(t, [upsert("bad", {})], { sync_timestamp: "2026-01-16T00:00:00Z" }));
    const ts = "2026-02-01T00:00:00Z";
    const part = await ok(
      "POST",
      "/v1/connectors/pipeline/sync",
      {},
      syncBody(t, [upsert("p1", { name: "Part" }, "parts")], { sync_mode: "full_refresh", sync_timestamp: ts, final: false }),
    );
    expect(part.body.run.state).toBe("open");
    const final = await ok(
      "POST",
      "/v1/connectors/pipeline/sync",
      {},
      syncBody(t, [], { sync_mode: "full_refresh", sync_timestamp: ts, final: true, namespaces: ["parts"] }),
    );
    expect(final.body.sweep).toBeDefined();

    const status = await ok("GET", "/v1/connectors/pipeline/syncs/{sync_id}", { sync_id: first.body.sync_id });
    expect(status.body).toMatchObject({
      sync_id: first.body.sync_id,
      organization_id: t.org,
      vector_store_id: t.store,
      sync_mode: "incremental",
    });
    await ok("GET", "/v1/connectors/pipeline/syncs/{sync_id}", { sync_id: final.body.sync_id });
    const list = await ok("GET", "/v1/connectors/pipeline/syncs", {}, undefined, key, "?limit=2");
    expect(list.body.next_cursor).not.toBeNull();
    await ok("GET", "/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}", { sync_timestamp: ts });
    await ok("GET", "/v1/vector_stores/{vector_store_id}", {});
    const namespaces = await ok("GET", "/v1/vector_stores/{vector_store_id}/namespaces", {});
    expect(namespaces.body.namespaces.length).toBeGreaterThan(0);
    const records = await ok("GET", "/v1/vector_stores/{vector_store_id}/records/{namespace}", { namespace: "clickup_tasks" });
    expect(records.body.records.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(["task_1", "task/2 two"]));
    const record = await ok("GET", "/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}", {
      namespace: "clickup_tasks",
      record_id: "task/2 two",
    });
    expect(record.body.file).toEqual({ file_url: "https://example.com/f.pdf" });
    const search = await ok("POST", "/v1/vector_stores/{vector_store_id}/search", {}, { query: "One", top_k: 3 });
    expect(search.body.results.length).toBeGreaterThan(0);
    await ok("DELETE", "/v1/vector_stores/{vector_store_id}/namespaces/{namespace}", { namespace: "parts" });

    const store = await ok("POST", "/v1/admin/vector-stores", {}, { organization_id: t.org, name: "Second" }, ADMIN);
    const created = await ok("POST", "/v1/admin/api-keys", {}, { organization_id: t.org, vector_store_ids: [store.body.id] }, ADMIN);
    await ok("DELETE", "/v1/admin/api-keys/{key_id}", { key_id: created.body.key_id }, undefined, ADMIN);
    const reconcile = "/v1/admin/vector-stores/{vector_store_id}/reconcile";
    await ok("POST", reconcile, {}, undefined, ADMIN);
    await ok("POST", reconcile, {}, { limit: 1 }, ADMIN);
    await ok("GET", "/health", {}, undefined, {});
  });
});

describe("the pages around the document", () => {
  it("/ links to /docs and /openapi.json (HTML for browsers, JSON otherwise)", async () => {
    const html = await call("GET", "/", undefined, { Accept: "text/html,application/xhtml+xml" });
    expect(html.status).toBe(200);
    expect(html.headers.get("Content-Type")).toContain("text/html");
    const page = await html.text();
    expect(page).toContain('href="/docs"');
    expect(page).toContain('href="/openapi.json"');
    const json = await call("GET", "/");
    expect(await json.json()).toMatchObject({ docs: "/docs", openapi: "/openapi.json" });
  });

  it("/docs loads Swagger UI from the Worker's own assets, nothing from another origin", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const page = await res.text();
    const urls = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.sort()).toEqual(["/docs/swagger-ui-dist/swagger-ui-bundle.js", "/docs/swagger-ui-dist/swagger-ui.css"]);
    expect(page).toContain("url: '/openapi.json'");
    expect(page).not.toMatch(/https?:\/\//);
    for (const [url, type] of [
      [urls[0]!, "javascript"],
      [urls[1]!, "text/css"],
    ] as const) {
      const asset = await call("GET", url);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get("Content-Type"), url).toContain(type);
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(100_000);
    }
    const css = await (await call("GET", urls[1]!)).text();
    expect(css).not.toMatch(/@import|url\(\s*["']?https?:/);
    expect((await call("GET", "/docs/swagger-ui-dist/missing.js")).status).toBe(404);
  });
});
