import { Hono } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../../env";
import { ApiError, Errors } from "../../base/errors";
import { randomToken } from "../../base/crypto";
import { readJsonBody } from "../json-body";
import { adminAuth } from "../middleware/admin-auth";
import { fieldErrors } from "../../schemas/common";
import { CreateApiKeyRequest, CreateVectorStoreRequest, MoveStoreRequest, ReconcileRequest } from "../../schemas/admin";
import { ledgerShards, placeNewStore, vectorIndexes } from "../../db/placement";
import { forgetStore } from "../../db/store-cache";
import { getVectorStore, insertVectorStore, listStoreIdsOfOrganization } from "../../db/vector-stores";
import { createApiKey, revokeApiKey } from "../../auth/api-keys";
import { EMBEDDING_MODELS } from "../../vectors/embedder";
import { storeObject } from "../../store/store-client";
import { ADMIN, ADMIN_AUTH, describeOperation, INTERNAL, JSON_BODY, pathParam } from "../openapi/describe";

export const adminRoutes = new Hono<AppEnv>();
adminRoutes.use("/v1/admin/*", adminAuth);

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw Errors.validation(fieldErrors(parsed.error, body));
  return parsed.data;
}

const describeCreateStore = describeOperation({
  operationId: "createVectorStore",
  tag: "Admin",
  summary: "Create a vector store",
  security: ADMIN,
  body: {
    schema: "CreateVectorStoreRequest",
    required: true,
    example: {
      organization_id: "org_abc123",
      id: "vs_tickets",
      name: "Support tickets",
      text_fields: ["subject", "body"],
      metadata_fields: ["status", "priority"],
    },
  },
  ok: { status: 201, description: "The store.", schema: "VectorStore" },
  errors: [...ADMIN_AUTH, ...JSON_BODY, "VECTOR_STORE_EXISTS", ...INTERNAL],
});

adminRoutes.post("/v1/admin/vector-stores", describeCreateStore, async (c) => {
  const body = parse(CreateVectorStoreRequest, await readJsonBody(c));
  const id = body.id ?? `vs_${randomToken(12)}`;
  const model = body.embedding_model ?? c.env.EMBEDDING_MODEL;
  const dimensions = Number(c.env.EMBEDDING_DIMENSIONS);
  // One Vectorize index serves every store, and an index has one dimension count.
  if (EMBEDDING_MODELS.get(model) !== dimensions) {
    const usable = [...EMBEDDING_MODELS].filter(([, d]) => d === dimensions).map(([m]) => m);
    throw Errors.validation({ embedding_model: [`must be one of ${usable.join(", ")} (the index has ${dimensions} dimensions)`] });
  }
  if (body.index !== undefined && !vectorIndexes(c.env).includes(body.index)) {
    throw Errors.validation({ index: [`must be a bound vector index: ${vectorIndexes(c.env).join(", ")}`] });
  }
  const store = {
    id,
    organization_id: body.organization_id,
    name: body.name ?? id,
    created_at: new Date().toISOString(),
    embedding_model: model,
    dimensions,
    text_fields: body.text_fields ?? null,
    metadata_fields: body.metadata_fields ?? null,
    ...(await placeNewStore(c.env, body.index)),
  };
  if (!(await insertVectorStore(c.env.DB, store))) {
    throw new ApiError(409, "VECTOR_STORE_EXISTS", `Vector store '${id}' already exists.`, "conflict_error", { id });
  }
  return c.json(store, 201);
});

const describeCreateKey = describeOperation({
  operationId: "createApiKey",
  tag: "Admin",
  summary: "Create a pipeline API key (the plaintext key is shown once)",
  security: ADMIN,
  body: {
    schema: "CreateApiKeyRequest",
    required: true,
    example: { organization_id: "org_abc123", vector_store_ids: ["vs_demo"] },
  },
  ok: { status: 201, description: "The key.", schema: "CreatedApiKey" },
  errors: [...ADMIN_AUTH, ...JSON_BODY, ...INTERNAL],
});

adminRoutes.post("/v1/admin/api-keys", describeCreateKey, async (c) => {
  const body = parse(CreateApiKeyRequest, await readJsonBody(c));
  const wanted = body.vector_store_ids ? [...new Set(body.vector_store_ids)] : null;
  if (wanted) {
    const owned = new Set(await listStoreIdsOfOrganization(c.env.DB, body.organization_id, wanted));
    const foreign = wanted.filter((id) => !owned.has(id));
    if (foreign.length > 0) {
      throw Errors.validation({ vector_store_ids: [`not vector stores of ${body.organization_id}: ${foreign.join(", ")}`] });
    }
  }
  const { apiKey, record } = await createApiKey(c.env.API_KEYS, body.organization_id, wanted);
  return c.json(
    { key_id: record.key_id, api_key: apiKey, organization_id: record.organization_id, vector_store_ids: record.vector_store_ids },
    201,
  );
});

const describeRevokeKey = describeOperation({
  operationId: "revokeApiKey",
  tag: "Admin",
  summary: "Revoke an API key (it stops working at once)",
  security: ADMIN,
  parameters: [pathParam("key_id")],
  ok: { status: 204, description: "Revoked." },
  errors: [...ADMIN_AUTH, "API_KEY_NOT_FOUND", ...INTERNAL],
});

adminRoutes.delete("/v1/admin/api-keys/:key_id", describeRevokeKey, async (c) => {
  const keyId = c.req.param("key_id");
  if (!(await revokeApiKey(c.env.API_KEYS, c.env.DB, keyId))) {
    throw Errors.notFound("API_KEY_NOT_FOUND", `API key '${keyId}' was not found.`, { key_id: keyId });
  }
  return c.body(null, 204);
});

// Moves a store's ledger to another shard, through its Durable Object (docs/storage.md). A large
// store takes several calls: call again while "done" is false.
const describeMove = describeOperation({
  operationId: "moveVectorStore",
  tag: "Admin",
  summary: "Move a store's ledger to another shard (call again while done is false)",
  security: ADMIN,
  parameters: [pathParam("vector_store_id")],
  body: { schema: "MoveStoreRequest", required: true, example: { ledger_shard: 1 } },
  ok: {
    status: 200,
    description:
      "Where the move stands. It runs in the store's Durable Object, between its syncs; a store too large for one call takes several, and its syncs are answered 503 STORE_MOVING until the copy is complete and the store switched.",
    schema: "MoveReport",
  },
  errors: [...ADMIN_AUTH, "VECTOR_STORE_NOT_FOUND", "MOVE_CONFLICT", ...JSON_BODY, ...INTERNAL],
});

adminRoutes.post("/v1/admin/vector-stores/:vector_store_id/move", describeMove, async (c) => {
  const id = c.req.param("vector_store_id");
  const store = await getVectorStore(c.env.DB, id);
  if (!store) throw Errors.storeNotFound(id);
  const body = parse(MoveStoreRequest, await readJsonBody(c));
  if (!ledgerShards(c.env).includes(body.ledger_shard)) {
    throw Errors.validation({ ledger_shard: [`must be a bound ledger shard: ${ledgerShards(c.env).join(", ")}`] });
  }
  const stub = storeObject(c.env, store.id);
  const report = await stub.moveLedger(store, body.ledger_shard);
  forgetStore(id);
  if ("error" in report) throw new ApiError(409, "MOVE_CONFLICT", `${report.error}.`, "conflict_error", { vector_store_id: id });
  return c.json(report);
});

const describeReconcile = describeOperation({
  operationId: "reconcileVectorStore",
  tag: "Admin",
  summary: "Check one page of a store's ledger against the index and repair it",
  security: ADMIN,
  parameters: [pathParam("vector_store_id")],
  body: {
    schema: "ReconcileRequest",
    required: false,
    description: "Optional: an empty body (or none, without Content-Type) starts at the beginning with the default page size.",
    example: { limit: 500 },
  },
  ok: {
    status: 200,
    description: "The page's findings; pass `next_cursor` as `cursor` for the next page.",
    schema: "ReconcileReport",
  },
  errors: [...ADMIN_AUTH, "VECTOR_STORE_NOT_FOUND", ...JSON_BODY, ...INTERNAL],
});

adminRoutes.post("/v1/admin/vector-stores/:vector_store_id/reconcile", describeReconcile, async (c) => {
  const id = c.req.param("vector_store_id");
  const store = await getVectorStore(c.env.DB, id);
  if (!store) throw Errors.storeNotFound(id);
  // An empty body means "from the start, default page size".
  const empty = (c.req.header("Content-Length") ?? "") === "0" || !c.req.header("Content-Type");
  const body = parse(ReconcileRequest, empty ? {} : await readJsonBody(c));
  const stub = storeObject(c.env, store.id);
  return c.json(await stub.reconcile(store, body.cursor ?? null, body.limit));
});
