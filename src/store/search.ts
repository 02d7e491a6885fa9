import type { D1Reader } from "../db/sessions";
import { type LiveRecordText, loadLiveRecords } from "../db/ledger";
import { keywordQuery, searchKeywords } from "../db/keywords";
import { ApiError, Errors } from "../base/errors";
import { DEFAULT_CANDIDATES, type SearchMode, type SearchRequest } from "../schemas/search";
import { embedTexts } from "../vectors/embedder";
import { TEXT_HASH_KEY } from "../vectors/chunk-hashes";
import { vectorNamespace } from "../vectors/ids";
import { getVectors, MAX_IDS_PER_GET } from "../vectors/index-writer";
import { buildMetadata } from "../vectors/metadata";
import { matchesFilter } from "../vectors/metadata-filter";
import { flattenPaths } from "../vectors/metadata-paths";
import { rerankTexts } from "../vectors/reranker";
import { searchableChunks, type VectorDeps } from "../vectors/vector-sync";
import type { RerankBinding } from "../model/bindings";
import type { VectorStore } from "../model/store";
import { applyRerank, fuseRankings, type RankedChunk, type Ranking } from "./rank-fusion";

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
 * Chunks each ranking of a hybrid search brings when not reranking: Vectorize answers up to 20
 * matches with their metadata in one call (more would need a second round trip for it).
 */
export const HYBRID_DEPTH = MAX_IDS_PER_GET;
/** A keyword search with a filter reads this many times its depth, since the filter applies after. */
const FILTERED_KEYWORD_FACTOR = 4;
/** Most chunks a keyword search reads. */
const MAX_KEYWORD_READ = 200;

type SearchDeps = VectorDeps & {
  /** The ledger read: a replica, or the client's bookmark. */
  db: D1Reader;
  /** The shard's primary, read when `db` fails (a replica down, a bookmark D1 refuses). */
  primary: D1Reader;
  /** Workers AI's reranker (the local stand-in in dev and tests). */
  reranker: RerankBinding;
};

interface Located {
  namespace: string;
  recordId: string;
  chunk: number;
  score: number;
  /** The vector's metadata: the service's keys and the record's fields. */
  meta: Record<string, unknown>;
}

/** The vector ranking: the query's (or given) vector against the store's namespaces, best first. */
async function vectorRanking(
  deps: SearchDeps,
  store: VectorStore,
  request: SearchRequest,
  namespaces: string[] | undefined,
  depth: number,
): Promise<Ranking & { found: Located[] }> {
  let vector = request.vector;
  if (!vector) {
    const [embedded] = await embedTexts(deps.ai, store.embedding_model, store.dimensions, [request.query!], deps.retry);
    if (!embedded?.ok) throw upstreamUnavailable("embedding service");
    vector = Array.from(embedded.vector);
  }
  // Vectorize returns metadata with at most 20 matches; past that, ids first, then metadata by id.
  const returnMetadata = depth <= MAX_IDS_PER_GET ? "all" : "none";
  // The store's own id is always part of the filter: a store never sees another store's vectors.
  // Object.fromEntries defines own properties, so a client's `__proto__` key stays a field name.
  const filter: VectorizeVectorMetadataFilter = Object.fromEntries([
    ...Object.entries(request.filter ?? {}).filter(([field]) => field !== "vector_store_id"),
    ["vector_store_id", store.id],
  ]);
  const indexNamespaces = namespaces ? await Promise.all(namespaces.map((ns) => vectorNamespace(store.id, ns))) : [undefined];
  let hits: Hit[];
  try {
    const answers = await Promise.all(
      indexNamespaces.map((namespace) =>
        deps.index.query(vector!, { topK: depth, returnMetadata, filter, ...(namespace ? { namespace } : {}) }),
      ),
    );
    hits = bestPerId(answers.flatMap((a) => a.matches)).slice(0, depth);
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
  const found = hits
    .map((h) => ({ ...h, meta: (h.metadata ?? {}) as Record<string, unknown> }))
    .filter((h) => h.meta.vector_store_id === store.id && typeof h.meta.record_id === "string")
    .map((h) => ({
      namespace: String(h.meta.namespace),
      recordId: String(h.meta.record_id),
      chunk: Number(h.meta.chunk),
      score: h.score,
      meta: h.meta,
    }));
  return { found, full: hits.length >= depth };
}

/** A record's metadata as its vectors carry it, built from the ledger (for chunks found by keyword only). */
function ledgerMetadata(store: VectorStore, namespace: string, recordId: string, record: LiveRecordText & { metadata?: string | null }) {
  return buildMetadata(
    { organizationId: store.organization_id, vectorStoreId: store.id, namespace, recordId },
    JSON.parse(record.data) as Record<string, unknown>,
    store.metadata_fields,
    record.metadata ? JSON.parse(record.metadata) : null,
  );
}

/**
 * The keyword ranking: BM25 over the store's keyword index (its namespaces, when named), best
 * first, with each chunk's record read in the same statement. A filter is applied to the records'
 * metadata as Vectorize would apply it to their vectors'.
 */
async function keywordRanking(
  deps: SearchDeps,
  store: VectorStore,
  request: SearchRequest,
  namespaces: string[] | undefined,
  depth: number,
  records: Map<string, LiveRecordText & { metadata?: string | null }>,
): Promise<Ranking & { found: Located[] }> {
  const query = keywordQuery(store.id, namespaces, request.query!);
  if (query === null) return { found: [], full: false }; // no word in the text: nothing can match
  const filter = request.filter as Record<string, unknown> | undefined;
  const limit = filter ? Math.min(MAX_KEYWORD_READ, depth * FILTERED_KEYWORD_FACTOR) : depth;
  const hits = await searchKeywords(deps.db, store.id, query, limit).catch(() => searchKeywords(deps.primary, store.id, query, limit));
  const found: Located[] = [];
  for (const hit of hits) {
    records.set(`${hit.namespace}\u0000${hit.id}`, hit);
    const meta = ledgerMetadata(store, hit.namespace, hit.id, hit);
    if (filter && !matchesFilter(meta, filter)) continue;
    found.push({ namespace: hit.namespace, recordId: hit.id, chunk: hit.chunk, score: hit.score, meta });
    if (found.length === depth) return { found, full: true };
  }
  // Fewer than asked: with a filter, rows past the ones read may still match it.
  return { found, full: hits.length === limit };
}

/** The mode a request searches in: its own, else hybrid for a text query and vector for a vector. */
export function searchMode(request: SearchRequest): SearchMode {
  return request.mode ?? (request.query !== undefined ? "hybrid" : "vector");
}

/**
 * Searches one store: vector search (the query embedded, unless a vector is given) and keyword
 * search (BM25 over the keyword index that commits with the ledger), run side by side as the mode
 * asks, fused by relative score in hybrid mode, reordered by the reranker when asked, and
 * answered from the ledger, so a vector whose record is gone or shrank is never returned.
 */
export async function searchStore(deps: SearchDeps, store: VectorStore, request: SearchRequest) {
  checkFilterFields(store, request.filter);
  if (request.vector && request.vector.length !== store.dimensions) {
    throw Errors.validation({ vector: [`must have exactly ${store.dimensions} dimensions`] });
  }
  const mode = searchMode(request);
  if (mode !== "vector" && request.query === undefined)
    throw Errors.validation({ mode: ["keyword and hybrid search need a text 'query'"] });
  const rerank = request.rerank === true;
  if (rerank && request.query === undefined) throw Errors.validation({ rerank: ["reranking needs a text 'query'"] });

  const topK = request.top_k;
  const candidates = request.candidates ?? DEFAULT_CANDIDATES;
  const depth = rerank ? Math.max(topK, candidates) : mode === "hybrid" ? Math.max(topK, HYBRID_DEPTH) : topK;
  // A namespace named twice is searched once.
  const namespaces = request.namespace === undefined ? undefined : [...new Set([request.namespace].flat())];
  const records = new Map<string, LiveRecordText & { metadata?: string | null }>();
  // Side by side: the keyword query is one D1 read, made while the query is embedded and the index asked.
  const none = { found: [], full: false };
  const [vectorHits, keywordHits] = await Promise.all([
    mode === "keyword" ? none : vectorRanking(deps, store, request, namespaces, depth),
    mode === "vector" ? none : keywordRanking(deps, store, request, namespaces, depth, records),
  ]);
  const byVector = vectorHits.found;
  const byKeyword = keywordHits.found;
  const unread = byVector.filter((h) => !records.has(`${h.namespace}\u0000${h.recordId}`));
  if (unread.length > 0) {
    const keys = unread.map((h) => ({ namespace: h.namespace, id: h.recordId }));
    const read = await loadLiveRecords(deps.db, store.id, keys).catch(() => loadLiveRecords(deps.primary, store.id, keys));
    for (const [key, record] of read) records.set(key, record);
  }
  const recordOf = (c: { namespace: string; recordId: string }) => records.get(`${c.namespace}\u0000${c.recordId}`);
  // Not in the ledger (any more), or past its chunk count: never shown, never ranked.
  const live = (c: { namespace: string; recordId: string; chunk: number }) => {
    const record = recordOf(c);
    return record !== undefined && c.chunk < record.chunk_count;
  };
  const metaOf = new Map<string, Record<string, unknown>>();
  for (const h of [...byKeyword, ...byVector]) metaOf.set(`${h.namespace}\u0000${h.recordId}`, h.meta);

  let ranked: RankedChunk[] = fuseRankings(
    { found: byVector.filter(live), full: vectorHits.full },
    { found: byKeyword.filter(live), full: keywordHits.full },
    mode === "hybrid",
  );
  const texts = new Map<string, string[]>();
  const textOf = (c: RankedChunk) => {
    const key = `${c.namespace}\u0000${c.recordId}`;
    let chunks = texts.get(key);
    if (!chunks) {
      chunks = searchableChunks(store, recordOf(c)!);
      texts.set(key, chunks);
    }
    return chunks[c.chunk] ?? "";
  };
  if (rerank && ranked.length > 0) {
    const pool = ranked.slice(0, candidates);
    let scores: number[];
    try {
      scores = await rerankTexts(deps.reranker, request.query!, pool.map(textOf), deps.retry);
    } catch {
      throw upstreamUnavailable("reranking service");
    }
    ranked = applyRerank(pool, scores);
  }

  const results = ranked.slice(0, topK).map((c) => {
    // Shown by dotted path, the names a filter uses: nested metadata comes back as it was named.
    const meta = metaOf.get(`${c.namespace}\u0000${c.recordId}`) ?? {};
    const metadata = Object.fromEntries(Object.entries(flattenPaths(meta)).filter(([k]) => !SERVICE_KEYS.has(k) && k !== TEXT_HASH_KEY));
    return {
      record_id: c.recordId,
      namespace: c.namespace,
      score: c.rerank ?? c.fused ?? c.vector ?? c.keyword ?? 0,
      scores: { vector: c.vector, keyword: c.keyword, fused: c.fused, rerank: c.rerank },
      chunk: c.chunk,
      text: textOf(c),
      metadata,
    };
  });
  return { results };
}
