// The traffic mix of npm run conformance: every route, valid requests and
// invalid ones (`invalid: true`: the server refuses it with 400 or 401, and so must the document).
// Small bodies only: Prism cannot carry bodies over 10 MB.

/** A new organization with a vector store and an API key, through the admin API. */
export async function createTenant(base, adminToken) {
  const admin = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  const org = `org_conf_${Math.random().toString(36).slice(2, 10)}`;
  const post = async (path, body) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers: admin, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const store = await post("/v1/admin/vector-stores", { organization_id: org, metadata_fields: ["status"] });
  const key = await post("/v1/admin/api-keys", { organization_id: org });
  return { org, store: store.id, dimensions: store.dimensions, shard: store.ledger_shard, key: key.api_key };
}

/** The requests, in order (later ones read what earlier ones wrote). */
export function* requests(t, adminToken, { gzipSync }) {
  const key = { "X-API-Key": t.key };
  const bearer = { Authorization: `Bearer ${t.key}` };
  const admin = { Authorization: `Bearer ${adminToken}` };
  const jsonHeaders = (headers) => ({ ...headers, "Content-Type": "application/json" });
  const json = (name, method, path, body, extra = {}) => ({
    name,
    method,
    path,
    headers: jsonHeaders(extra.headers ?? key),
    body: JSON.stringify(body),
    ...extra,
    ...(extra.headers ? { headers: jsonHeaders(extra.headers) } : {}),
  });
  const get = (name, path, extra = {}) => ({ name, method: "GET", path, headers: key, ...extra });
  const sync = (extra, operations) => ({
    organization_id: t.org,
    vector_store_id: t.store,
    sync_mode: "incremental",
    sync_timestamp: "2026-01-15T10:00:00Z",
    operations,
    ...extra,
  });
  const upsert = (id, data, more = {}) => ({ action: "upsert", id, namespace: "tasks", data, ...more });
  const SYNC = "/v1/connectors/pipeline/sync";
  const S = `/v1/vector_stores/${t.store}`;

  // Service routes.
  yield get("GET /health", "/health", { headers: {}, status: 200 });
  yield get("GET /openapi.json", "/openapi.json", { headers: {}, status: 200 });
  yield get("GET /docs", "/docs", { headers: {}, status: 200 });
  yield get("GET / (JSON)", "/", { headers: {}, status: 200 });
  yield get("GET / (HTML)", "/", { headers: { Accept: "text/html" }, status: 200 });

  // Syncs the server applies, whole or in part.
  yield json(
    "sync: incremental",
    "POST",
    SYNC,
    sync({}, [
      upsert("task_1", { name: "Write the docs", status: "open" }, { metadata: { team: "core" } }),
      upsert(
        "task/2 two",
        { name: "Ship it" },
        { updated_at: "2026-01-15T09:00:00.123456789Z", file: { file_url: "https://example.com/f.pdf" } },
      ),
      { action: "delete", id: "task_gone", namespace: "tasks" },
    ]),
    { status: 200, headers: { ...key, "Idempotency-Key": `conf-${t.org}` } },
  );
  yield json(
    "sync: replayed by its Idempotency-Key",
    "POST",
    SYNC,
    sync({}, [
      upsert("task_1", { name: "Write the docs", status: "open" }, { metadata: { team: "core" } }),
      upsert(
        "task/2 two",
        { name: "Ship it" },
        { updated_at: "2026-01-15T09:00:00.123456789Z", file: { file_url: "https://example.com/f.pdf" } },
      ),
      { action: "delete", id: "task_gone", namespace: "tasks" },
    ]),
    {
      status: 200,
      headers: { ...key, "Idempotency-Key": `conf-${t.org}` },
    },
  );
  yield json(
    "sync: the alias path, Bearer key",
    "POST",
    "/v1/pipeline/sync",
    sync({ sync_timestamp: "2026-01-15T11:00:00+02:00" }, [upsert("task_3", { n: 3 })]),
    {
      status: 200,
      headers: bearer,
    },
  );
  yield json(
    "sync: a stale upsert",
    "POST",
    SYNC,
    sync({ sync_timestamp: "2026-01-01T00:00:00Z" }, [upsert("task/2 two", { name: "Old" }, { updated_at: "2025-01-01T00:00:00Z" })]),
    { status: 200 },
  );
  yield json(
    "sync: timestamps at the range's edges",
    "POST",
    SYNC,
    sync({ sync_timestamp: "0000-01-01T00:00:00-01:00" }, [
      upsert("edge", { n: 1 }, { updated_at: "9999-12-31T23:59:59.999999999+00:00" }),
    ]),
    { status: 200 },
  );
  yield json(
    "sync: with a vector",
    "POST",
    SYNC,
    sync({}, [upsert("task_v", { name: "Vector" }, { vector: Array.from({ length: t.dimensions }, (_, i) => (i % 7) / 7) })]),
    { status: 200 },
  );
  for (const [what, bad] of [
    ["an unknown action", { action: "merge", id: "x1", namespace: "tasks" }],
    ["an upsert without data", { action: "upsert", id: "x2", namespace: "tasks" }],
    ["a bad namespace", { action: "upsert", id: "x3", namespace: "no spaces", data: { a: 1 } }],
    ["a bad updated_at", { action: "upsert", id: "x4", namespace: "tasks", data: { a: 1 }, updated_at: "yesterday" }],
    ["nested metadata", { action: "upsert", id: "x5", namespace: "tasks", data: { a: 1 }, metadata: { deep: { x: 1 } } }],
    ["a string for an operation", "upsert"],
    ["an operation with an unknown field", { action: "delete", id: "x6", namespace: "tasks", colour: "red" }],
  ]) {
    yield json(
      `sync: one operation with ${what} beside a good one (applied in part)`,
      "POST",
      SYNC,
      sync({}, [upsert("good", { ok: true }), bad]),
      { status: 200 },
    );
  }
  yield {
    name: "sync: Content-Encoding gzip",
    method: "POST",
    path: SYNC,
    headers: { ...key, "Content-Type": "application/json", "Content-Encoding": "gzip" },
    body: gzipSync(JSON.stringify(sync({}, [upsert("task_gz", { name: "Compressed" })]))),
    status: 200,
    // Prism reads every body as JSON text and cannot carry a compressed one: to the server only.
    directOnly: true,
  };
  const ts = "2026-02-01T00:00:00Z";
  yield json(
    "sync: a full_refresh run's part",
    "POST",
    SYNC,
    sync({ sync_mode: "full_refresh", sync_timestamp: ts, final: false }, [upsert("p1", { n: 1 }, { namespace: "parts" })]),
    { status: 200 },
  );
  yield json(
    "sync: the run's final request",
    "POST",
    SYNC,
    sync({ sync_mode: "full_refresh", sync_timestamp: ts, final: true, namespaces: ["other"] }, []),
    { status: 200 },
  );
  yield json(
    "sync: a part of a completed run (409)",
    "POST",
    SYNC,
    sync({ sync_mode: "full_refresh", sync_timestamp: ts, final: false }, []),
    { status: 409 },
  );
  yield json(
    "sync: an older full_refresh (409)",
    "POST",
    SYNC,
    sync({ sync_mode: "full_refresh", sync_timestamp: "2026-01-20T00:00:00Z" }, [upsert("p0", { n: 0 }, { namespace: "parts" })]),
    { status: 409 },
  );
  yield json("sync: another organization (403)", "POST", SYNC, sync({ organization_id: "org_someone_else" }, []), { status: 403 });
  yield json("sync: an unknown store (404)", "POST", SYNC, sync({ vector_store_id: "vs_missing_conf" }, []), { status: 404 });
  yield json("sync: a wrong API key (401)", "POST", SYNC, sync({}, []), { status: 401, headers: { "X-API-Key": "usk_wrong" } });

  // Syncs the server refuses whole.
  const refused = (name, body, extra = {}) => json(`sync refused: ${name}`, "POST", SYNC, body, { invalid: true, ...extra });
  yield refused("sync_timestamp with 10 fractional digits", sync({ sync_timestamp: "2026-01-15T10:00:00.1234567891Z" }, []));
  yield refused("year 0000 with a positive offset", sync({ sync_timestamp: "0000-01-01T00:00:00+01:00" }, []));
  yield refused("year 10000 in UTC", sync({ sync_timestamp: "9999-12-31T23:00:00-02:00" }, []));
  yield refused("February 30th", sync({ sync_timestamp: "2026-02-30T00:00:00Z" }, []));
  yield refused("no time zone", sync({ sync_timestamp: "2026-01-15T10:00:00" }, []));
  yield refused("final on an incremental sync", sync({ final: true }, []));
  yield refused("namespaces without final: true", sync({ sync_mode: "full_refresh", namespaces: ["tasks"] }, []));
  yield refused("namespaces with final: false", sync({ sync_mode: "full_refresh", final: false, namespaces: ["tasks"] }, []));
  yield refused("an unknown sync_mode", sync({ sync_mode: "append" }, []));
  yield refused("an unknown field", sync({ colour: "red" }, []));
  yield refused("operations not an array", sync({}, { action: "upsert" }));
  yield refused("no organization_id", { ...sync({}, []), organization_id: undefined });
  yield refused("no credentials", sync({}, []), { headers: {} });
  yield refused("a malformed Idempotency-Key", sync({}, []), { headers: { ...key, "Idempotency-Key": "has spaces" } });

  // Reads.
  yield get("GET syncs (list)", "/v1/connectors/pipeline/syncs?limit=2", { status: 200 });
  yield get("GET syncs (list, one store)", `/v1/connectors/pipeline/syncs?vector_store_id=${t.store}`, { status: 200 });
  yield get("GET syncs: an unknown sync (404)", "/v1/connectors/pipeline/syncs/sync_000000000000000000000000", { status: 404 });
  yield get("GET run", `/v1/connectors/pipeline/runs/${t.store}/${encodeURIComponent(ts)}`, { status: 200 });
  yield get("GET run, another spelling of its instant", `/v1/connectors/pipeline/runs/${t.store}/2026-02-01T01%3A00%3A00%2B01%3A00`, {
    status: 200,
  });
  yield get("GET run: no such run (404)", `/v1/connectors/pipeline/runs/${t.store}/2026-03-01T00%3A00%3A00Z`, { status: 404 });
  yield get("GET store", S, { status: 200 });
  yield get("GET store with a wrong key (401)", S, { headers: { "X-API-Key": "usk_wrong" }, status: 401 });
  yield get("GET namespaces", `${S}/namespaces`, { status: 200 });
  yield get("GET records", `${S}/records/tasks?limit=2`, { status: 200 });
  yield get("GET record", `${S}/records/tasks/${encodeURIComponent("task/2 two")}`, { status: 200 });
  yield get("GET record: missing (404)", `${S}/records/tasks/nope`, { status: 404 });
  yield get("GET records with a D1 bookmark", `${S}/records/tasks`, { headers: { ...key, "X-D1-Bookmark": "0:abc" }, status: 200 });
  const badRead = (name, path, headers = key) => get(`read refused: ${name}`, path, { headers, invalid: true });
  yield badRead("a run path timestamp that is not one", `/v1/connectors/pipeline/runs/${t.store}/yesterday`);
  yield badRead("limit 0", `${S}/records/tasks?limit=0`);
  yield badRead("limit over 100 on syncs", "/v1/connectors/pipeline/syncs?limit=101");
  yield badRead("a malformed bookmark", `${S}/namespaces`, { ...key, "X-D1-Bookmark": "bad" });
  yield badRead("no credentials", `${S}/namespaces`, {});

  // Search.
  const search = (name, body, extra = {}) => json(name, "POST", `${S}/search`, body, extra);
  yield search("search by text", { query: "docs", top_k: 3 }, { status: 200 });
  yield search(
    "search by vector in namespaces, with a filter",
    { vector: Array.from({ length: t.dimensions }, () => 0.5), namespace: ["tasks"], filter: { status: { $in: ["open", "closed"] } } },
    { status: 200 },
  );
  yield search(
    "search with a range filter",
    { query: "docs", namespace: "tasks", filter: { status: "open", chunk: { $gte: 0, $lt: 5 } } },
    { status: 200 },
  );
  yield search("search refused: neither query nor vector", { top_k: 3 }, { invalid: true });
  yield search("search refused: both query and vector", { query: "x", vector: [0.1] }, { invalid: true });
  yield search("search refused: an unsupported filter operator", { query: "x", filter: { status: { $regex: "o.*" } } }, { invalid: true });
  yield search("search refused: top_k 0", { query: "x", top_k: 0 }, { invalid: true });
  yield search("search refused: an unknown field", { query: "x", namespaces: ["tasks"] }, { invalid: true });

  // Admin.
  const adminJson = (name, path, body, extra = {}) => json(name, "POST", path, body, { headers: admin, ...extra });
  yield adminJson(
    "admin: create a store",
    "/v1/admin/vector-stores",
    { organization_id: t.org, id: `vs_conf2_${t.org.slice(9)}`, name: "Second", text_fields: ["name"] },
    { status: 201 },
  );
  yield adminJson("admin: a store that exists (409)", "/v1/admin/vector-stores", { organization_id: t.org, id: t.store }, { status: 409 });
  yield adminJson(
    "admin refused: an unknown embedding_model",
    "/v1/admin/vector-stores",
    { organization_id: t.org, embedding_model: "@cf/nobody/no-model" },
    { invalid: true },
  );
  yield adminJson(
    "admin refused: an unknown field",
    "/v1/admin/vector-stores",
    { organization_id: t.org, colour: "red" },
    { invalid: true },
  );
  yield adminJson("admin refused: no admin token", "/v1/admin/api-keys", { organization_id: t.org }, { invalid: true, headers: {} });
  yield adminJson(
    "admin: create an API key",
    "/v1/admin/api-keys",
    { organization_id: t.org, vector_store_ids: [t.store] },
    { status: 201 },
  );
  yield { name: "admin: revoke an unknown key (404)", method: "DELETE", path: "/v1/admin/api-keys/key_nope", headers: admin, status: 404 };
  yield {
    name: "admin: reconcile (no body)",
    method: "POST",
    path: `/v1/admin/vector-stores/${t.store}/reconcile`,
    headers: admin,
    status: 200,
  };
  yield adminJson("admin: reconcile a page", `/v1/admin/vector-stores/${t.store}/reconcile`, { limit: 1 }, { status: 200 });
  yield adminJson("admin refused: reconcile limit 0", `/v1/admin/vector-stores/${t.store}/reconcile`, { limit: 0 }, { invalid: true });
  yield adminJson(
    "admin: move to the shard it is on (409)",
    `/v1/admin/vector-stores/${t.store}/move`,
    { ledger_shard: t.shard },
    { status: 409 },
  );
  yield adminJson("admin refused: move without a shard", `/v1/admin/vector-stores/${t.store}/move`, {}, { invalid: true });

  // Deletes last.
  yield { name: "DELETE namespace", method: "DELETE", path: `${S}/namespaces/parts`, headers: key, status: 200 };
  yield { name: "DELETE namespace: empty (404)", method: "DELETE", path: `${S}/namespaces/empty`, headers: key, status: 404 };
}
