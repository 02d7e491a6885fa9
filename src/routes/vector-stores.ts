import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ApiError, Errors } from "../errors";
import { apiKeyAuth } from "../middleware/api-key-auth";
import { searchRateLimit } from "../middleware/rate-limit";
import { authorizeStore } from "../auth/store-access";
import { getRecord, listNamespaces } from "../db/ledger";
import { readJsonBody } from "../http/json-body";
import { fieldErrors, NAMESPACE_PATTERN } from "../schemas/common";
import { RecordListQuery } from "../schemas/lists";
import { decodeCursor, encodeCursor, listRecords } from "../db/listings";
import { SearchRequest } from "../schemas/search";
import { storeDeps } from "../vectors/deps";
import { ledgerOf } from "../db/placement";
import { searchStore } from "../vectors/search";
import { storeObject } from "../sync/vector-store-sync";
import { storeMoving } from "../sync/idempotency";

export const vectorStoreRoutes = new Hono<AppEnv>();
vectorStoreRoutes.use("/v1/vector_stores/*", apiKeyAuth);

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  return c.json(store);
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/namespaces", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  return c.json({ vector_store_id: store.id, namespaces: await listNamespaces(ledgerOf(c.env, store), store.id) });
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/records/:namespace", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  const namespace = c.req.param("namespace");
  const parsed = RecordListQuery.safeParse(c.req.query());
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error));
  const after = parsed.data.cursor === undefined ? null : decodeCursor(parsed.data.cursor, 1);
  if (parsed.data.cursor !== undefined && after === null)
    throw Errors.validation({ cursor: ["must be a next_cursor returned by this endpoint"] });
  const page = await listRecords(ledgerOf(c.env, store), store.id, namespace, after?.[0] ?? null, parsed.data.limit);
  return c.json({
    vector_store_id: store.id,
    namespace,
    records: page.items,
    next_cursor: page.next === null ? null : encodeCursor([page.next]),
  });
});

vectorStoreRoutes.delete("/v1/vector_stores/:vector_store_id/namespaces/:namespace", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  const namespace = c.req.param("namespace");
  // Through the store's Durable Object, like a sync: never interleaved with one.
  const stub = storeObject(c.env, store.id);
  const deletion = NAMESPACE_PATTERN.test(namespace) ? await stub.deleteNamespace(store, namespace) : null;
  if (deletion === "moving") throw storeMoving(store.id);
  if (!deletion) {
    throw Errors.notFound("NAMESPACE_NOT_FOUND", `Namespace '${namespace}' has no records in '${store.id}'.`, { namespace });
  }
  if (deletion.records_deleted === 0 && deletion.failed > 0) {
    throw new ApiError(
      503,
      "UPSTREAM_UNAVAILABLE",
      "The vector index is unavailable; nothing was deleted. Retry the request.",
      "api_error",
      { failed_records: deletion.failed },
      "Upstream vector index failure",
      { "Retry-After": "10" },
    );
  }
  return c.json(deletion);
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/records/:namespace/:record_id", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  // Hono decodes path parameters, so ids with '/' or spaces arrive whole when URL-encoded.
  const namespace = c.req.param("namespace");
  const recordId = c.req.param("record_id");
  const record = await getRecord(ledgerOf(c.env, store), store.id, namespace, recordId);
  if (!record) {
    throw Errors.notFound("RECORD_NOT_FOUND", `Record '${recordId}' was not found in namespace '${namespace}'.`, {
      namespace,
      id: recordId,
    });
  }
  return c.json(record);
});

// Searches cost an embedding and index queries: limited per organization (reads above are not).
vectorStoreRoutes.post("/v1/vector_stores/:vector_store_id/search", searchRateLimit, async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  const parsed = SearchRequest.safeParse(await readJsonBody(c));
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error));
  return c.json(await searchStore(storeDeps(c.env, store), store, parsed.data));
});
