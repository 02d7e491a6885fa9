import { Hono } from "hono";
import type { AppEnv } from "../env";
import { Errors } from "../errors";
import { apiKeyAuth } from "../middleware/api-key-auth";
import { searchRateLimit } from "../middleware/rate-limit";
import { authorizeStore } from "../auth/store-access";
import { getRecord, listNamespaces } from "../db/ledger";
import { readJsonBody } from "../http/json-body";
import { fieldErrors } from "../schemas/common";
import { SearchRequest } from "../schemas/search";
import { vectorDeps } from "../vectors/deps";
import { searchStore } from "../vectors/search";

export const vectorStoreRoutes = new Hono<AppEnv>();
vectorStoreRoutes.use("/v1/vector_stores/*", apiKeyAuth);

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  return c.json(store);
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/namespaces", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  return c.json({ vector_store_id: store.id, namespaces: await listNamespaces(c.env.DB, store.id) });
});

vectorStoreRoutes.get("/v1/vector_stores/:vector_store_id/records/:namespace/:record_id", async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  // Hono decodes path parameters, so ids with '/' or spaces arrive whole when URL-encoded.
  const namespace = c.req.param("namespace");
  const recordId = c.req.param("record_id");
  const record = await getRecord(c.env.DB, store.id, namespace, recordId);
  if (!record) {
    throw Errors.notFound("RECORD_NOT_FOUND", `Record '${recordId}' was not found in namespace '${namespace}'.`,
      { namespace, id: recordId });
  }
  return c.json(record);
});

// Searches cost an embedding and index queries: limited per organization (reads above are not).
vectorStoreRoutes.post("/v1/vector_stores/:vector_store_id/search", searchRateLimit, async (c) => {
  const store = await authorizeStore(c.env.DB, c.get("apiKey"), c.req.param("vector_store_id"));
  const parsed = SearchRequest.safeParse(await readJsonBody(c));
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error));
  return c.json(await searchStore({ db: c.env.DB, ...vectorDeps(c.env) }, store, parsed.data));
});
