import { z } from "zod";
import { isPlainObject, Namespace } from "./common";
import { OwnVector } from "./sync";

export const MAX_TOP_K = 50;
/** Most candidates a reranked search reorders (each side, vector and keyword, is asked for as many). */
export const MAX_CANDIDATES = 100;
export const DEFAULT_CANDIDATES = 50;
export const SEARCH_MODES = ["vector", "keyword", "hybrid"] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];
/** Most namespaces one search names. */
export const MAX_SEARCH_NAMESPACES = 20;

/** Vectorize's metadata-filter operators (developers.cloudflare.com/vectorize/reference/metadata-filtering). */
export const FILTER_OPERATORS = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin"] as const;
/** Vectorize refuses a filter whose compact JSON is 2048 bytes or more; the service adds `"vector_store_id":"vs_…"` (≤ 85 bytes). */
export const MAX_FILTER_BYTES = 1920;
/** Vectorize filters only on metadata indexes, at most 10 per index (one of them is vector_store_id). */
export const MAX_FILTER_FIELDS = 10;
/** Vectorize's longest filter key. */
export const MAX_FILTER_FIELD_LENGTH = 512;

const OPERATOR_LIST = `${FILTER_OPERATORS.slice(0, -1).join(", ")} or ${FILTER_OPERATORS.at(-1)}`;
const OPERATORS: ReadonlySet<string> = new Set(FILTER_OPERATORS);
const UPPER_BOUNDS: ReadonlySet<string> = new Set(["$lt", "$lte"]);
const LOWER_BOUNDS: ReadonlySet<string> = new Set(["$gt", "$gte"]);

type Scalar = string | number | boolean | null;
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
const isRangeOperand = (v: unknown) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** A key for messages: quoted JSON, cut short so a 512-character key does not fill the answer. */
const shown = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

function operandProblem(op: string, operand: unknown): string | null {
  if (op === "$eq" || op === "$ne") {
    return isScalar(operand) ? null : `${op} takes a string, number, boolean or null`;
  }
  if (op === "$in" || op === "$nin") {
    return Array.isArray(operand) && operand.length > 0 && operand.every(isScalar)
      ? null
      : `${op} takes a non-empty array of strings, numbers, booleans or nulls`;
  }
  return isRangeOperand(operand) ? null : `${op} takes a string or a number`;
}

/** Why one field's condition is not one Vectorize accepts, or null. Reads own keys only. */
function conditionProblems(condition: unknown): string[] {
  if (isScalar(condition)) return []; // implicit $eq
  if (Array.isArray(condition))
    return [`must be a string, number, boolean, null or {operator: value}; to match one of several values use {"$in": [...]}`];
  if (!isPlainObject(condition)) return [`must be a string, number, boolean, null or {operator: value}`];
  const entries = Object.entries(condition);
  if (entries.length === 0) return [`must name an operator: ${OPERATOR_LIST}`];
  const problems: string[] = [];
  for (const [op, operand] of entries) {
    if (!OPERATORS.has(op)) {
      problems.push(`unsupported operator ${shown(op)}: use ${OPERATOR_LIST}`);
      continue;
    }
    const problem = operandProblem(op, operand);
    if (problem) problems.push(problem);
  }
  if (problems.length === 0 && entries.length > 1) {
    const ops = entries.map(([op]) => op);
    const range = ops.length === 2 && ops.some((op) => UPPER_BOUNDS.has(op)) && ops.some((op) => LOWER_BOUNDS.has(op));
    if (!range) problems.push("operators combine only as one lower bound ($gt or $gte) with one upper bound ($lt or $lte)");
  }
  return problems;
}

/**
 * A Vectorize metadata filter, checked against what Vectorize accepts so a bad filter is a 400
 * here rather than an upstream failure: `{field: scalar}` (implicit $eq) or `{field: {$op: operand}}`.
 * The caller's object is kept as parsed (own keys such as `__proto__` included) and only ever read
 * through Object.entries: a key is a field name like any other.
 */
export const MetadataFilter = z
  .custom<VectorizeVectorMetadataFilter>(() => true)
  .superRefine((filter, ctx) => {
    const fail = (message: string, path: string[] = []) => ctx.addIssue({ code: "custom", message, path });
    if (!isPlainObject(filter)) {
      return fail(`must be a JSON object: {"field": value} or {"field": {"$op": value}}`);
    }
    const bytes = new TextEncoder().encode(JSON.stringify(filter)).byteLength;
    if (bytes > MAX_FILTER_BYTES) return fail(`must be at most ${MAX_FILTER_BYTES} bytes as compact JSON (is ${bytes})`);
    const entries = Object.entries(filter);
    if (entries.length > MAX_FILTER_FIELDS) return fail(`must name at most ${MAX_FILTER_FIELDS} fields (names ${entries.length})`);
    for (const [field, condition] of entries) {
      if (field.length === 0) fail("field names must not be empty");
      else if (field.length > MAX_FILTER_FIELD_LENGTH)
        fail(`field name ${shown(field)} is longer than ${MAX_FILTER_FIELD_LENGTH} characters`);
      else if (field.startsWith("$"))
        fail(`field name ${shown(field)} must not start with '$' (operators go inside a field: {"field": {"$eq": value}})`);
      else if (field.includes('"')) fail(`field name ${shown(field)} must not contain '"'`);
      else for (const problem of conditionProblems(condition)) fail(problem, [field]);
    }
  })
  .meta(filterJsonSchema());

/** The filter's rules above as JSON Schema (the OpenAPI document's), all but its size in bytes. */
function filterJsonSchema() {
  const scalar = { type: ["string", "number", "boolean", "null"] };
  const operand = (op: string) =>
    op === "$eq" || op === "$ne"
      ? scalar
      : op === "$in" || op === "$nin"
        ? { type: "array", items: scalar, minItems: 1 }
        : { type: ["string", "number"] };
  const oneOf = (ops: string[]) => ({ anyOf: ops.map((op) => ({ required: [op] })) });
  return {
    type: "object",
    description: `Vectorize metadata filter: {"field": value} (equals) or {"field": {"$op": value}} with $op one of ${OPERATOR_LIST}; two operators only as a lower bound ($gt or $gte) with an upper one ($lt or $lte). At most ${MAX_FILTER_FIELDS} fields and ${MAX_FILTER_BYTES} bytes as compact JSON.`,
    maxProperties: MAX_FILTER_FIELDS,
    propertyNames: { pattern: '^[^$"][^"]*$', maxLength: MAX_FILTER_FIELD_LENGTH },
    additionalProperties: {
      anyOf: [
        scalar,
        {
          type: "object",
          properties: Object.fromEntries(FILTER_OPERATORS.map((op) => [op, operand(op)])),
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 2,
          anyOf: [{ maxProperties: 1 }, { allOf: [oneOf([...LOWER_BOUNDS]), oneOf([...UPPER_BOUNDS])] }],
        },
      ],
    },
  };
}

export const SearchRequest = z
  .strictObject({
    query: z.string().min(1).max(8192).optional(),
    vector: OwnVector.optional(),
    namespace: z.union([Namespace, z.array(Namespace).min(1).max(MAX_SEARCH_NAMESPACES)]).optional(),
    top_k: z.number().int().min(1).max(MAX_TOP_K).default(10),
    /** A Vectorize metadata filter over the records' metadata fields, e.g. {"status": {"$eq": "open"}}. */
    filter: MetadataFilter.optional(),
    mode: z
      .enum(SEARCH_MODES)
      .optional()
      .describe(
        'How chunks are found: "vector" (nearest embeddings), "keyword" (BM25 over the words of the chunks), or "hybrid" (both, fused by relative score: each score divided by its ranking\'s best, summed). Default: "hybrid" for a text query, "vector" for a vector.',
      ),
    rerank: z
      .boolean()
      .optional()
      .describe(
        "Default false. Reorder the best `candidates` with a cross-encoder (Workers AI @cf/baai/bge-reranker-base); needs a text query.",
      ),
    candidates: z
      .number()
      .int()
      .min(1)
      .max(MAX_CANDIDATES)
      .optional()
      .describe(
        `Default ${DEFAULT_CANDIDATES}. With rerank: how many of the best chunks the reranker reorders (each of vector and keyword search is asked for as many).`,
      ),
  })
  .refine((r) => (r.query === undefined) !== (r.vector === undefined), {
    message: "give exactly one of 'query' (text) or 'vector'",
    path: ["query"],
  })
  .refine((r) => r.query !== undefined || r.mode === undefined || r.mode === "vector", {
    message: "keyword and hybrid search need a text 'query'",
    path: ["mode"],
  })
  .refine((r) => r.query !== undefined || !r.rerank, {
    message: "reranking needs a text 'query'",
    path: ["rerank"],
  });
export type SearchRequest = z.infer<typeof SearchRequest>;

/** A hit's score by each ranking that saw it; null where a ranking did not run or did not find it. */
export const SearchScores = z.object({
  vector: z.number().nullable().describe("Cosine similarity of the query's embedding (vector and hybrid search)."),
  keyword: z.number().nullable().describe("BM25 of the query's words, larger is better (keyword and hybrid search)."),
  fused: z.number().nullable().describe("Reciprocal rank fusion of the vector and keyword ranks (hybrid search)."),
  rerank: z.number().nullable().describe("The cross-encoder's relevance (rerank: true)."),
});

export const SearchResult = z.object({
  record_id: z.string(),
  namespace: z.string(),
  score: z
    .number()
    .describe("The score the results are ordered by: rerank when reranked, else fused (hybrid), vector or keyword (by mode)."),
  scores: SearchScores,
  chunk: z.number().int(),
  text: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});

export const SearchResponse = z.object({ results: z.array(SearchResult) });
