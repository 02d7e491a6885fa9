// A vector store as the catalog holds it (the admin API's VectorStore) and where it is placed.
import type { z } from "zod";
import type { VectorStore as VectorStoreSchema } from "../schemas/admin";

export interface Placement {
  ledger_shard: number;
  index: number;
}

/** The ledger shard (LEDGER_n) holds its records, syncs and runs; index n is VECTORIZE_n (column vector_index). */
export type VectorStore = z.infer<typeof VectorStoreSchema>;
