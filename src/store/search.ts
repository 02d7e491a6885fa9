import type { D1Reader } from "../db/sessions";
import { loadLiveRecords } from "../db/ledger";
import { ApiError, Errors } from "../base/errors";
import type { SearchRequest } from "../schemas/search";
import { embedTexts } from "../vectors/embedder";
import { TEXT_HASH_KEY } from "../vectors/chunk-hashes";
import { vectorNamespace } from "../vectors/ids";
import { getVectors, MAX_IDS_PER_GET } from "../vectors/index-writer";
import { flattenPaths } from "../vectors/metadata-paths";
import { recordChunks, recordText, type VectorDeps } from "../vectors/vector-sync";
import type { VectorStore } from "../model/store";

const SERVICE_KEYS = new Set(["organization_id", "vector_store_id", "namespace", "record_id", "chunk"]);

/** Longest list of filterable fields named in a 400 (a store has at most 50 metadata_fields). */
const MAX_NAMED_FIELDS = 60;

/**
 * The fields a search of this store may filter on: its `metadata_fields` and the service's own
 * keys. Any other key is in no metadata index the service asks for, so Vectorize would answer
 * nothing, silently: refused here instead, naming what can be filtered.
 */
export function filterableFields(store: VectorStore): string[] {
  return [...new Set([...(store.metadata_fields ?? []), ...SERVICE_KEYS])];
}

function checkFilterFields(store: VectorStore, filter: VectorizeVectorMetadataFilter | undefined): void {
  if (!filter) return;
  const allowed = filterableFields(store);
  const known = new Set(allowed);
  const unknown = Object.keys(filter).filter((field) => !known.has(field));
  if (unknown.length === 0) return;
  const shown = allowed.slice(0, MAX_NAMED_FIELDS).map((f) => JSON.stringify(f));
  const reason = `is not a field this store can filter on; filterable: ${shown.join(", ")} (the store's metadata_fields and the service's keys)`;
  const err = Errors.validation(Object.fromEntries(unknown.map((field) => [`filter.${field}`, [reason]])));
  throw new ApiError(err.status, err.code, err.message, err.type, { ...err.details, filterable_fields: allowed });
}

interface Hit {
  id: string;
  score: number;
  metadata?: Record<string, unknown>;
}

function upstreamUnavailable(what: string): ApiError {
  return new ApiError(
    503,
    "UPSTREAM_UNAVAILABLE",
    `The ${what} is unavailable. Retry the search.`,
    "api_error",
    {},
    `Upstream ${what} failure`,
    { "Retry-After": "5" },
  );
}

/** The matches best first, each vector id once (its best score): a result never repeats a vector. */
function bestPerId(matches: Hit[]): Hit[] {
  const best = new Map<string, Hit>();
  for (const m of matches) {
    const seen = best.get(m.id);
    if (!seen || m.score > seen.score) best.set(m.id, m);
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}

/**
 * Searches one store: embeds the query (unless a vector is given), queries each requested
 * namespace (or the whole store through its vector_store_id metadata), merges by score, and
 * answers from the ledger, so a vector whose record is gone or shrank is never returned.
 */
export async function searchStore(
  deps: VectorDeps & {
    /** The ledger read: a replica, or the client's bookmark. */
    db: D1Reader;
    /** The shard's primary, read when `db` fails (a replica down, a bookmark D1 refuses). */
    primary: D1Reader;
  },
  store: VectorStore,
  request: SearchRequest,
) {
  checkFilterFields(store, request.filter);
  let vector = request.vector;
  if (vector && vector.length !== store.dimensions) {
    throw Errors.validation({ vector: [`must have exactly ${store.dimensions} dimensions`] });
  }
  if (!vector) {
    const [embedded] = await embedTexts(deps.ai, store.embedding_model, store.dimensions, [request.query!], deps.retry);
    if (!embedded?.ok) throw upstreamUnavailable("embedding service");
    vector = Array.from(embedded.vector);
  }

  const topK = request.top_k;
  // Vectorize returns metadata with at most 20 matches; past that, ids first, then metadata by id.
  const returnMetadata = topK <= MAX_IDS_PER_GET ? "all" : "none";
  // The store's own id is always part of the filter: a store never sees another store's vectors.
  // Object.fromEntries defines own properties, so a client's `__proto__` key stays a field name.
  const filter: VectorizeVectorMetadataFilter = Object.fromEntries([
    ...Object.entries(request.filter ?? {}).filter(([field]) => field !== "vector_store_id"),
    ["vector_store_id", store.id],
  ]);
  // A namespace named twice is queried once.
  const namespaces =
    request.namespace === undefined
      ? [undefined]
      : await Promise.all([...new Set([request.namespace].flat())].map((ns) => vectorNamespace(store.id, ns)));
  let hits: Hit[];
  try {
    const answers = await Promise.all(
      namespaces.map((namespace) => deps.index.query(vector!, { topK, returnMetadata, filter, ...(namespace ? { namespace } : {}) })),
    );
    hits = bestPerId(answers.flatMap((a) => a.matches)).slice(0, topK);
    if (returnMetadata === "none" && hits.length > 0) {
      const byId = new Map(
        (
          await getVectors(
            deps.index,
            hits.map((h) => h.id),
            deps.retry,
          )
        ).map((v) => [v.id, v.metadata]),
      );
      hits = hits.map((h) => ({ ...h, metadata: byId.get(h.id) }));
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw upstreamUnavailable("vector index");
  }

  const located = hits
    .map((h) => ({ ...h, meta: (h.metadata ?? {}) as Record<string, unknown> }))
    .filter((h) => h.meta.vector_store_id === store.id && typeof h.meta.record_id === "string");
  const keys = located.map((h) => ({ namespace: String(h.meta.namespace), id: String(h.meta.record_id) }));
  const records = await loadLiveRecords(deps.db, store.id, keys).catch(() => loadLiveRecords(deps.primary, store.id, keys));

  const results = [];
  for (const hit of located) {
    const namespace = String(hit.meta.namespace);
    const recordId = String(hit.meta.record_id);
    const chunk = Number(hit.meta.chunk);
    const record = records.get(`${namespace}\u0000${recordId}`);
    if (!record || !(chunk < record.chunk_count)) continue; // not in the ledger (any more): never shown
    const chunks = record.vector ? [recordText(store, record)] : recordChunks(store, record);
    // Shown by dotted path, the names a filter uses: nested metadata comes back as it was named.
    // (The text hash is the service's too, but not filterable: no metadata index is asked for it.)
    const metadata = Object.fromEntries(
      Object.entries(flattenPaths(hit.meta)).filter(([k]) => !SERVICE_KEYS.has(k) && k !== TEXT_HASH_KEY),
    );
    results.push({ record_id: recordId, namespace, score: hit.score, chunk, text: chunks[chunk] ?? "", metadata });
  }
  return { results };
}
