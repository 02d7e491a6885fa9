import { Hono } from "hono";
import type { AppEnv } from "../env";
import { Errors } from "../errors";
import { apiKeyAuth } from "../middleware/api-key-auth";
import { authorizeStore } from "../auth/store-access";
import { getRecord, listNamespaces } from "../db/ledger";

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
