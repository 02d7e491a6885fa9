import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { SyncRequest, SyncResponse } from "../schemas/sync";
import { CreateApiKeyRequest, CreatedApiKey, CreateVectorStoreRequest, VectorStore } from "../schemas/admin";

// The document is generated from the very zod schemas that validate requests, so the two
// cannot drift apart.
const schemas = { SyncRequest, SyncResponse, CreateVectorStoreRequest, VectorStore, CreateApiKeyRequest, CreatedApiKey };

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
