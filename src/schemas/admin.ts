import { z } from "zod";
import { OrganizationId, VectorStoreId } from "./common";

const FieldPaths = z
  .array(
    z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^.]+(\.[^.]+)*$/, "must be a dot path like 'assignee.name'"),
  )
  .min(1)
  .max(50);

export const CreateVectorStoreRequest = z.strictObject({
  organization_id: OrganizationId,
  name: z.string().min(1).max(200).optional(),
  id: VectorStoreId.optional(),
  /** Defaults to the service's EMBEDDING_MODEL; must produce the index's dimensions. */
  embedding_model: z.string().min(1).max(100).optional(),
  /** Dot paths of data whose values make the embedded text (default: every scalar leaf). */
  text_fields: FieldPaths.optional(),
  /** Dot paths of data copied into each vector's metadata (filterable in search). */
  metadata_fields: FieldPaths.optional(),
  /**
   * The Vectorize index for the store's vectors (0: VECTORIZE, n: VECTORIZE_n), e.g. an index of
   * its own kept out of automatic placement (DEDICATED_VECTOR_INDEXES). Default: the pool index
   * with the fewest stores.
   */
  index: z.number().int().min(0).max(9999).optional(),
});

export const VectorStore = z.object({
  id: z.string(),
  organization_id: z.string(),
  name: z.string(),
  created_at: z.string(),
  embedding_model: z.string(),
  dimensions: z.number().int(),
  text_fields: z.array(z.string()).nullable(),
  metadata_fields: z.array(z.string()).nullable(),
  ledger_shard: z.number().int().meta({ description: "The ledger shard (D1 database LEDGER_n) holding the store's records." }),
  index: z.number().int().meta({ description: "The Vectorize index holding its vectors (0: VECTORIZE, n: VECTORIZE_n)." }),
});

export const MoveStoreRequest = z.strictObject({
  /** The ledger shard to move the store to (a bound LEDGER_n). */
  ledger_shard: z.number().int().min(0).max(9999),
});

export const CreateApiKeyRequest = z.strictObject({
  organization_id: OrganizationId,
  vector_store_ids: z.array(VectorStoreId).min(1).max(100).optional(),
});

export const CreatedApiKey = z.object({
  key_id: z.string(),
  api_key: z.string().meta({ description: "The plaintext key. Shown once; only its SHA-256 is stored." }),
  organization_id: z.string(),
  vector_store_ids: z.array(z.string()).nullable(),
});

export const ReconcileRequest = z.strictObject({
  /** From the previous page's next_cursor; absent: start at the beginning. */
  cursor: z
    .string()
    .max(1024)
    .refine((c) => {
      try {
        const v = JSON.parse(c);
        return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "string");
      } catch {
        return false;
      }
    }, "must be a next_cursor returned by this endpoint")
    .optional(),
  limit: z.number().int().min(1).max(2000).default(500),
});
