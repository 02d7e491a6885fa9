import { z } from "zod";
import { JsonObject, Namespace, OrganizationId, RecordId, Timestamp, VectorStoreId } from "./common";

export const MAX_OPERATIONS = 5000;
/** Largest accepted record: the UTF-8 bytes of its JSON `data` plus `file`. */
export const MAX_RECORD_BYTES = 256 * 1024;

export const SyncMode = z.enum(["incremental", "full_refresh"], {
  error: "must be 'incremental' or 'full_refresh'",
});

/** The request envelope. Operations are validated one by one (SyncOperation) so one bad one fails alone. */
export const SyncRequestEnvelope = z.object({
  organization_id: OrganizationId,
  vector_store_id: VectorStoreId,
  sync_mode: SyncMode,
  sync_timestamp: Timestamp,
  operations: z.array(z.unknown(), { error: "must be an array of operations" }),
});
export type SyncRequestEnvelope = z.infer<typeof SyncRequestEnvelope>;

export const FileMetadata = z.object({
  file_url: z.string().max(2048).optional(),
  file_relative_path: z.string().max(1024).optional(),
  source_file_url: z.string().max(2048).optional(),
});

const nonEmptyData = JsonObject.refine((o) => Object.keys(o).length > 0, "must be a non-empty object");

export const UpsertOperation = z.object({
  action: z.literal("upsert"),
  id: RecordId,
  namespace: Namespace,
  data: nonEmptyData,
  file: FileMetadata.optional(),
  created_at: Timestamp.optional(),
  updated_at: Timestamp.optional(),
  source_system: z.string().max(64).optional(),
});

export const DeleteOperation = z.object({
  action: z.literal("delete"),
  id: RecordId,
  namespace: Namespace,
  updated_at: Timestamp.optional(),
});

export const SyncOperation = z.discriminatedUnion("action", [UpsertOperation, DeleteOperation], {
  error: "action must be 'upsert' or 'delete'",
});
export type SyncOperation = z.infer<typeof SyncOperation>;
export type UpsertOperation = z.infer<typeof UpsertOperation>;

/** The documented request body (OpenAPI): the envelope with its operations spelled out. */
export const SyncRequest = SyncRequestEnvelope.extend({ operations: z.array(SyncOperation).max(MAX_OPERATIONS) });

const Counts = z.object({
  upserted: z.number().int(),
  deleted: z.number().int(),
  unchanged: z.number().int(),
  failed: z.number().int(),
});
export type Counts = z.infer<typeof Counts>;

export const OperationError = z.object({
  index: z.number().int(),
  id: z.string().nullable(),
  namespace: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});
export type OperationError = z.infer<typeof OperationError>;

export const SyncResponse = z.object({
  status: z.enum(["success", "partial_success", "failed"]),
  sync_id: z.string(),
  processed: z.number().int(),
  results: Counts,
  by_namespace: z.record(z.string(), Counts),
  processing_time_ms: z.number().int(),
  errors: z.array(OperationError),
});
export type SyncResponse = z.infer<typeof SyncResponse>;
