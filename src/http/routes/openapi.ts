import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { OPERATION_ERRORS, REQUEST_ERRORS } from "../../base/error-codes";
import { DeleteOperation, SyncRequest, SyncResponse, MAX_OPERATIONS, UpsertOperation } from "../../schemas/sync";
import { TIMESTAMP_PATTERN } from "../../schemas/common";
import { EMBEDDING_MODELS } from "../../vectors/embedder";
import {
  CreateApiKeyRequest,
  CreatedApiKey,
  CreateVectorStoreRequest,
  MoveStoreRequest,
  ReconcileRequest,
  VectorStore,
} from "../../schemas/admin";
import {
  NamespaceDeletionResponse,
  RecordListQuery,
  RecordListResponse,
  RunResponse,
  SyncListQuery,
  SyncListResponse,
} from "../../schemas/lists";
import { SearchRequest, SearchResponse } from "../../schemas/search";
import {
  ErrorResponse,
  HealthResponse,
  NamespaceListResponse,
  ReconcileResponse,
  MoveResponse,
  StoredRecordResponse,
  SyncStatusResponse,
} from "../../schemas/responses";

// The OpenAPI 3.1 document of every route the service serves (test/openapi.test.ts compares it
// with the app's routes). Its schemas are generated from the very zod schemas that validate
// requests and describe answers, so the two cannot drift apart. Every operation lists each error
// status it can answer with the codes of that status, as an enum on `error.code`.

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return json;
}

/** Component name -> [zod schema, which side of it the document shows]. */
export const SCHEMAS = {
  SyncRequest: [SyncRequest, "input"],
  UpsertOperation: [UpsertOperation, "input"],
  DeleteOperation: [DeleteOperation, "input"],
  SyncResponse: [SyncResponse, "output"],
  SyncStatus: [SyncStatusResponse, "output"],
  SyncList: [SyncListResponse, "output"],
  Run: [RunResponse, "output"],
  VectorStore: [VectorStore, "output"],
  NamespaceList: [NamespaceListResponse, "output"],
  NamespaceDeletion: [NamespaceDeletionResponse, "output"],
  StoredRecord: [StoredRecordResponse, "output"],
  RecordList: [RecordListResponse, "output"],
  SearchRequest: [SearchRequest, "input"],
  SearchResponse: [SearchResponse, "output"],
  CreateVectorStoreRequest: [CreateVectorStoreRequest, "input"],
  CreateApiKeyRequest: [CreateApiKeyRequest, "input"],
  CreatedApiKey: [CreatedApiKey, "output"],
  ReconcileRequest: [ReconcileRequest, "input"],
  ReconcileReport: [ReconcileResponse, "output"],
  MoveStoreRequest: [MoveStoreRequest, "input"],
  MoveReport: [MoveResponse, "output"],
  Health: [HealthResponse, "output"],
  Error: [ErrorResponse, "output"],
} as const satisfies Record<string, readonly [z.ZodType, "input" | "output"]>;
type SchemaName = keyof typeof SCHEMAS;

// ---------------------------------------------------------------------------------------------
// Errors: what each code means, and which codes each status of each operation can carry.

/** The codes an operation documents: every request error but NOT_FOUND, which answers no operation's path. */
type ErrorCode = Exclude<keyof typeof REQUEST_ERRORS, "NOT_FOUND">;

const STATUS_TEXT = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
  429: "Too many requests",
  500: "Internal error",
  503: "Service unavailable",
} as const;
type ErrorStatus = keyof typeof STATUS_TEXT;

type ErrorSpec = Partial<Record<ErrorStatus, readonly ErrorCode[]>>;

function errorsOf(...specs: ErrorSpec[]): ErrorSpec {
  const merged: ErrorSpec = {};
  for (const spec of specs) {
    for (const [status, codes] of Object.entries(spec) as [`${ErrorStatus}`, ErrorCode[]][]) {
      const s = Number(status) as ErrorStatus;
      merged[s] = [...new Set([...(merged[s] ?? []), ...codes])];
    }
  }
  return merged;
}

const KEY_AUTH: ErrorSpec = { 401: ["AUTHENTICATION_REQUIRED", "INVALID_API_KEY"] };
const ADMIN_AUTH: ErrorSpec = { 401: ["AUTHENTICATION_REQUIRED"] };
const STORE_ACCESS: ErrorSpec = { 403: ["INSUFFICIENT_PERMISSIONS"], 404: ["VECTOR_STORE_NOT_FOUND"] };
const JSON_BODY: ErrorSpec = {
  400: ["INVALID_JSON", "JSON_TOO_DEEP", "JSON_TOO_COMPLEX", "VALIDATION_ERROR"],
  413: ["PAYLOAD_TOO_LARGE"],
  415: ["UNSUPPORTED_MEDIA_TYPE"],
};
const QUERY: ErrorSpec = { 400: ["VALIDATION_ERROR"] };
const INTERNAL: ErrorSpec = { 500: ["INTERNAL_ERROR"] };

const ref = (name: SchemaName | "RootLinks") => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { "application/json": { schema } } });
const headerRef = (name: "X-Request-Id" | "Retry-After" | "Idempotent-Replayed" | "X-D1-Bookmark") => ({
  $ref: `#/components/headers/${name}`,
});

function errorResponses(spec: ErrorSpec) {
  const statuses = (Object.keys(spec).map(Number) as ErrorStatus[]).sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const codes = spec[status]!;
      const retry = codes.filter((c) => "retryAfter" in REQUEST_ERRORS[c]);
      const types = [...new Set(codes.map((c) => REQUEST_ERRORS[c].type))];
      const retryNote = retry.length === codes.length ? "" : ` (with ${retry.join(", ")})`;
      return [
        String(status),
        {
          description: `${STATUS_TEXT[status]}. \`error.code\` is one of:\n\n${codes.map((c) => `- \`${c}\`: ${REQUEST_ERRORS[c].description}`).join("\n")}`,
          headers: {
            "X-Request-Id": headerRef("X-Request-Id"),
            ...(status === 401 ? { "WWW-Authenticate": { $ref: "#/components/headers/WWW-Authenticate" } } : {}),
            ...(retry.length > 0
              ? {
                  "Retry-After": retryNote
                    ? { ...headerRef("Retry-After"), description: `Seconds to wait before retrying; sent${retryNote}.` }
                    : headerRef("Retry-After"),
                }
              : {}),
          },
          ...json({
            allOf: [
              ref("Error"),
              {
                type: "object",
                properties: {
                  error: {
                    type: "object",
                    properties: {
                      code: { type: "string", enum: [...codes] },
                      type: types.length === 1 ? { const: types[0] } : { enum: types },
                      status: { const: status },
                    },
                  },
                },
              },
            ],
          }),
        },
      ];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Parameters and operations.

const API_KEY = [{ ApiKey: [] }, { ApiKeyBearer: [] }];
const ADMIN = [{ AdminToken: [] }];

const PATH_PARAMS = {
  vector_store_id: "The vector store's id (`vs_...`).",
  sync_id: "The `sync_id` a sync answered (`sync_` + 24 hex).",
  sync_timestamp: "The run's sync_timestamp, ISO 8601, URL-encoded (`:` as `%3A`); any spelling of the same instant finds it.",
  namespace: "The namespace, URL-encoded.",
  record_id: "The record's id, URL-encoded (ids may hold `/`, spaces or any Unicode).",
  key_id: "The `key_id` the key was created with.",
} as const;
/** Examples that work as they are against `npm run dev` (its seeded store and the README's first sync). */
const PATH_EXAMPLES: Partial<Record<keyof typeof PATH_PARAMS, string>> = {
  vector_store_id: "vs_demo",
  sync_timestamp: "2026-01-15T10:00:00Z",
  namespace: "clickup_tasks",
  record_id: "task_123",
};
const pathParam = (name: keyof typeof PATH_PARAMS) => ({
  name,
  in: "path",
  required: true,
  description: PATH_PARAMS[name],
  schema: name === "sync_timestamp" ? { type: "string", pattern: TIMESTAMP_PATTERN } : { type: "string" },
  ...(PATH_EXAMPLES[name] ? { example: PATH_EXAMPLES[name] } : {}),
});

const QUERY_DESCRIPTIONS: Record<string, string> = {
  vector_store_id: "Only this store's syncs.",
  limit: "Page size.",
  cursor: "The `next_cursor` of the previous page; absent: the first page.",
};
/** Query parameters from the zod schema the route parses them with. */
function queryParams(schema: z.ZodObject) {
  const { properties = {}, required = [] } = jsonSchema(schema, "input") as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: "query",
    required: required.includes(name),
    description: QUERY_DESCRIPTIONS[name],
    schema: s,
  }));
}

interface Operation {
  operationId: string;
  tag: "Sync" | "Vector stores" | "Admin" | "Service";
  summary: string;
  description?: string;
  security?: object[];
  parameters?: object[];
  body?: { schema: SchemaName; required: boolean; description?: string; example?: unknown };
  ok: {
    status: 200 | 201 | 204;
    description: string;
    schema?: SchemaName | "RootLinks";
    /** Instead of `schema`: the answer's content by media type. */
    content?: Record<string, object>;
    headers?: Record<string, object>;
  };
  errors: ErrorSpec;
}

function operation(o: Operation) {
  return {
    operationId: o.operationId,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    security: o.security ?? [],
    ...(o.parameters ? { parameters: o.parameters } : {}),
    ...(o.body
      ? {
          requestBody: {
            required: o.body.required,
            ...(o.body.description ? { description: o.body.description } : {}),
            content: { "application/json": { schema: ref(o.body.schema), ...(o.body.example ? { example: o.body.example } : {}) } },
          },
        }
      : {}),
    responses: {
      [String(o.ok.status)]: {
        description: o.ok.description,
        headers: { "X-Request-Id": headerRef("X-Request-Id"), ...o.ok.headers },
        ...(o.ok.schema ? json(ref(o.ok.schema)) : {}),
        ...(o.ok.content ? { content: o.ok.content } : {}),
      },
      ...errorResponses(o.errors),
    },
  };
}

const SYNC_DESCRIPTION = `Applies a batch of at most ${MAX_OPERATIONS} operations to one vector store.

- **incremental**: the upserts and deletes given. An operation older than the stored record's version is stale: ignored and counted \`stale\`; an upsert whose content did not change is counted \`unchanged\`.
- **full_refresh**: the namespaces named become exactly what was sent: records not sent are deleted (the *sweep*). A refresh larger than one request is a **run**: parts with \`"final": false\` (nothing swept), then \`"final": true\` (sweeps every namespace the run named, plus \`namespaces\`). Send the final again while \`sweep.remaining > 0\`.

The envelope (every field but \`operations\`) is checked whole: a bad or unknown field is a 400 and nothing applies. Each operation is checked on its own: one that is not a valid upsert or delete (any JSON value is accepted in \`operations\`) or that fails downstream (embedding, index) is listed in \`errors\` with its \`code\` and counted \`failed\`; the others apply (\`partial_success\`; \`failed\` when none applied: still a 200). The answer is stored and served by \`GET /v1/connectors/pipeline/syncs/{sync_id}\`.

An \`Idempotency-Key\` makes retries safe: the same key and body answer the stored result (\`Idempotent-Replayed: true\`) without applying anything again.`;

const syncOperation = (operationId: string, summary: string) =>
  operation({
    operationId,
    tag: "Sync",
    summary,
    description: SYNC_DESCRIPTION,
    security: API_KEY,
    parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }, { $ref: "#/components/parameters/ContentEncoding" }],
    body: {
      schema: "SyncRequest",
      required: true,
      example: {
        organization_id: "org_abc123",
        vector_store_id: "vs_demo",
        sync_mode: "incremental",
        sync_timestamp: "2026-01-15T10:00:00Z",
        operations: [
          { action: "upsert", id: "task_123", namespace: "clickup_tasks", data: { name: "Implement new feature", status: "in_progress" } },
          { action: "delete", id: "task_99", namespace: "clickup_tasks" },
        ],
      },
    },
    ok: {
      status: 200,
      description: "The sync's result (also when some or all operations failed: see `status` and `errors`).",
      schema: "SyncResponse",
      headers: { "Idempotent-Replayed": headerRef("Idempotent-Replayed"), "X-D1-Bookmark": headerRef("X-D1-Bookmark") },
    },
    errors: errorsOf(
      KEY_AUTH,
      { 429: ["RATE_LIMIT_EXCEEDED"] },
      JSON_BODY,
      { 400: ["BATCH_SIZE_EXCEEDED"] },
      STORE_ACCESS,
      {
        409: ["STALE_SYNC", "RUN_COMPLETED", "IDEMPOTENCY_KEY_IN_PROGRESS"],
        422: ["IDEMPOTENCY_KEY_REUSED"],
        503: ["UPSTREAM_UNAVAILABLE", "STORE_MOVING"],
      },
      INTERNAL,
    ),
  });

const INFO_DESCRIPTION = `One endpoint that data pipelines push batches of records to. It keeps a ledger of every record, embeds records with Workers AI and keeps a Vectorize index in step with the ledger.

**Authentication.** Pipeline routes take an API key as \`X-API-Key: <key>\` or \`Authorization: Bearer <key>\`. Admin routes take \`Authorization: Bearer <ADMIN_TOKEN>\`.

**Requests.** JSON bodies are strict: a field the schema does not name is a 400 VALIDATION_ERROR (a sync's operations excepted, see the sync operation). A sync body may be sent compressed (\`Content-Encoding: gzip\` or \`deflate\`).

**Errors.** Every non-2xx answer is \`{"success": false, "error": {code, message, system_message, type, status, trace_id, timestamp, details}}\`; each operation lists its statuses and the codes each can carry. Every answer has an \`X-Request-Id\` header equal to the error's \`trace_id\`. 429 and 503 answers (and 409 \`IDEMPOTENCY_KEY_IN_PROGRESS\`) carry \`Retry-After\` in seconds; a 401 carries \`WWW-Authenticate\`. A path no route serves is a 404 \`NOT_FOUND\` whose \`details\` name the closest route (\`closest_route\`, e.g. \`"POST /v1/connectors/pipeline/sync"\`, or null) and \`docs\` (\`/docs\`).

**Limits.** ${MAX_OPERATIONS} operations and 20 MiB per sync request (inflated, when sent with \`Content-Encoding: gzip\` or \`deflate\`), 1 MiB per operation's JSON, 256 KiB per search or admin body; 100 sync requests and 300 searches per minute per organization.`;

/** A generated JSON Schema, edited by path (its shape is zod's output, known only at run time). */
// biome-ignore lint/suspicious/noExplicitAny: walked by property paths that zod's output is known to have
type JsonSchema = Record<string, any>;

export interface DocumentOptions {
  /** The deployment's EMBEDDING_DIMENSIONS: only models of those dimensions are accepted. Absent: every known model. */
  embeddingDimensions?: number;
}

/**
 * What the zod schemas check in code (refinements) said in JSON Schema, so that the document
 * refuses what the server refuses and accepts what it accepts.
 */
function refineSchemas(schemas: Record<SchemaName, JsonSchema>, options: DocumentOptions) {
  const sync = schemas.SyncRequest;
  // Each operation is checked alone (a bad one fails alone, listed in errors): the array takes any
  // value. The clients' types keep the two valid shapes (npm run client:generate drops the
  // third branch, marked x-fails-alone).
  const valid = [ref("UpsertOperation"), ref("DeleteOperation")];
  sync.properties.operations.items = {
    description:
      "An upsert or a delete. Any other value is accepted here and fails alone: it is listed in the answer's `errors` (code INVALID_OPERATION or INVALID_VECTOR) while the other operations apply.",
    anyOf: [
      ...valid,
      {
        // `type` names every JSON type: generators act on typed schemas only (openapi-typescript's transform).
        type: ["object", "array", "string", "number", "boolean", "null"],
        not: { anyOf: valid },
        "x-fails-alone": true,
        description: "Not a valid operation: accepted, and fails alone.",
      },
    ],
  };
  sync.allOf = [
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
    { if: { required: ["final"] }, then: { properties: { sync_mode: { const: "full_refresh" } } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
    { if: { required: ["namespaces"] }, then: { required: ["final"], properties: { final: { const: true } } } },
  ];
  sync.properties.final.description =
    "full_refresh only. false: a part of a run (sweeps nothing); true: the run's final request (sweeps every namespace the run named). Absent: a run of this one request.";
  sync.properties.namespaces.description = 'With "final": true only: namespaces the run empties too, though no part sent a record of them.';

  const search = schemas.SearchRequest;
  search.oneOf = [{ required: ["query"] }, { required: ["vector"] }];
  search.description = "Exactly one of `query` (text, embedded with the store's model) or `vector`.";

  const models = [...EMBEDDING_MODELS]
    .filter(([, d]) => options.embeddingDimensions === undefined || d === options.embeddingDimensions)
    .map(([m]) => m);
  const model = schemas.CreateVectorStoreRequest.properties.embedding_model;
  delete model.minLength;
  delete model.maxLength;
  model.enum = models;
  model.description = "Default: the service's EMBEDDING_MODEL. One of the models whose dimensions are the vector index's.";

  const code = schemas.SyncResponse.properties.errors.items.properties.code;
  code.enum = Object.keys(OPERATION_ERRORS);
  code.description = `Why the operation failed:\n\n${Object.entries(OPERATION_ERRORS)
    .map(([c, why]) => `- \`${c}\`: ${why}`)
    .join("\n")}`;
}

const ROOT_PAGES = {
  "/openapi.json": {
    get: operation({
      operationId: "openapi",
      tag: "Service",
      summary: "This OpenAPI 3.1 document",
      ok: { status: 200, description: "The document.", content: { "application/json": { schema: { type: "object" } } } },
      errors: {},
    }),
  },
  "/docs": {
    get: operation({
      operationId: "docs",
      tag: "Service",
      summary: "The API reference (Swagger UI over /openapi.json)",
      ok: { status: 200, description: "An HTML page.", content: { "text/html": { schema: { type: "string" } } } },
      errors: {},
    }),
  },
  "/": {
    get: operation({
      operationId: "root",
      tag: "Service",
      summary: "Links to /docs, /openapi.json and /health",
      description: "HTML when `Accept` names text/html (browsers), JSON otherwise.",
      ok: {
        status: 200,
        description: "The links.",
        content: { "application/json": { schema: ref("RootLinks") }, "text/html": { schema: { type: "string" } } },
      },
      errors: {},
    }),
  },
};

export function buildOpenApiDocument(options: DocumentOptions = {}) {
  const schemas = Object.fromEntries(Object.entries(SCHEMAS).map(([name, [schema, io]]) => [name, jsonSchema(schema, io)])) as Record<
    SchemaName | "RootLinks",
    JsonSchema
  >;
  refineSchemas(schemas, options);
  schemas.RootLinks = {
    type: "object",
    properties: {
      name: { type: "string" },
      docs: { const: "/docs" },
      openapi: { const: "/openapi.json" },
      health: { const: "/health" },
    },
    required: ["name", "docs", "openapi", "health"],
    additionalProperties: false,
  };
  return {
    openapi: "3.1.0",
    info: { title: "Unified sync endpoint for pipeline data", version: "1.0.0", description: INFO_DESCRIPTION },
    servers: [{ url: "/", description: "The server that serves this document." }],
    tags: [
      { name: "Sync", description: "Push records; read syncs and full_refresh runs." },
      { name: "Vector stores", description: "Read stores, namespaces and records; search; delete a namespace." },
      { name: "Admin", description: "Create stores and API keys, revoke keys, reconcile the index (admin token)." },
      { name: "Service", description: "Liveness, this document and its reference page." },
    ],
    components: {
      securitySchemes: {
        // Swagger UI's Authorize dialog shows one box per scheme: each says which key goes in it.
        ApiKey: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          description:
            "**Paste your API key here** (`usk_...`) for every route but `/v1/admin/...`. With `npm run dev`, the development key is `DEV_API_KEY` in `.dev.vars` (the README's curl example uses it).",
        },
        ApiKeyBearer: {
          type: "http",
          scheme: "bearer",
          description: "The same API key sent as `Authorization: Bearer <key>` instead: leave this empty when the box above is filled.",
        },
        AdminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "Admin routes (`/v1/admin/...`) only: the `ADMIN_TOKEN` Worker secret (`ADMIN_TOKEN` in `.dev.vars` with `npm run dev`), not an API key.",
        },
      },
      parameters: {
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "1-255 visible ASCII characters, unique per organization. A retry with the same key and body answers the stored result without applying it again; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED. Sent again to the same store while the first request runs, it waits for it and replays its answer; to another store of the organization meanwhile, 409 IDEMPOTENCY_KEY_IN_PROGRESS.",
          schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
        },
        ContentEncoding: {
          name: "Content-Encoding",
          in: "header",
          required: false,
          description:
            "A compressed body: `gzip` or `deflate` (zlib). The 20 MiB limit applies to the inflated bytes, checked while inflating. Any other encoding: 415 UNSUPPORTED_MEDIA_TYPE.",
          schema: { type: "string", enum: ["gzip", "deflate", "identity"] },
        },
        D1Bookmark: {
          name: "X-D1-Bookmark",
          in: "header",
          required: false,
          description:
            "A sync's `X-D1-Bookmark` answer header: this read then sees that sync's writes (reads otherwise come from a nearby D1 replica, which may lag by a moment). Malformed: 400 VALIDATION_ERROR.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]{0,3}):[\\x21-\\x7e]{1,200}$" },
        },
      },
      headers: {
        "X-Request-Id": {
          description: "The request's trace id (`req_...`), equal to `error.trace_id` on errors.",
          schema: { type: "string" },
        },
        "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer", minimum: 0 } },
        "WWW-Authenticate": {
          description:
            'The credentials the route takes: `Bearer realm="unified-sync", X-API-Key realm="unified-sync"` (API key routes) or `Bearer realm="unified-sync admin"` (admin routes).',
          schema: { type: "string" },
        },
        "X-D1-Bookmark": {
          description:
            "The ledger shard's D1 bookmark after this sync's commit (`<shard>:<bookmark>`). Send it back as the `X-D1-Bookmark` request header on reads of status, records or search to read your own writes.",
          schema: { type: "string" },
        },
        "Idempotent-Replayed": {
          description:
            "`true` when the answer is the stored result of an earlier request with the same Idempotency-Key and body (nothing was applied again); absent otherwise.",
          schema: { type: "string", enum: ["true"] },
        },
      },
      schemas,
    },
    paths: {
      "/v1/connectors/pipeline/sync": {
        post: syncOperation("sync", "Apply a batch of upserts and deletes (incremental) or refresh namespaces (full_refresh)"),
      },
      "/v1/pipeline/sync": {
        post: syncOperation("syncAlias", "The same as POST /v1/connectors/pipeline/sync (the contract names both paths)"),
      },
      "/v1/connectors/pipeline/syncs/{sync_id}": {
        get: operation({
          operationId: "getSync",
          tag: "Sync",
          summary: "A sync's stored result, with whether searches see it yet",
          security: API_KEY,
          parameters: [pathParam("sync_id"), { $ref: "#/components/parameters/D1Bookmark" }],
          ok: { status: 200, description: "The stored SyncResponse plus where it belongs and `queryable`.", schema: "SyncStatus" },
          errors: errorsOf(QUERY, KEY_AUTH, { 404: ["SYNC_NOT_FOUND"] }, INTERNAL),
        }),
      },
      "/v1/connectors/pipeline/syncs": {
        get: operation({
          operationId: "listSyncs",
          tag: "Sync",
          summary: "The key's syncs, newest first",
          security: API_KEY,
          parameters: [...queryParams(SyncListQuery), { $ref: "#/components/parameters/D1Bookmark" }],
          ok: { status: 200, description: "A page of syncs.", schema: "SyncList" },
          errors: errorsOf(QUERY, KEY_AUTH, STORE_ACCESS, INTERNAL),
        }),
      },
      "/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}": {
        get: operation({
          operationId: "getRun",
          tag: "Sync",
          summary: "A full_refresh run: its parts, summed results and state",
          security: API_KEY,
          parameters: [pathParam("vector_store_id"), pathParam("sync_timestamp"), { $ref: "#/components/parameters/D1Bookmark" }],
          ok: { status: 200, description: "The run.", schema: "Run" },
          errors: errorsOf(QUERY, KEY_AUTH, STORE_ACCESS, { 404: ["RUN_NOT_FOUND"] }, INTERNAL),
        }),
      },
      "/v1/vector_stores/{vector_store_id}": {
        get: operation({
          operationId: "getVectorStore",
          tag: "Vector stores",
          summary: "A vector store",
          security: API_KEY,
          parameters: [pathParam("vector_store_id")],
          ok: { status: 200, description: "The store.", schema: "VectorStore" },
          errors: errorsOf(KEY_AUTH, STORE_ACCESS, INTERNAL),
        }),
      },
      "/v1/vector_stores/{vector_store_id}/namespaces": {
        get: operation({
          operationId: "listNamespaces",
          tag: "Vector stores",
          summary: "A store's namespaces with record and vector counts",
          security: API_KEY,
          parameters: [pathParam("vector_store_id"), { $ref: "#/components/parameters/D1Bookmark" }],
          ok: { status: 200, description: "The namespaces.", schema: "NamespaceList" },
          errors: errorsOf(QUERY, KEY_AUTH, STORE_ACCESS, INTERNAL),
        }),
      },
      "/v1/vector_stores/{vector_store_id}/namespaces/{namespace}": {
        delete: operation({
          operationId: "deleteNamespace",
          tag: "Vector stores",
          summary: "Remove a namespace (10,000 records a call; repeat while remaining > 0)",
          security: API_KEY,
          parameters: [pathParam("vector_store_id"), pathParam("namespace")],
          ok: { status: 200, description: "What this call removed, and how many records remain.", schema: "NamespaceDeletion" },
          errors: errorsOf(
            KEY_AUTH,
            STORE_ACCESS,
            { 404: ["NAMESPACE_NOT_FOUND"], 503: ["UPSTREAM_UNAVAILABLE", "STORE_MOVING"] },
            INTERNAL,
          ),
        }),
      },
      "/v1/vector_stores/{vector_store_id}/records/{namespace}": {
        get: operation({
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
          errors: errorsOf(QUERY, KEY_AUTH, STORE_ACCESS, INTERNAL),
        }),
      },
      "/v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id}": {
        get: operation({
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
          errors: errorsOf(QUERY, KEY_AUTH, STORE_ACCESS, { 404: ["RECORD_NOT_FOUND"] }, INTERNAL),
        }),
      },
      "/v1/vector_stores/{vector_store_id}/search": {
        post: operation({
          operationId: "search",
          tag: "Vector stores",
          summary: "Search a store by text or by vector",
          security: API_KEY,
          parameters: [pathParam("vector_store_id"), { $ref: "#/components/parameters/D1Bookmark" }],
          body: { schema: "SearchRequest", required: true, example: { query: "new feature", namespace: "clickup_tasks", top_k: 5 } },
          ok: { status: 200, description: "Matches, best first.", schema: "SearchResponse" },
          errors: errorsOf(
            KEY_AUTH,
            { 429: ["RATE_LIMIT_EXCEEDED"] },
            STORE_ACCESS,
            JSON_BODY,
            { 503: ["UPSTREAM_UNAVAILABLE"] },
            INTERNAL,
          ),
        }),
      },
      "/v1/admin/vector-stores": {
        post: operation({
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
          errors: errorsOf(ADMIN_AUTH, JSON_BODY, { 409: ["VECTOR_STORE_EXISTS"] }, INTERNAL),
        }),
      },
      "/v1/admin/api-keys": {
        post: operation({
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
          errors: errorsOf(ADMIN_AUTH, JSON_BODY, INTERNAL),
        }),
      },
      "/v1/admin/api-keys/{key_id}": {
        delete: operation({
          operationId: "revokeApiKey",
          tag: "Admin",
          summary: "Revoke an API key (it stops working at once)",
          security: ADMIN,
          parameters: [pathParam("key_id")],
          ok: { status: 204, description: "Revoked." },
          errors: errorsOf(ADMIN_AUTH, { 404: ["API_KEY_NOT_FOUND"] }, INTERNAL),
        }),
      },
      "/v1/admin/vector-stores/{vector_store_id}/reconcile": {
        post: operation({
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
          errors: errorsOf(ADMIN_AUTH, { 404: ["VECTOR_STORE_NOT_FOUND"] }, JSON_BODY, INTERNAL),
        }),
      },
      "/v1/admin/vector-stores/{vector_store_id}/move": {
        post: operation({
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
          errors: errorsOf(ADMIN_AUTH, { 404: ["VECTOR_STORE_NOT_FOUND"], 409: ["MOVE_CONFLICT"] }, JSON_BODY, INTERNAL),
        }),
      },
      "/health": {
        get: operation({
          operationId: "health",
          tag: "Service",
          summary: "Liveness (no authentication)",
          ok: { status: 200, description: "The Worker is up.", schema: "Health" },
          errors: {},
        }),
      },
      ...ROOT_PAGES,
    },
  };
}

export const openApiRoutes = new Hono<AppEnv>();
openApiRoutes.get("/openapi.json", (c) => {
  const dimensions = Number(c.env?.EMBEDDING_DIMENSIONS);
  return c.json(buildOpenApiDocument(Number.isInteger(dimensions) ? { embeddingDimensions: dimensions } : {}));
});
