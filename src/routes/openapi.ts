import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { SyncRequest, SyncResponse } from "../schemas/sync";
import { CreateApiKeyRequest, CreatedApiKey, CreateVectorStoreRequest, ReconcileRequest, VectorStore } from "../schemas/admin";
import { NamespaceDeletionResponse, RecordListResponse, RunResponse, SyncListResponse } from "../schemas/lists";
import { SearchRequest, SearchResponse } from "../schemas/search";

// The document is generated from the very zod schemas that validate requests, so the two
// cannot drift apart.
const schemas = { SyncRequest, SyncResponse, CreateVectorStoreRequest, VectorStore, CreateApiKeyRequest, CreatedApiKey,
  SearchRequest, SearchResponse, ReconcileRequest, SyncListResponse, RecordListResponse, RunResponse, NamespaceDeletionResponse };

const ErrorEnvelope = {
  type: "object",
  required: ["success", "error"],
  properties: {
    success: { const: false },
    error: {
      type: "object",
      required: ["code", "message", "system_message", "type", "status", "trace_id", "timestamp", "details"],
      properties: {
        code: { type: "string" }, message: { type: "string" }, system_message: { type: "string" },
        type: { type: "string" }, status: { type: "integer" }, trace_id: { type: "string" },
        timestamp: { type: "string", format: "date-time" }, details: { type: "object" },
      },
    },
  },
};

function component(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { "application/json": { schema } } });
const errors = { default: { description: "Error envelope", ...json(ref("Error")) } };
const apiKey = [{ ApiKey: [] }];
const admin = [{ AdminToken: [] }];
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
const queryParam = (name: string, schema: object) => ({ name, in: "query", required: false, schema });

const syncOperation = {
  summary: "Apply a batch of upserts and deletes (incremental) or refresh namespaces (full_refresh)",
  security: apiKey,
  requestBody: { required: true, ...json(ref("SyncRequest")) },
  responses: { 200: { description: "Sync result", ...json(ref("SyncResponse")) }, ...errors },
};

export function buildOpenApiDocument() {
  return {
    openapi: "3.1.0",
    info: { title: "Unified sync endpoint for pipeline data", version: "1.0.0" },
    components: {
      securitySchemes: {
        ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        AdminToken: { type: "http", scheme: "bearer" },
      },
      schemas: {
        SyncRequest: component(schemas.SyncRequest, "input"),
        SyncResponse: component(schemas.SyncResponse, "output"),
        CreateVectorStoreRequest: component(schemas.CreateVectorStoreRequest, "input"),
        VectorStore: component(schemas.VectorStore, "output"),
        CreateApiKeyRequest: component(schemas.CreateApiKeyRequest, "input"),
        CreatedApiKey: component(schemas.CreatedApiKey, "output"),
        SearchRequest: component(schemas.SearchRequest, "input"),
        SearchResponse: component(schemas.SearchResponse, "output"),
        ReconcileRequest: component(schemas.ReconcileRequest, "input"),
        SyncList: component(schemas.SyncListResponse, "output"),
        RecordList: component(schemas.RecordListResponse, "output"),
        Run: component(schemas.RunResponse, "output"),
        NamespaceDeletion: component(schemas.NamespaceDeletionResponse, "output"),
        Error: ErrorEnvelope,
      },
    },
    paths: {
      "/v1/connectors/pipeline/sync": { post: syncOperation },
      "/v1/pipeline/sync": { post: { ...syncOperation, summary: "Alias of /v1/connectors/pipeline/sync" } },
      "/v1/connectors/pipeline/syncs/{sync_id}": {
        get: { summary: "A sync's stored result", security: apiKey, parameters: [pathParam("sync_id")],
          responses: { 200: { description: "Stored sync result" }, ...errors } },
      },
      "/v1/connectors/pipeline/syncs": {
        get: { summary: "The key's syncs, newest first", security: apiKey,
          parameters: [queryParam("vector_store_id", { type: "string" }), queryParam("limit", { type: "integer", minimum: 1, maximum: 100, default: 20 }),
            queryParam("cursor", { type: "string", description: "next_cursor of the previous page" })],
          responses: { 200: { description: "A page of syncs", ...json(ref("SyncList")) }, ...errors } },
      },
      "/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}": {
        get: { summary: "A full_refresh run: its parts, summed results and state", security: apiKey,
          parameters: [pathParam("vector_store_id"), { ...pathParam("sync_timestamp"), description: "ISO 8601, URL-encoded; any spelling of the instant" }],
          responses: { 200: { description: "The run", ...json(ref("Run")) }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}/search": {
        post: { summary: "Search a store by text or vector", security: apiKey, parameters: [pathParam("vector_store_id")],
          requestBody: { required: true, ...json(ref("SearchRequest")) },
          responses: { 200: { description: "Matches, best first", ...json(ref("SearchResponse")) }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}/records/{namespace}": {
        get: { summary: "A namespace's live records, in id order", security: apiKey,
          parameters: [pathParam("vector_store_id"), pathParam("namespace"), queryParam("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }),
            queryParam("cursor", { type: "string" })],
          responses: { 200: { description: "A page of records", ...json(ref("RecordList")) }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}/namespaces/{namespace}": {
        delete: { summary: "Remove a namespace's records and vectors (call again while remaining > 0)", security: apiKey,
          parameters: [pathParam("vector_store_id"), pathParam("namespace")],
          responses: { 200: { description: "What was removed", ...json(ref("NamespaceDeletion")) }, ...errors } },
      },
      "/v1/admin/vector-stores/{vector_store_id}/reconcile": {
        post: { summary: "Check one page of a store's ledger against the index and repair it", security: admin,
          parameters: [pathParam("vector_store_id")], requestBody: { required: false, ...json(ref("ReconcileRequest")) },
          responses: { 200: { description: "The page's findings" }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}": {
        get: { summary: "A vector store", security: apiKey, parameters: [pathParam("vector_store_id")],
          responses: { 200: { description: "The store", ...json(ref("VectorStore")) }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}/namespaces": {
        get: { summary: "Namespaces of a store with record counts", security: apiKey,
          parameters: [pathParam("vector_store_id")], responses: { 200: { description: "Namespaces" }, ...errors } },
      },
      "/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}": {
        get: { summary: "One record as the ledger holds it", security: apiKey,
          parameters: [pathParam("vector_store_id"), pathParam("namespace"), pathParam("record_id")],
          responses: { 200: { description: "The record" }, ...errors } },
      },
      "/v1/admin/vector-stores": {
        post: { summary: "Create a vector store", security: admin,
          requestBody: { required: true, ...json(ref("CreateVectorStoreRequest")) },
          responses: { 201: { description: "Created", ...json(ref("VectorStore")) }, ...errors } },
      },
      "/v1/admin/api-keys": {
        post: { summary: "Create a pipeline API key (plaintext shown once)", security: admin,
          requestBody: { required: true, ...json(ref("CreateApiKeyRequest")) },
          responses: { 201: { description: "Created", ...json(ref("CreatedApiKey")) }, ...errors } },
      },
      "/v1/admin/api-keys/{key_id}": {
        delete: { summary: "Revoke an API key", security: admin, parameters: [pathParam("key_id")],
          responses: { 204: { description: "Revoked" }, ...errors } },
      },
      "/health": { get: { summary: "Liveness", responses: { 200: { description: "OK" } } } },
    },
  };
}

export const openApiRoutes = new Hono<AppEnv>();
openApiRoutes.get("/openapi.json", (c) => c.json(buildOpenApiDocument()));
