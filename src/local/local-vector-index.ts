import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { MAX_IDS_PER_DELETE, MAX_VECTORS_PER_UPSERT } from "../vectors/index-writer";
import { MAX_METADATA_BYTES } from "../vectors/metadata";
import { clearFaults, record, resetStats, setFaults, stats, takeHalfApply, timed, type FaultPlan } from "./faults";
import { beginRemoteCall } from "./remote-call";
import { cosine } from "./vector-math";
import { matchesFilter } from "../vectors/metadata-filter";

interface LocalEnv {
  LOCAL_VECTOR_STORE: DurableObjectNamespace<LocalVectorStore>;
  EMBEDDING_DIMENSIONS: string;
}

interface StoredVector {
  id: string;
  namespace?: string;
  values: Float32Array | Float64Array | number[];
  metadata?: Record<string, VectorizeVectorMetadata>;
}

const utf8 = new TextEncoder();
/** Largest blob the local index binds at once (a Durable Object's SQLite holds at most 2 MB per value). */
const MAX_BLOB_BYTES = 1024 * 1024;

/**
 * A batch of vectors as it crosses to the Durable Object: one Float32Array for every value and
 * flat lists beside it. Thousands of small objects cost far more to serialise over RPC.
 */
interface PackedVectors {
  ids: string[];
  namespaces: (string | null)[];
  metadata: (string | null)[];
  values: Float32Array;
}

function pack(vectors: StoredVector[], dimensions: number): PackedVectors {
  const values = new Float32Array(vectors.length * dimensions);
  vectors.forEach((v, i) => {
    values.set(v.values, i * dimensions);
  });
  return {
    ids: vectors.map((v) => v.id),
    namespaces: vectors.map((v) => v.namespace ?? null),
    metadata: vectors.map((v) => (v.metadata ? JSON.stringify(v.metadata) : null)),
    values,
  };
}
const bytes = (s: string) => utf8.encode(s).byteLength;

/** Every value a finite number. For typed arrays, x * 0 is 0 for a finite x and NaN otherwise: one sum, no call per value. */
function allFiniteValues(values: StoredVector["values"]): boolean {
  if (Array.isArray(values)) return values.every((x) => Number.isFinite(x));
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i]! * 0;
  return probe === 0;
}

/** Vectorize's limits on writes, checked before anything is stored. */
export function validateVectors(vectors: StoredVector[], dimensions: number): void {
  if (vectors.length > MAX_VECTORS_PER_UPSERT)
    throw new Error(`VECTOR_UPSERT_ERROR: at most ${MAX_VECTORS_PER_UPSERT} vectors per call, got ${vectors.length}`);
  for (const v of vectors) {
    if (typeof v.id !== "string" || v.id.length === 0 || bytes(v.id) > 64)
      throw new Error(`VECTOR_UPSERT_ERROR: id must be 1-64 bytes: ${String(v.id).slice(0, 80)}`);
    if (v.namespace !== undefined && bytes(v.namespace) > 64) throw new Error(`VECTOR_UPSERT_ERROR: namespace over 64 bytes`);
    if (!Array.isArray(v.values) && !ArrayBuffer.isView(v.values)) throw new Error(`VECTOR_UPSERT_ERROR: values must be an array`);
    if (v.values.length !== dimensions)
      throw new Error(`VECTOR_UPSERT_ERROR: vector ${v.id} has ${v.values.length} dimensions, index has ${dimensions}`);
    if (!allFiniteValues(v.values)) throw new Error(`VECTOR_UPSERT_ERROR: vector ${v.id} has a non-finite value`);
    if (v.metadata && bytes(JSON.stringify(v.metadata)) > MAX_METADATA_BYTES)
      throw new Error(`VECTOR_UPSERT_ERROR: metadata of ${v.id} over 10 KiB`);
  }
}

/** Vectorize's limits on queries: topK at most 100, or 20 with values or all metadata. */
export function validateQuery(vector: number[], options: VectorizeQueryOptions, dimensions: number): void {
  const topK = options.topK ?? 5;
  const withMetadata = options.returnMetadata === true || options.returnMetadata === "all";
  const limit = options.returnValues || withMetadata ? 20 : 100;
  if (topK < 1 || topK > limit) throw new Error(`VECTOR_QUERY_ERROR: topK must be 1-${limit} with these options, got ${topK}`);
  if (vector.length !== dimensions) throw new Error(`VECTOR_QUERY_ERROR: query has ${vector.length} dimensions, index has ${dimensions}`);
}

/**
 * The index data of the local stand-in: one SQLite-backed Durable Object, so vectors persist
 * across `npm run dev` restarts (under .wrangler/state) and each test file starts empty.
 * Checks the limits Vectorize enforces, so code that passes here does not fail there on them.
 */
/** The one store a filter asks for (`vector_store_id` equal to a string), or null. */
function storeOf(filter: VectorizeQueryOptions["filter"]): string | null {
  const wanted = (filter as Record<string, unknown> | undefined)?.vector_store_id;
  if (typeof wanted === "string") return wanted;
  const eq = (wanted as { $eq?: unknown } | undefined)?.$eq;
  return typeof eq === "string" ? eq : null;
}

export class LocalVectorStore extends DurableObject<LocalEnv> {
  private readonly sql: SqlStorage;
  private readonly dimensions: number;

  constructor(ctx: DurableObjectState, env: LocalEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.dimensions = Number(env.EMBEDDING_DIMENSIONS);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, namespace TEXT, vals BLOB NOT NULL, metadata TEXT)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS vectors_ns ON vectors (namespace)`);
    // The vector's store, read from its metadata, indexed: as Vectorize's metadata index on
    // vector_store_id does, a search of one store scans that store's vectors, not every store's
    // (with many stores in one local index, a scan of all of them took seconds a query).
    try {
      this.sql.exec(`ALTER TABLE vectors ADD COLUMN store TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.vector_store_id')) VIRTUAL`);
    } catch (err) {
      if (!String(err).includes("duplicate column")) throw err;
    }
    this.sql.exec(`CREATE INDEX IF NOT EXISTS vectors_store ON vectors (store, namespace)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
  }

  private nextMutation(): string {
    const row = this.sql
      .exec(`INSERT INTO counters (name, value) VALUES ('mutation', 1)
      ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`)
      .one();
    return String(row.value);
  }

  private write(batch: PackedVectors, replace: boolean): { mutationId: string } {
    const count = batch.ids.length;
    const bytesPerVector = count === 0 ? 0 : batch.values.byteLength / count;
    const conflict = replace ? "UPDATE SET namespace = excluded.namespace, vals = excluded.vals, metadata = excluded.metadata" : "NOTHING";
    this.ctx.storage.transactionSync(() => {
      // One statement per slice of vectors, not one per vector: the slice's values go in as one
      // blob and substr() cuts each vector's bytes out of it (a blob param stays under the 2 MB
      // a Durable Object's SQLite value may hold).
      const perSlice = Math.max(1, Math.floor(MAX_BLOB_BYTES / Math.max(1, bytesPerVector)));
      for (let from = 0; from < count; from += perSlice) {
        const to = Math.min(count, from + perSlice);
        const rows = [];
        for (let i = from; i < to; i++) rows.push([batch.ids[i], batch.namespaces[i] ?? null, batch.metadata[i] ?? null]);
        this.sql.exec(
          `INSERT INTO vectors (id, namespace, vals, metadata)
          SELECT j.value ->> 0, j.value ->> 1, substr(?2, j.key * ?3 + 1, ?3), j.value ->> 2 FROM json_each(?1) j WHERE true
          ON CONFLICT (id) DO ${conflict}`,
          JSON.stringify(rows),
          batch.values.buffer.slice(batch.values.byteOffset + from * bytesPerVector, batch.values.byteOffset + to * bytesPerVector),
          bytesPerVector,
        );
      }
    });
    return { mutationId: this.nextMutation() };
  }

  upsert(batch: PackedVectors) {
    return timed("indexMs", () => this.write(batch, true));
  }

  /** Like Vectorize: insert keeps an existing id's vector, silently. */
  insert(batch: PackedVectors) {
    return timed("indexMs", () => this.write(batch, false));
  }

  deleteByIds(ids: string[]) {
    return timed("indexMs", () => {
      this.sql.exec(`DELETE FROM vectors WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(ids));
      return { mutationId: this.nextMutation() };
    });
  }

  private rows(where: string, ...params: (string | null)[]) {
    return this.sql
      .exec<{ id: string; namespace: string | null; vals: ArrayBuffer; metadata: string | null }>(
        `SELECT id, namespace, vals, metadata FROM vectors ${where}`,
        ...params,
      )
      .toArray();
  }

  getByIds(ids: string[]): VectorizeVector[] {
    return timed("indexMs", () => this.readByIds(ids));
  }

  private readByIds(ids: string[]): VectorizeVector[] {
    return this.rows(`WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(ids)).map((r) => ({
      id: r.id,
      values: Array.from(new Float32Array(r.vals)),
      metadata: r.metadata ? JSON.parse(r.metadata) : {},
      ...(r.namespace !== null ? { namespace: r.namespace } : {}),
    }));
  }

  query(vector: number[], options: VectorizeQueryOptions = {}): VectorizeMatches {
    return timed("indexQueryMs", () => this.scan(vector, options));
  }

  /** Brute force: every vector of the namespace, its filter checked and its cosine computed. */
  private scan(vector: number[], options: VectorizeQueryOptions): VectorizeMatches {
    const topK = options.topK ?? 5;
    const withMetadata = options.returnMetadata === true || options.returnMetadata === "all";
    const where: string[] = [];
    const params: string[] = [];
    const store = storeOf(options.filter);
    if (store !== null) {
      where.push("store = ?");
      params.push(store);
    }
    if (options.namespace !== undefined) {
      where.push("namespace = ?");
      params.push(options.namespace);
    }
    const rows = this.rows(where.length > 0 ? `WHERE ${where.join(" AND ")}` : "", ...params);
    // The store's own key is checked by the query above; a row's metadata is parsed only when the
    // filter asks for more, and for the matches returned.
    const filter = options.filter as Record<string, unknown> | undefined;
    const rest = store === null ? filter : Object.fromEntries(Object.entries(filter ?? {}).filter(([k]) => k !== "vector_store_id"));
    const filtering = rest !== undefined && Object.keys(rest).length > 0;
    const parse = (metadata: string | null) => (metadata ? JSON.parse(metadata) : {});
    const scored = [];
    for (const row of rows) {
      if (filtering && !matchesFilter(parse(row.metadata), rest)) continue;
      const values = new Float32Array(row.vals);
      scored.push({ id: row.id, score: cosine(vector, values), values, metadata: row.metadata, namespace: row.namespace });
    }
    scored.sort((a, b) => b.score - a.score);
    const matches = scored.slice(0, topK).map((m) => ({
      id: m.id,
      score: m.score,
      ...(m.namespace !== null ? { namespace: m.namespace } : {}),
      ...(options.returnValues ? { values: Array.from(m.values) } : {}),
      ...(withMetadata ? { metadata: parse(m.metadata) } : {}),
    }));
    return { matches, count: matches.length };
  }

  describe(): VectorizeIndexInfo {
    const count = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM vectors`).one().n;
    const counter = (name: string) =>
      this.sql.exec<{ value: number }>(`SELECT value FROM counters WHERE name = ?`, name).toArray()[0]?.value ?? 0;
    // Writes apply at once here: everything is processed, up to now.
    return {
      vectorCount: count,
      dimensions: this.dimensions,
      processedUpToMutation: counter("mutation"),
      processedUpToDatetime: Date.now(),
    };
  }

  /** Test helper: every vector id with its namespace and record id (the stand-in's whole content). */
  dump(): { id: string; namespace: string | null; vector_store_id: unknown; record_id: unknown; chunk: unknown }[] {
    return this.rows("ORDER BY id").map((r) => {
      const metadata = r.metadata ? JSON.parse(r.metadata) : {};
      return {
        id: r.id,
        namespace: r.namespace,
        vector_store_id: metadata.vector_store_id,
        record_id: metadata.record_id,
        chunk: metadata.chunk,
      };
    });
  }
}

/**
 * Local stand-in for the Vectorize binding (bound as VECTORIZE in the dev environment only):
 * the methods the service uses, forwarded to the LocalVectorStore object, with test-only fault
 * injection and call counters.
 */
export class LocalVectorIndex extends WorkerEntrypoint<LocalEnv> {
  /** Which local index this is: each name is an object of its own, with its own vectors. */
  protected get indexName() {
    return "index";
  }

  private get store() {
    return this.env.LOCAL_VECTOR_STORE.get(this.env.LOCAL_VECTOR_STORE.idFromName(this.indexName));
  }

  private get dimensions() {
    return Number(this.env.EMBEDDING_DIMENSIONS);
  }

  async upsert(vectors: StoredVector[]) {
    record((s) => {
      s.upsertCalls += 1;
      s.vectorsUpserted += vectors.length;
    });
    await beginRemoteCall(
      "upsert",
      vectors.map((v) => String(v.metadata?.record_id ?? "")),
    );
    validateVectors(vectors, this.dimensions);
    if (takeHalfApply()) {
      await this.store.upsert(pack(vectors.slice(0, Math.ceil(vectors.length / 2)), this.dimensions));
      throw new Error("injected fault: upsert applied half of its batch");
    }
    return this.store.upsert(pack(vectors, this.dimensions));
  }

  async insert(vectors: StoredVector[]) {
    await beginRemoteCall("insert");
    validateVectors(vectors, this.dimensions);
    return this.store.insert(pack(vectors, this.dimensions));
  }

  async deleteByIds(ids: string[]) {
    record((s) => {
      s.deleteCalls += 1;
      s.idsDeleted += ids.length;
    });
    await beginRemoteCall("deleteByIds");
    if (ids.length > MAX_IDS_PER_DELETE) throw new Error(`VECTOR_DELETE_ERROR: at most ${MAX_IDS_PER_DELETE} ids per call`);
    return this.store.deleteByIds(ids);
  }

  async getByIds(ids: string[]) {
    record((s) => {
      s.getCalls += 1;
      s.idsRead += ids.length;
    });
    await beginRemoteCall("getByIds");
    return this.store.getByIds(ids);
  }

  async query(vector: number[], options: VectorizeQueryOptions = {}) {
    record((s) => {
      s.queryCalls += 1;
    });
    await beginRemoteCall("query");
    validateQuery(vector, options, this.dimensions);
    return this.store.query(vector, options);
  }

  async describe() {
    await beginRemoteCall("describe");
    return this.store.describe();
  }

  // Test-only switches (the production Vectorize binding has none of these).
  setFaults(plan: FaultPlan) {
    setFaults(plan);
  }
  clearFaults() {
    clearFaults();
  }
  stats() {
    return stats();
  }
  resetStats() {
    resetStats();
  }
  dump() {
    return this.store.dump();
  }
}

/**
 * The second local index (bound as VECTORIZE_1 in dev and tests): the same stand-in over vectors
 * of its own, so that stores placed on index 1 show that search and writes follow their index.
 */
export class LocalVectorIndex1 extends LocalVectorIndex {
  protected override get indexName() {
    return "index-1";
  }
}
