import { describe, expect, it } from "vitest";
import { ADMIN, call, createTenant, sync, syncBody, upsert } from "./support/helpers";

const SYNC = "/v1/connectors/pipeline/sync";

async function expectEnvelope(res: Response, status: number, code: string, type: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as any;
  expect(body.success).toBe(false);
  expect(body.error).toMatchObject({ code, type, status });
  expect(Object.keys(body.error).sort()).toEqual([
    "code",
    "details",
    "message",
    "status",
    "system_message",
    "timestamp",
    "trace_id",
    "type",
  ]);
  expect(body.error.trace_id).toMatch(/^req_/);
  expect(res.headers.get("X-Request-Id")).toBe(body.error.trace_id);
  expect(Number.isNaN(Date.parse(body.error.timestamp))).toBe(false);
  return body.error;
}

describe("errors: every documented case has the contract's envelope", () => {
  it("401 AUTHENTICATION_REQUIRED without a key", async () => {
    const t = await createTenant();
    await expectEnvelope(await call("POST", SYNC, syncBody(t, [])), 401, "AUTHENTICATION_REQUIRED", "authentication_error");
  });

  it("every 401 names the accepted schemes in WWW-Authenticate (API key routes and admin routes)", async () => {
    const t = await createTenant();
    const challenge = 'Bearer realm="unified-sync", X-API-Key realm="unified-sync"';
    const missing = await call("POST", SYNC, syncBody(t, []));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toBe(challenge);
    const wrong = await call("GET", `/v1/vector_stores/${t.store}`, undefined, { "X-API-Key": "usk_not_a_key_000000000000" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("WWW-Authenticate")).toBe(challenge);
    const admin = await call("POST", "/v1/admin/api-keys", { organization_id: t.org }, { Authorization: "Bearer nope" });
    expect(admin.status).toBe(401);
    expect(admin.headers.get("WWW-Authenticate")).toBe('Bearer realm="unified-sync admin"');
  });

  it("unknown fields in a request body are a 400 naming each (search, the sync envelope, admin)", async () => {
    const t = await createTenant();
    const key = { "X-API-Key": t.key };
    const search = await call("POST", `/v1/vector_stores/${t.store}/search`, { query: "x", namespaces: ["tasks"] }, key);
    const err = await expectEnvelope(search, 400, "VALIDATION_ERROR", "invalid_request_error");
    expect(err.details.fields).toEqual({ namespaces: ["is not a field of this request"] });
    expect(err.message).toContain("namespaces");

    // A misspelt "final" would otherwise make a part of a run a whole full_refresh that sweeps.
    const envelope = await call("POST", SYNC, syncBody(t, [], { sync_mode: "full_refresh", finale: false }), key);
    expect((await expectEnvelope(envelope, 400, "VALIDATION_ERROR", "invalid_request_error")).details.fields).toEqual({
      finale: ["is not a field of this request"],
    });

    const admin = await call("POST", "/v1/admin/api-keys", { organization_id: t.org, vector_store_id: [t.store] }, ADMIN);
    expect((await expectEnvelope(admin, 400, "VALIDATION_ERROR", "invalid_request_error")).details.fields).toMatchObject({
      vector_store_id: ["is not a field of this request"],
    });

    // Named one by one up to a bound, so an answer's size does not follow the client's keys.
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, 1]));
    const flood = await call("POST", `/v1/vector_stores/${t.store}/search`, { query: "x", ...many }, key);
    const fields = (await expectEnvelope(flood, 400, "VALIDATION_ERROR", "invalid_request_error")).details.fields;
    expect(Object.keys(fields)).toHaveLength(21);
    expect(fields["…"]).toEqual(["and 480 more fields that are not fields of this request"]);
  });

  it("401 INVALID_API_KEY for an unknown key", async () => {
    const t = await createTenant();
    await expectEnvelope(
      await call("POST", SYNC, syncBody(t, []), { "X-API-Key": "usk_not_a_key" }),
      401,
      "INVALID_API_KEY",
      "authentication_error",
    );
  });

  it("415 for a body that is not declared JSON; JSON with parameters is accepted", async () => {
    const t = await createTenant();
    const body = JSON.stringify(syncBody(t, []));
    await expectEnvelope(
      await call("POST", SYNC, body, { "X-API-Key": t.key, "Content-Type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "invalid_request_error",
    );
    const ok = await call("POST", SYNC, body, { "X-API-Key": t.key, "Content-Type": "application/json; charset=utf-8" });
    expect(ok.status).toBe(200);
  });

  it("400 INVALID_JSON for a body that does not parse", async () => {
    const t = await createTenant();
    await expectEnvelope(
      await call("POST", SYNC, '{"organization_id":', { "X-API-Key": t.key }),
      400,
      "INVALID_JSON",
      "invalid_request_error",
    );
  });

  it("413 PAYLOAD_TOO_LARGE over the body cap, declared or not", async () => {
    const t = await createTenant();
    const big = JSON.stringify(syncBody(t, [upsert("a", { text: "x".repeat(21 * 1024 * 1024) })]));
    await expectEnvelope(await call("POST", SYNC, big, { "X-API-Key": t.key }), 413, "PAYLOAD_TOO_LARGE", "invalid_request_error");
    // A streamed body has no Content-Length: the cap is enforced while reading.
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(
      new Request("http://sync.test" + SYNC, {
        method: "POST",
        body: stream,
        headers: { "X-API-Key": t.key, "Content-Type": "application/json" },
        // @ts-expect-error duplex is required for streamed request bodies
        duplex: "half",
      }),
    );
    await expectEnvelope(res, 413, "PAYLOAD_TOO_LARGE", "invalid_request_error");
  });

  it("the contract's own example, sent as written, is a 400 naming each bad field", async () => {
    const t = await createTenant({ org: "org_abc123" });
    const res = await call(
      "POST",
      SYNC,
      {
        organization_id: "org_abc123",
        vector_store_id: "your_vector_store_id",
        sync_mode: "your_sync_mode",
        sync_timestamp: "your_sync_timestamp",
        operations: [],
      },
      { "X-API-Key": t.key },
    );
    const error = await expectEnvelope(res, 400, "VALIDATION_ERROR", "invalid_request_error");
    expect(Object.keys(error.details.fields).sort()).toEqual(["sync_mode", "sync_timestamp", "vector_store_id"]);
    expect(error.details.fields.sync_mode[0]).toMatch(/incremental/);
  });

  it("400 VALIDATION_ERROR for operations that are not an array, a timestamp without a zone, a bad org", async () => {
    const t = await createTenant();
    const res = await call(
      "POST",
      SYNC,
      { organization_id: "abc", vector_store_id: t.store, sync_mode: "incremental", sync_timestamp: "2026-01-15T10:00:00", operations: {} },
      { "X-API-Key": t.key },
    );
    const error = await expectEnvelope(res, 400, "VALIDATION_ERROR", "invalid_request_error");
    expect(Object.keys(error.details.fields).sort()).toEqual(["operations", "organization_id", "sync_timestamp"]);
  });

  it("a 400's message says why: the reason beside each field, 'is required' for a missing one", async () => {
    const t = await createTenant();
    const res = await call("POST", SYNC, { organization_id: t.org, sync_mode: "nope", operations: [] }, { "X-API-Key": t.key });
    const error = await expectEnvelope(res, 400, "VALIDATION_ERROR", "invalid_request_error");
    expect(error.message).toBe(
      "Invalid request: vector_store_id is required; sync_mode must be 'incremental' or 'full_refresh'; sync_timestamp is required.",
    );
    expect(error.details.fields).toEqual({
      vector_store_id: ["is required"],
      sync_mode: ["must be 'incremental' or 'full_refresh'"],
      sync_timestamp: ["is required"],
    });
    const search = await call("POST", `/v1/vector_stores/${t.store}/search`, { query: "x", top_k: 0 }, { "X-API-Key": t.key });
    expect(((await search.json()) as any).error.message).toBe("Invalid request: top_k must be at least 1.");

    // One operation's message: its field, then the reason, never the field twice.
    const ops = await sync(t, [{ action: "upsrt", id: "a", namespace: "n" }, { action: "upsert", id: "b", namespace: "n" }, 7]);
    expect(ops.body.errors.map((e: any) => e.message)).toEqual([
      "action must be 'upsert' or 'delete'",
      "data is required",
      "operation must be a JSON object",
    ]);
  });

  it("400 BATCH_SIZE_EXCEEDED over 5000 operations, nothing written", async () => {
    const t = await createTenant();
    const ops = Array.from({ length: 5001 }, (_, i) => upsert(`t${i}`, { n: i }));
    const res = await call("POST", SYNC, syncBody(t, ops), { "X-API-Key": t.key });
    const error = await expectEnvelope(res, 400, "BATCH_SIZE_EXCEEDED", "invalid_request_error");
    expect(error.details).toEqual({ max_operations: 5000, operations: 5001 });
    const ns = await call("GET", `/v1/vector_stores/${t.store}/namespaces`, undefined, { "X-API-Key": t.key });
    expect(((await ns.json()) as any).namespaces).toEqual([]);
  });

  it("403 INSUFFICIENT_PERMISSIONS for another organization's id", async () => {
    const t = await createTenant();
    await expectEnvelope(
      await call("POST", SYNC, syncBody(t, [], { organization_id: "org_someone_else" }), { "X-API-Key": t.key }),
      403,
      "INSUFFICIENT_PERMISSIONS",
      "authorization_error",
    );
  });

  it("404 VECTOR_STORE_NOT_FOUND for a store that does not exist", async () => {
    const t = await createTenant();
    await expectEnvelope(
      await call("POST", SYNC, syncBody(t, [], { vector_store_id: "vs_nope" }), { "X-API-Key": t.key }),
      404,
      "VECTOR_STORE_NOT_FOUND",
      "not_found_error",
    );
  });

  it("404 for unknown routes, records and syncs, in the envelope", async () => {
    const t = await createTenant();
    const nothing = await expectEnvelope(await call("GET", "/v1/nothing-here"), 404, "NOT_FOUND", "not_found_error");
    expect(nothing.message).toBe("No route for GET /v1/nothing-here. Every route is listed at /docs.");
    expect(nothing.details).toEqual({ closest_route: null, docs: "/docs" });
    // A typo names the route it probably meant; so does the wrong method on a served path.
    const typo = await expectEnvelope(await call("GET", `/v1/vector_store/${t.store}/namespace`), 404, "NOT_FOUND", "not_found_error");
    expect(typo.message).toBe(
      `No route for GET /v1/vector_store/${t.store}/namespace. Did you mean GET /v1/vector_stores/{vector_store_id}/namespaces? Every route is listed at /docs.`,
    );
    const method = await expectEnvelope(await call("GET", "/v1/connectors/pipeline/sync"), 404, "NOT_FOUND", "not_found_error");
    expect(method.details.closest_route).toBe("POST /v1/connectors/pipeline/sync");
    // A long path costs a bounded comparison and a clipped message.
    const long = await expectEnvelope(await call("GET", `/${"x/".repeat(4000)}`), 404, "NOT_FOUND", "not_found_error");
    expect(long.message.length).toBeLessThan(300);
    await expectEnvelope(
      await call("GET", `/v1/vector_stores/${t.store}/records/ns/missing`, undefined, { "X-API-Key": t.key }),
      404,
      "RECORD_NOT_FOUND",
      "not_found_error",
    );
    await expectEnvelope(
      await call("GET", "/v1/connectors/pipeline/syncs/sync_missing", undefined, { "X-API-Key": t.key }),
      404,
      "SYNC_NOT_FOUND",
      "not_found_error",
    );
  });

  it("409 STALE_SYNC for a full_refresh older than one already applied", async () => {
    const t = await createTenant();
    const newer = await sync(t, [upsert("a", { v: 2 })], { sync_mode: "full_refresh", sync_timestamp: "2026-02-01T00:00:00Z" });
    expect(newer.status).toBe(200);
    const older = await call(
      "POST",
      SYNC,
      syncBody(t, [upsert("a", { v: 1 })], { sync_mode: "full_refresh", sync_timestamp: "2026-01-01T00:00:00Z" }),
      { "X-API-Key": t.key },
    );
    await expectEnvelope(older, 409, "STALE_SYNC", "conflict_error");
  });

  it("every successful response carries X-Request-Id too", async () => {
    const res = await call("GET", "/health");
    expect(res.headers.get("X-Request-Id")).toMatch(/^req_/);
  });
});
