import type { StoreObjectRpc } from "./model/store-object";
import type { ApiKeyRecord } from "./model/api-key";
import type { EmbeddingBinding, RerankBinding, VectorIndexBinding } from "./model/bindings";

/** Bindings shared by production and the dev environment (see wrangler.toml). */
export interface Bindings {
  /**
   * The catalog: organizations' stores and their placement, API-key revocations, Idempotency-Keys,
   * the Cron Trigger's bookkeeping. The ledger itself lives in the shards (ledgerOf, indexOf).
   */
  DB: D1Database;
  /** Ledger shard 0. Shards 1.. are bound as LEDGER_1, LEDGER_2... and found by name. */
  LEDGER_0: D1Database;
  API_KEYS: KVNamespace;
  SYNC_RATE_LIMITER: RateLimit;
  SEARCH_RATE_LIMITER: RateLimit;
  /** One Durable Object per vector store: syncs of a store run there, one at a time. */
  STORE_SYNC: DurableObjectNamespace<StoreObjectRpc>;
  /** Workers AI in production (embeddings, reranking); the local embedder (a service binding) in dev and tests. */
  AI: EmbeddingBinding & RerankBinding;
  /**
   * Vector index 0: a Vectorize index in production; the local vector index (a service binding)
   * in dev and tests. Indexes 1.. are bound as VECTORIZE_1, VECTORIZE_2... and found by name.
   */
  VECTORIZE: VectorIndexBinding;
  /** Where store objects are created: D1's primary region (a locationHint, default "enam"). */
  STORE_LOCATION_HINT?: string;
  /** Indexes given to a store only when its creation names them, e.g. "2,3" (ledgerOf, indexOf). */
  DEDICATED_VECTOR_INDEXES?: string;
  /** Workers Static Assets (wrangler.toml [assets]): Swagger UI's files for /docs. Absent in the bench's Miniflare. */
  ASSETS?: Fetcher;
  ADMIN_TOKEN: string;
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: string;
  /** Default embedding model of new vector stores, and the index's dimensions. */
  EMBEDDING_MODEL: string;
  EMBEDDING_DIMENSIONS: string;
  /** Days a sync's stored result is kept (default 30, at least 1; syncResultRetentionDays). */
  SYNC_RESULT_RETENTION_DAYS?: string;
  /** Embedding calls a sync keeps in flight (default 8, DEFAULT_EMBED_CALLS_IN_FLIGHT). */
  EMBED_CALLS_IN_FLIGHT?: string;
  /** First backoff delay of upstream retries, in ms (doubles per attempt). */
  UPSTREAM_RETRY_BASE_MS?: string;
}

export interface Variables {
  requestId: string;
  apiKey: ApiKeyRecord;
}

/** The one type every Hono app and sub-app of the service is built with. */
export type AppEnv = { Bindings: Bindings; Variables: Variables };
