import { expect, it } from "vitest";
import { call } from "./helpers";

it("serves an OpenAPI 3.1 document generated from the validating schemas", async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  const doc = (await res.json()) as any;
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
    "/v1/connectors/pipeline/sync", "/v1/pipeline/sync", "/v1/connectors/pipeline/syncs/{sync_id}",
    "/v1/vector_stores/{vector_store_id}", "/v1/vector_stores/{vector_store_id}/namespaces",
    "/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}", "/v1/admin/vector-stores",
    "/v1/admin/api-keys", "/v1/admin/api-keys/{key_id}", "/health", "/v1/connectors/pipeline/syncs",
    "/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}", "/v1/vector_stores/{vector_store_id}/search",
    "/v1/vector_stores/{vector_store_id}/records/{namespace}", "/v1/vector_stores/{vector_store_id}/namespaces/{namespace}",
    "/v1/admin/vector-stores/{vector_store_id}/reconcile"]));
  expect(Object.keys(doc.components.schemas.SyncRequest.properties)).toEqual(expect.arrayContaining(["final", "namespaces"]));
  expect(Object.keys(doc.components.schemas.SyncResponse.properties)).toEqual(expect.arrayContaining(["run", "sweep", "errors_omitted"]));
  const request = doc.components.schemas.SyncRequest;
  expect(request.required).toEqual(expect.arrayContaining(["organization_id", "vector_store_id", "sync_mode", "sync_timestamp", "operations"]));
  expect(request.properties.sync_mode.enum).toEqual(["incremental", "full_refresh"]);
  expect(request.properties.operations.maxItems).toBe(5000);
  expect(JSON.stringify(request.properties.operations.items)).toContain("upsert");
  expect(doc.components.schemas.SyncResponse.properties.results.required).toEqual(["upserted", "deleted", "unchanged", "failed"]);
});
