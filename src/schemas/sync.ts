import { z } from "zod";
import { MAX_OPERATIONS } from "../base/json/sync-body";
import { JsonObject, Namespace, OrganizationId, RecordId, Timestamp, VectorStoreId } from "./common";

export { MAX_OPERATIONS };
/** Namespaces a request's `namespaces` list may name (a run may name at most MAX_RUN_NAMESPACES). */
export const MAX_NAMESPACES_PER_REQUEST = 1000;
export const MAX_RUN_NAMESPACES = 5000;
/** Largest accepted record: the UTF-8 bytes of its JSON `data` plus `file`. */
export const MAX_RECORD_BYTES = 256 * 1024;
/**
 * Largest operation as sent, in bytes of JSON text: four times a record, room for whitespace and
 * escapes (\uXXXX), and a vector. A larger one is refused unread, never parsed: parsed, a wide
 * array of zeros takes twice its text in heap, a wide object of short keys several times more.
 */
export const MAX_OPERATION_BYTES = 4 * MAX_RECORD_BYTES;
/** Most dimensions of a vector (Vectorize). */
export const MAX_VECTOR_DIMENSIONS = 1536;

export const SyncMode = z.enum(["incremental", "full_refresh"], {
  error: "must be 'incremental' or 'full_refresh'",
});

/** The request envelope. Operations are validated one by one (SyncOperation) so one bad one fails alone. */
export const SyncRequestEnvelope = z
  .strictObject({
    organization_id: OrganizationId,
    vector_store_id: VectorStoreId,
    sync_mode: SyncMode,
    sync_timestamp: Timestamp,
    operations: z.array(z.unknown(), { error: "must be an array of operations" }),
    /**
     * full_refresh only. false: a part of the run (vector store, sync_timestamp), which sweeps
     * nothing; true: the run's final request, which sweeps every namespace the run named. Absent: a
     * run of this one request (a full_refresh as before runs existed).
     */
    final: z.boolean({ error: "must be true or false" }).optional(),
    /** With "final": true only: namespaces the run empties too, though no part sent a record of them. */
    namespaces: z.array(Namespace).max(MAX_NAMESPACES_PER_REQUEST).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.final !== undefined && body.sync_mode !== "full_refresh") {
      ctx.addIssue({
        code: "custom",
        path: ["final"],
        message: "is only for sync_mode 'full_refresh' (an incremental sync has no run to end)",
      });
    }
    if (body.namespaces !== undefined && body.final !== true) {
      ctx.addIssue({
        code: "custom",
        path: ["namespaces"],
        message: 'is only for the final request of a full_refresh run ("final": true)',
      });
    }
  });
export type SyncRequestEnvelope = z.infer<typeof SyncRequestEnvelope>;

export const FileMetadata = z.object({
  file_url: z.string().max(2048).optional(),
  file_relative_path: z.string().max(1024).optional(),
  source_file_url: z.string().max(2048).optional(),
});

const nonEmptyData = JsonObject.refine((o) => Object.keys(o).length > 0, "must be a non-empty object");

const isMetadataValue = (v: unknown) =>
  typeof v === "string" ||
  typeof v === "boolean" ||
  (typeof v === "number" && Number.isFinite(v)) ||
  (Array.isArray(v) && v.every((item) => typeof item === "string"));

/** Extra vector metadata: scalars or string arrays (what Vectorize stores and filters on). */
export const VectorMetadata = JsonObject.refine(
  (o) => Object.values(o).every(isMetadataValue),
  "values must be strings, finite numbers, booleans or arrays of strings",
).meta({
  type: "object",
  additionalProperties: {
    anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }, { type: "array", items: { type: "string" } }],
  },
});

/**
 * At most 1536 dimensions (Vectorize); the exact count must equal the store's, checked per store.
 * Vectorize stores float32: a value past its range (e.g. 1e39) would become Infinity there and
 * fail the whole upsert batch, so it is refused here, on its own operation.
 */
export const OwnVector = z
  .array(
    z
      .number({ error: "must be finite numbers" })
      .refine((x) => Number.isFinite(Math.fround(x)), "must be finite numbers within float32 range (|x| < 3.4e38)"),
    { error: "must be an array of numbers" },
  )
  .min(1)
  .max(MAX_VECTOR_DIMENSIONS);

export const UpsertOperation = z.object({
  action: z.literal("upsert"),
  id: RecordId,
  namespace: Namespace,
  data: nonEmptyData,
  file: FileMetadata.optional(),
  created_at: Timestamp.optional(),
  updated_at: Timestamp.optional(),
  source_system: z.string().max(64).optional(),
  /** Embed this text instead of text derived from data. */
  text: z.string().optional(),
  /** Extra metadata stored with the record's vectors. */
  metadata: VectorMetadata.optional(),
  /** Bring your own embedding: stored as given (one vector), no embedding call. */
  vector: OwnVector.optional(),
});

export const DeleteOperation = z.object({
  action: z.literal("delete"),
  id: RecordId,
  namespace: Namespace,
  updated_at: Timestamp.optional(),
});

export const SyncOperation = z.discriminatedUnion("action", [UpsertOperation, DeleteOperation], {
  // zod types this issue as a union's, but a value that is not an object arrives as invalid_type.
  error: (issue) => ((issue.code as string) === "invalid_type" ? "must be a JSON object" : "must be 'upsert' or 'delete'"),
});
export type SyncOperation = z.infer<typeof SyncOperation>;
export type UpsertOperation = z.infer<typeof UpsertOperation>;

/** The documented request body (OpenAPI): the envelope with its operations spelled out. */
export const SyncRequest = SyncRequestEnvelope.safeExtend({ operations: z.array(SyncOperation).max(MAX_OPERATIONS) });

export const Counts = z.object({
  upserted: z.number().int(),
  deleted: z.number().int(),
  unchanged: z.number().int(),
  failed: z.number().int(),
  stale: z.number().int().meta({
    description:
      "Operations older than the stored version of their record (or than a full_refresh applied to its namespace since): not applied, so a late delivery never rolls data back.",
  }),
});
export type Counts = z.infer<typeof Counts>;

/** Counts as stored before `stale` existed (its operations were counted unchanged) read as today's. */
export function withStale(counts: Omit<Counts, "stale"> & { stale?: number }): Counts {
  return { ...counts, stale: counts.stale ?? 0 };
}

/** A stored sync answer (the syncs table, an Idempotency-Key's replay) with today's counts. */
export function storedSyncResponse(text: string): SyncResponse {
  const response = JSON.parse(text) as SyncResponse;
  response.results = withStale(response.results);
  response.by_namespace = Object.fromEntries(Object.entries(response.by_namespace).map(([ns, c]) => [ns, withStale(c)]));
  return response;
}

export const OperationError = z.object({
  /** The operation's position in the request; null for a record a full_refresh failed to sweep. */
  index: z.number().int().nullable(),
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
  /** The first 500 operation errors, in request order (sweep failures last). */
  errors: z.array(OperationError),
  /** How many more operation errors there were than `errors` lists. */
  errors_omitted: z.number().int().optional(),
  /** full_refresh only: the run this request belongs to. */
  run: z
    .object({
      sync_timestamp: z.string(),
      /** As sent; null when absent (a run of one request). */
      final: z.boolean().nullable(),
      state: z.enum(["open", "completed"]),
    })
    .optional(),
  /** A full_refresh's final (or only) request: what its sweep removed, left for later, or skipped. */
  sweep: z
    .object({
      deleted: z.number().int(),
      /** Records still to sweep: send the final request again (same sync_timestamp, no operations needed). */
      remaining: z.number().int(),
      /** Namespaces not swept because an operation of the run failed in them ("*": one failed whose namespace is unknown). */
      skipped_namespaces: z.array(z.string()),
      reason: z.string().optional(),
    })
    .optional(),
});
export type SyncResponse = z.infer<typeof SyncResponse>;
