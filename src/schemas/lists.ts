import { z } from "zod";
import { Counts } from "./sync";
import { VectorStoreId } from "./common";

const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be an integer 1-${max}` })
    .int(`must be an integer 1-${max}`)
    .min(1, `must be an integer 1-${max}`)
    .max(max, `must be an integer 1-${max}`)
    .default(fallback);
const cursor = z.string().max(2048).optional();

/** GET /v1/connectors/pipeline/syncs */
export const SyncListQuery = z.object({ vector_store_id: VectorStoreId.optional(), limit: limit(100, 20), cursor });

/** GET /v1/vector_stores/{id}/records/{namespace} */
export const RecordListQuery = z.object({ limit: limit(1000, 100), cursor });

export const SyncListResponse = z.object({
  syncs: z.array(
    z.object({
      sync_id: z.string(),
      vector_store_id: z.string(),
      sync_mode: z.string(),
      sync_timestamp: z.string(),
      status: z.string(),
      processed: z.number().int(),
      results: Counts,
      final: z.boolean().nullable(),
      created_at: z.string(),
    }),
  ),
  next_cursor: z.string().nullable(),
});

export const RecordListResponse = z.object({
  vector_store_id: z.string(),
  namespace: z.string(),
  records: z.array(
    z.object({
      id: z.string(),
      created_at: z.string().nullable(),
      updated_at: z.string().nullable(),
      synced_at: z.string(),
      sync_id: z.string(),
    }),
  ),
  next_cursor: z.string().nullable(),
});

export const RunResponse = z.object({
  vector_store_id: z.string(),
  sync_mode: z.literal("full_refresh"),
  sync_timestamp: z.string(),
  state: z.enum(["open", "completed", "superseded", "abandoned"]),
  parts: z.number().int(),
  results: Counts,
  namespaces: z.array(z.string()),
  blocked_namespaces: z.array(z.string()),
  started_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
  swept: z.number().int(),
  final_sync_id: z.string().nullable(),
});

export const NamespaceDeletionResponse = z.object({
  vector_store_id: z.string(),
  namespace: z.string(),
  records_deleted: z.number().int(),
  vectors_deleted: z.number().int(),
  remaining: z.number().int(),
  failed: z.number().int(),
});
