import { z } from "zod";
import { ERROR_TYPES } from "../base/error-codes";
import { FileMetadata, SyncMode, SyncResponse } from "./sync";

// Answers of the routes whose bodies no other schema describes, and the error envelope: the
// OpenAPI document (openApiRoutes) is generated from them, and the OpenAPI tests check the
// served answers against them.

/** GET /health */
export const HealthResponse = z.object({ status: z.literal("ok") });

/** GET /v1/vector_stores/{vector_store_id}/namespaces */
export const NamespaceListResponse = z.object({
  vector_store_id: z.string(),
  namespaces: z
    .array(
      z.object({
        namespace: z.string(),
        /** Live records (tombstones not counted). */
        record_count: z.number().int(),
        /** Vectors the index holds for the namespace. */
        vector_count: z.number().int(),
        last_synced_at: z.string().nullable(),
      }),
    )
    .meta({ description: "In namespace order; a namespace stays listed (record_count 0) while it holds tombstones." }),
});

/** GET /v1/vector_stores/{vector_store_id}/records/{namespace}/{record_id} */
export const StoredRecordResponse = z.object({
  id: z.string(),
  namespace: z.string(),
  data: z.record(z.string(), z.unknown()).meta({ description: "The record's data exactly as last upserted." }),
  file: FileMetadata.nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  synced_at: z.string().meta({ description: "The sync_timestamp of the sync that last applied or confirmed the record." }),
  sync_id: z.string().meta({ description: "The sync that last wrote the record." }),
});

/** GET /v1/connectors/pipeline/syncs/{sync_id}: the stored SyncResponse and where it belongs. */
export const SyncStatusResponse = SyncResponse.extend({
  organization_id: z.string(),
  vector_store_id: z.string(),
  sync_mode: SyncMode,
  sync_timestamp: z.string(),
  created_at: z.string(),
  queryable: z.boolean().nullable().meta({
    description:
      "Whether Vectorize has applied every vector write of this sync, so searches see it; null when the index could not be asked.",
  }),
});

/** POST /v1/admin/vector-stores/{vector_store_id}/move: where a move of the store's ledger stands. */
export const MoveResponse = z.object({
  vector_store_id: z.string(),
  from: z.number().int().meta({ description: "The shard the store is moving from." }),
  to: z.number().int().meta({ description: "The shard it is moving to." }),
  phase: z.enum(["clear", "records", "tables", "switch", "cleanup", "done"]).meta({
    description: "Where the move stands: copying (clear, records, tables), switching, deleting the source's rows (cleanup), done.",
  }),
  cursor: z.array(z.string()).nullable(),
  records_copied: z.number().int(),
  syncs_copied: z.number().int(),
  runs_copied: z.number().int(),
  rows_deleted: z.number().int().meta({ description: "Rows of the store deleted from the source shard after the switch." }),
  done: z.boolean().meta({ description: "False: call again to go on." }),
});

export const ReconcileResponse = z.object({
  /** Records checked on this page. */
  checked: z.number().int(),
  /** Records missing at least one vector. */
  missing: z.number().int(),
  /** Records re-embedded and written again. */
  repaired: z.number().int(),
  /** Vectors found that the ledger says must not exist, deleted. */
  stale_deleted: z.number().int(),
  /** Records the page could not repair (retry later). */
  failed: z.number().int(),
  /** Records whose keyword index rows were not exactly their chunks (e.g. synced before the index existed), rewritten. */
  keywords_repaired: z.number().int(),
  next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null after the last page." }),
});

/** The `type` of every error the service answers (ErrorType). */
export const ErrorType = z.enum(ERROR_TYPES);

/** Every non-2xx answer (errorResponse). */
export const ErrorResponse = z.object({
  success: z.literal(false),
  error: z.object({
    code: z
      .string()
      .meta({ description: "Stable machine-readable code, e.g. VALIDATION_ERROR; each operation lists the codes it answers." }),
    message: z.string(),
    system_message: z.string(),
    type: ErrorType,
    status: z.number().int().meta({ description: "The HTTP status, repeated." }),
    trace_id: z.string().meta({ description: "Also the X-Request-Id response header; quote it to support." }),
    timestamp: z.string(),
    details: z.record(z.string(), z.unknown()).meta({
      description: "Code-specific detail, e.g. {fields: {path: [messages]}} for VALIDATION_ERROR.",
    }),
  }),
});
