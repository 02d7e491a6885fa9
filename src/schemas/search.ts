import { z } from "zod";
import { JsonObject, Namespace } from "./common";
import { OwnVector } from "./sync";

export const MAX_TOP_K = 50;

export const SearchRequest = z.object({
  query: z.string().min(1).max(8192).optional(),
  vector: OwnVector.optional(),
  namespace: z.union([Namespace, z.array(Namespace).min(1).max(20)]).optional(),
  top_k: z.number().int().min(1).max(MAX_TOP_K).default(10),
  /** A Vectorize metadata filter over the records' metadata fields, e.g. {"status": {"$eq": "open"}}. */
  filter: JsonObject.optional(),
}).refine((r) => (r.query === undefined) !== (r.vector === undefined), {
  message: "give exactly one of 'query' (text) or 'vector'",
  path: ["query"],
});
export type SearchRequest = z.infer<typeof SearchRequest>;

export const SearchResult = z.object({
  record_id: z.string(),
  namespace: z.string(),
  score: z.number(),
  chunk: z.number().int(),
  text: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});

export const SearchResponse = z.object({ results: z.array(SearchResult) });
