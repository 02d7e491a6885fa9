import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { ApiError, Errors } from "../../base/errors";
import { apiKeyAuth, apiKeyAuthConcurrent } from "../middleware/api-key-auth";
import { readableStore, readStoreLedger } from "../read-store";
import { searchRateLimit } from "../middleware/rate-limit";
import { authorizeStore } from "../../auth/store-access";
import { getRecord, listNamespaces } from "../../db/ledger";
import { readJsonBody } from "../json-body";
import { fieldErrors, NAMESPACE_PATTERN, overlongArrays } from "../../schemas/common";
import { RecordListQuery } from "../../schemas/lists";
import { decodeCursor, encodeCursor, listRecords } from "../../db/listings";
import { MAX_SEARCH_NAMESPACES, SearchRequest } from "../../schemas/search";
import { MAX_VECTOR_DIMENSIONS } from "../../schemas/sync";
import { BOOKMARK_HEADER, parseBookmark } from "../../db/sessions";
import { storeMoving } from "../../store/store-sync";
import { searchThroughStoreObject, storeObject } from "../../store/store-client";
import { primaryStore } from "../../db/store-cache";
import {
  API_KEY,
  describeOperation,
  INTERNAL,
  JSON_BODY,
  KEY_AUTH,
  pathParam,
  QUERY,
  queryParams,
  STORE_ACCESS,
} from "../openapi/describe";

export const vectorStoreRoutes = new Hono<AppEnv>();
// Reads check revocation at the catalog's primary while they run (apiKeyAuthConcurrent) and read
// the store's shard from a replica (readableStore); namespace deletion, a write, checks
// revocation first.

const describeGetStore = describeOperation({
  operationId: "getVectorStore",
  tag: "Vector stores",
  summary: "A vector store",
  security: API_KEY,
  parameters: [pathParam("vector_store_id")],
  ok: { status: 200, description: "The store.", schema: "VectorStore" },
  errors: [...KEY_AUTH, ...STORE_ACCESS, ...INTERNAL],
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id", describeGetStore, apiKeyAuthConcurrent, async (c) => {
  return c.json(await readableStore(c, c.req.param("vector_store_id")));
});

const describeListNamespaces = describeOperation({
  operationId: "listNamespaces",
  tag: "Vector stores",
  summary: "A store's namespaces with record and vector counts",
  security: API_KEY,
  parameters: [pathParam("vector_store_id"), { $ref: "#/components/parameters/D1Bookmark" }],
  ok: { status: 200, description: "The namespaces.", schema: "NamespaceList" },
  errors: [...QUERY, ...KEY_AUTH, ...STORE_ACCESS, ...INTERNAL],
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/namespaces", describeListNamespaces, apiKeyAuthConcurrent, async (c) => {
  const { store, value } = await readStoreLedger(
    c,
    c.req.param("vector_store_id"),
    (db, s) => listNamespaces(db, s.id),
    (list) => list.length === 0,
  );
  return c.json({ vector_store_id: store.id, namespaces: value });
});

const describeListRecords = describeOperation({
  operationId: "listRecords",
  tag: "Vector stores",
  summary: "A namespace's live records, in id order",
  security: API_KEY,
  parameters: [
    pathParam("vector_store_id"),
    pathParam("namespace"),
    ...queryParams(RecordListQuery),
    { $ref: "#/components/parameters/D1Bookmark" },
  ],
  ok: { status: 200, description: "A page of records (an unknown namespace is an empty page).", schema: "RecordList" },
  errors: [...QUERY, ...KEY_AUTH, ...STORE_ACCESS, ...INTERNAL],
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/records/:namespace", describeListRecords, apiKeyAuthConcurrent, async (c) => {
  const namespace = c.req.param("namespace");
  const parsed = RecordListQuery.safeParse(c.req.query());
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error));
  const after = parsed.data.cursor === undefined ? null : decodeCursor(parsed.data.cursor, 1);
  if (parsed.data.cursor !== undefined && after === null)
    throw Errors.validation({ cursor: ["must be a next_cursor returned by this endpoint"] });
  const { store, value: page } = await readStoreLedger(
    c,
    c.req.param("vector_store_id"),
    (db, s) => listRecords(db, s.id, namespace, after?.[0] ?? null, parsed.data.limit),
    (p) => p.items.length === 0,
  );
  return c.json({
    vector_store_id: store.id,
    namespace,
    records: page.items,
    next_cursor: page.next === null ? null : encodeCursor([page.next]),
  });
});

const describeDeleteNamespace = describeOperation({
  operationId: "deleteNamespace",
  tag: "Vector stores",
  summary: "Remove a namespace (10,000 records a call; repeat while remaining > 0)",
  security: API_KEY,
  parameters: [pathParam("vector_store_id"), pathParam("namespace")],
  ok: { status: 200, description: "What this call removed, and how many records remain.", schema: "NamespaceDeletion" },
  errors: [...KEY_AUTH, ...STORE_ACCESS, "NAMESPACE_NOT_FOUND", "UPSTREAM_UNAVAILABLE", "STORE_MOVING", ...INTERNAL],
});

vectorStoreRoutes.delete("/v1/vector_stores/:vector_store_id/namespaces/:namespace", describeDeleteNamespace, apiKeyAuth, async (c) => {
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

const describeGetRecord = describeOperation({
  operationId: "getRecord",
  tag: "Vector stores",
  summary: "One record as the ledger holds it",
  security: API_KEY,
  parameters: [
    pathParam("vector_store_id"),
    pathParam("namespace"),
    pathParam("record_id"),
    { $ref: "#/components/parameters/D1Bookmark" },
  ],
  ok: { status: 200, description: "The record.", schema: "StoredRecord" },
  errors: [...QUERY, ...KEY_AUTH, ...STORE_ACCESS, "RECORD_NOT_FOUND", ...INTERNAL],
});

vectorStoreRoutes.get(
  "/v1/vector_stores/:vector_store_id/records/:namespace/:record_id",
  describeGetRecord,
  apiKeyAuthConcurrent,
  async (c) => {
    // Hono decodes path parameters, so ids with '/' or spaces arrive whole when URL-encoded.
    const namespace = c.req.param("namespace");
    const recordId = c.req.param("record_id");
    const { value: record } = await readStoreLedger(
      c,
      c.req.param("vector_store_id"),
      (db, s) => getRecord(db, s.id, namespace, recordId),
      (r) => r === null,
    );
    if (!record) {
      throw Errors.notFound("RECORD_NOT_FOUND", `Record '${recordId}' was not found in namespace '${namespace}'.`, {
        namespace,
        id: recordId,
      });
    }
    return c.json(record);
  },
);

const describeSearch = describeOperation({
  operationId: "search",
  tag: "Vector stores",
  summary: "Search a store by text or by vector",
  security: API_KEY,
  parameters: [pathParam("vector_store_id"), { $ref: "#/components/parameters/D1Bookmark" }],
  body: { schema: "SearchRequest", required: true, example: { query: "new feature", namespace: "clickup_tasks", top_k: 5 } },
  ok: { status: 200, description: "Matches, best first.", schema: "SearchResponse" },
  errors: [...KEY_AUTH, "RATE_LIMIT_EXCEEDED", ...STORE_ACCESS, ...JSON_BODY, "UPSTREAM_UNAVAILABLE", ...INTERNAL],
});

// Searches cost an embedding and index queries: limited per organization (reads above are not).
vectorStoreRoutes.post("/v1/vector_stores/:vector_store_id/search", describeSearch, apiKeyAuthConcurrent, searchRateLimit, async (c) => {
  const store = await readableStore(c, c.req.param("vector_store_id"));
  const body = await readJsonBody(c);
  const overlong = overlongArrays(body, { namespace: MAX_SEARCH_NAMESPACES, vector: MAX_VECTOR_DIMENSIONS });
  if (overlong) throw Errors.validation(overlong);
  const parsed = SearchRequest.safeParse(body);
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error, body));
  // In one of the store's search objects, beside the index and the embedding model; the ledger (a
  // replica, or the client's bookmark of the store's shard) gives each match its text. An empty
  // answer is checked against the catalog's primary (the store may have moved shards).
  const bookmark = parseBookmark(c.req.header(BOOKMARK_HEADER));
  return c.json(await searchThroughStoreObject(c.env, store, parsed.data, bookmark, () => primaryStore(c.env.DB, store.id)));
});
