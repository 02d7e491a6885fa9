// The OpenAPI document but its paths: info, tags, the security schemes, shared parameters and
// headers, and the schemas, generated from the very zod schemas that validate requests and
// describe answers, so the two cannot drift apart. The paths come from the routes themselves
// (each describes itself next to its handler with describeOperation).
import { z } from "zod";
import { OPERATION_ERRORS } from "../../base/error-codes";
import { DeleteOperation, MAX_OPERATIONS, SyncRequest, SyncResponse, UpsertOperation } from "../../schemas/sync";
import { EMBEDDING_MODELS } from "../../vectors/embedder";
import {
  CreateApiKeyRequest,
  CreatedApiKey,
  CreateVectorStoreRequest,
  MoveStoreRequest,
  ReconcileRequest,
  VectorStore,
} from "../../schemas/admin";
import { NamespaceDeletionResponse, RecordListResponse, RunResponse, SyncListResponse } from "../../schemas/lists";
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

export function jsonSchema(schema: z.ZodType, io: "input" | "output") {
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
export type SchemaName = keyof typeof SCHEMAS;

/** A `$ref` to a component schema. */
export const ref = (name: SchemaName | "RootLinks") => ({ $ref: `#/components/schemas/${name}` });

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

/** The document but its paths: info, tags and components (the schemas from zod), for generateSpecs. */
export function documentation(options: DocumentOptions = {}) {
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
  };
}
