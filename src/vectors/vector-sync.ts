import { span } from "../base/profile";
import { embedTexts, MAX_TEXTS_PER_CALL } from "./embedder";
import { chunkPositions, chunkTextHash, LEDGER_HASH_CHARS, ledgerChunkHashes, TEXT_HASH_CHARS, TEXT_HASH_KEY } from "./chunk-hashes";
import { recordVectorStem, vectorId, vectorIds, vectorNamespace } from "./ids";
import { deleteVectors, MAX_IDS_PER_GET, MAX_VECTORS_PER_UPSERT, upsertBatch } from "./index-writer";
import { buildMetadata, MAX_METADATA_BYTES, metadataBytes } from "./metadata";
import type { RetryPolicy } from "../base/retry";
import { chunkText, deriveText, TextTooLarge } from "./text";
import type { VectorStore } from "../model/store";
import { keyOf, type KeyFailure, type RecordWrite, type SyncPlan } from "../model/plan";
import type { EmbeddingBinding, IndexVector, VectorIndexBinding } from "../model/bindings";

/** What of a vector store the vector step needs. */
export type StoreEmbeddingConfig = Omit<VectorStore, "name" | "created_at">;

export interface VectorDeps {
  ai: EmbeddingBinding;
  index: VectorIndexBinding;
  retry: RetryPolicy;
  /** Embedding calls kept in flight by a sync (default DEFAULT_EMBED_CALLS_IN_FLIGHT). */
  embedCallsInFlight?: number;
}

export interface VectorOutcome {
  failures: Map<string, KeyFailure & { transient: boolean }>;
  mutationIds: string[];
  textsEmbedded: number;
  /** Vectors written with values read back from the index (their chunk's text unchanged), not embedded. */
  vectorsReused: number;
}

const EMPTY = new Float32Array(0);
/**
 * Embedding calls (of up to 100 texts each) kept in flight during a sync, unless VectorDeps says
 * otherwise (EMBED_CALLS_IN_FLIGHT): a new call starts as soon as one ends, not when a wave's
 * slowest call does. Workers AI allows 3,000 embedding calls a minute per account.
 */
export const DEFAULT_EMBED_CALLS_IN_FLIGHT = 8;
/** Upsert batches in flight at once: embedding goes on meanwhile. */
const MAX_UPSERTS_IN_FLIGHT = 4;
/** getByIds calls (of up to 20 ids) in flight at once, reading back vectors to reuse. */
const MAX_READS_IN_FLIGHT = 8;
/** Chunk texts hashed together (one await for all of them: an await per text costs more than the hash). */
const HASH_BATCH_TEXTS = 200;
/**
 * Vectors one sync request may write. Past it, the request's remaining changed records fail on
 * their own (REQUEST_CHUNK_BUDGET_EXCEEDED) and are applied when sent again: the work and the
 * embedding calls of one request stay bounded whatever its records hold.
 */
export const MAX_CHUNKS_PER_REQUEST = 10_000;

/**
 * The row as a Float32Array of its own: a typed row that owns its whole buffer is kept as it
 * came (no copy); anything else is copied, since a view would carry its whole buffer over RPC.
 */
function ownFloat32(row: number[] | Float32Array): Float32Array {
  if (row instanceof Float32Array && row.byteOffset === 0 && row.byteLength === row.buffer.byteLength) return row;
  return Float32Array.from(row);
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

interface PendingRecord {
  key: string;
  write: RecordWrite;
  stem: string;
  vectors: IndexVector[];
  /** Chunk texts, by position in `vectors` (none for a record that brought its own vector). */
  texts: string[];
}

type RecordTextSource = {
  data: string;
  file: string | null;
  text: string | null;
  parsed?: { data: Record<string, unknown>; file: { file_relative_path?: string } | null };
};

/** A record's text: its own, or derived from data and file. Throws TextTooLarge past the limit. */
export function recordText(store: StoreEmbeddingConfig, record: RecordTextSource): string {
  if (record.text !== null) return record.text;
  const parsed = record.parsed ?? parseRecord(record);
  return deriveText(parsed.data, parsed.file, store.text_fields);
}

/** data and file parsed from their stored JSON (a large request keeps only the JSON, see checkOperations). */
function parseRecord(record: RecordTextSource): NonNullable<RecordTextSource["parsed"]> {
  return { data: JSON.parse(record.data), file: record.file ? JSON.parse(record.file) : null };
}

/**
 * The chunk texts a record is embedded as (used by sync, search and reconciliation alike); none
 * for a record past the per-record limits, which never has vectors.
 */
export function recordChunks(store: StoreEmbeddingConfig, record: RecordTextSource): string[] {
  try {
    return chunkText(recordText(store, record));
  } catch (err) {
    if (err instanceof TextTooLarge) return [];
    throw err;
  }
}

/**
 * A record's texts as search shows and the keyword index holds them, chunk by chunk: its chunks,
 * or for a record that brought its own vector (one chunk) its whole text.
 */
export function searchableChunks(store: StoreEmbeddingConfig, record: RecordTextSource & { vector: unknown }): string[] {
  if (!record.vector) return recordChunks(store, record);
  try {
    return [recordText(store, record)];
  } catch (err) {
    if (err instanceof TextTooLarge) return [];
    throw err;
  }
}

/** The vectors a changed record will have (values still to embed), or why it cannot have them. */
function prepareRecord(store: StoreEmbeddingConfig, write: RecordWrite, stem: string, namespace: string): PendingRecord | KeyFailure {
  const stored = write.record!;
  const record = { ...stored, parsed: stored.parsed ?? parseRecord(stored) };
  let chunks: (string | null)[];
  try {
    chunks = record.vector ? [null] : chunkText(recordText(store, record));
  } catch (err) {
    if (!(err instanceof TextTooLarge)) throw err;
    return {
      code: "RECORD_TOO_LARGE",
      message: `${err.message}; give the vector store text_fields, send a shorter 'text', or split the record`,
    };
  }
  const metadata = buildMetadata(
    { organizationId: store.organization_id, vectorStoreId: store.id, namespace: write.namespace, recordId: write.id },
    record.parsed.data,
    store.metadata_fields,
    record.metadata ? JSON.parse(record.metadata) : null,
  );
  // Each embedded chunk's vector also carries its text's hash (TEXT_HASH_KEY), counted here.
  const bytes = metadataBytes(record.vector ? metadata : { ...metadata, [TEXT_HASH_KEY]: "x".repeat(TEXT_HASH_CHARS) }, chunks.length);
  if (bytes > MAX_METADATA_BYTES) {
    return {
      code: "METADATA_TOO_LARGE",
      message: `vector metadata is ${bytes} bytes; Vectorize stores at most ${MAX_METADATA_BYTES} per vector`,
    };
  }
  const entry: PendingRecord = { key: write.key, write, stem, vectors: [], texts: [] };
  chunks.forEach((text, chunk) => {
    entry.vectors.push({
      id: vectorId(stem, chunk),
      namespace,
      values: record.vector ? Float32Array.from(record.vector) : EMPTY,
      metadata: { ...metadata, chunk },
    });
    if (text !== null) entry.texts.push(text);
  });
  return entry;
}

/**
 * The values of a vector read back from the index, when they may stand for a chunk of text hash
 * `hash`: its metadata says it was embedded from exactly that text (so neither an index that has
 * not yet applied a later write nor a half-applied batch can hand back another text's vector), and
 * it has the store's dimensions, all finite. Otherwise null: the chunk is embedded.
 */
function reusableValues(vector: VectorizeVector | undefined, hash: string, dimensions: number): Float32Array | null {
  if (!vector || vector.metadata?.[TEXT_HASH_KEY] !== hash) return null;
  const values = vector.values as number[] | Float32Array | undefined;
  if (!values || values.length !== dimensions) return null;
  const own = ownFloat32(values);
  return allFinite(own) ? own : null;
}

/**
 * Embeds and upserts the changed records' chunks, before the ledger commits, and sets each
 * write's new chunk count and chunk hashes. A chunk whose text the record already had (its hash
 * is among the ledger's previousChunkHashes) is read back from the index and upserted with the
 * new metadata, not embedded; one that cannot be read back as exactly that text's vector is
 * embedded (reusableValues). Records are taken in request order and in waves of about 1000 texts:
 * texts are derived, embedded (calls of up to 100) and their vectors upserted (batches of up to
 * 1000, a few in flight while the next wave embeds), then let go, so memory follows the wave,
 * not the request. Whatever could not be done is returned as a failure per record key, for
 * failKeys() to take back from the plan.
 */
export async function writeVectors(deps: VectorDeps, store: StoreEmbeddingConfig, plan: SyncPlan): Promise<VectorOutcome> {
  const failures: VectorOutcome["failures"] = new Map();
  const mutationIds: string[] = [];
  const live = plan.writes.filter((w) => w.record);
  // Hashes in parallel: thousands of sequential awaits of crypto.subtle cost more than the hashing.
  const stems = await span("vectors: ids", () => Promise.all(live.map((w) => recordVectorStem(store.id, w.namespace, w.id))));
  const namespaces = new Map<string, string>();
  for (const ns of new Set(live.map((w) => w.namespace))) namespaces.set(ns, await vectorNamespace(store.id, ns));
  const callsInFlight = Math.max(1, deps.embedCallsInFlight ?? DEFAULT_EMBED_CALLS_IN_FLIGHT);

  // Upserts: a batch goes to the index as soon as MAX_VECTORS_PER_UPSERT vectors are ready.
  const upserts = new Set<Promise<void>>();
  let ready: { vector: IndexVector; key: string }[] = [];
  const upsert = async (batch: { vector: IndexVector; key: string }[]) => {
    const result = await span("vectors: index upserts (overlapping)", () =>
      upsertBatch(
        deps.index,
        batch.map((b) => b.vector),
        deps.retry,
      ),
    );
    if (result.ok) mutationIds.push(result.mutationId!);
    else for (const { key } of batch) failures.set(key, { code: "VECTOR_WRITE_FAILED", message: result.error!, transient: true });
  };
  const startUpserts = async (all: boolean) => {
    while (ready.length >= MAX_VECTORS_PER_UPSERT || (all && ready.length > 0)) {
      const batch = ready.slice(0, MAX_VECTORS_PER_UPSERT);
      ready = ready.slice(MAX_VECTORS_PER_UPSERT);
      const call = upsert(batch).finally(() => upserts.delete(call));
      upserts.add(call);
      if (upserts.size >= MAX_UPSERTS_IN_FLIGHT) await Promise.race(upserts);
    }
  };

  // Embedding: a fixed number of calls in flight; each takes the next (up to) 100 texts queued,
  // across records. Reading back: chunks whose text hash the ledger already has for the record
  // are read from the index (getByIds, up to 20 ids a call) instead; a chunk that cannot be read
  // back as exactly its text's vector joins the embedding queue. A record's vectors are ready once
  // its last chunk has values.
  interface Queued {
    record: PendingRecord;
    position: number;
    text: string;
  }
  interface ReadBack extends Queued {
    id: string;
    hash: string;
  }
  const waiting = new Map<PendingRecord, { left: number; failed: string | null }>();
  let queue: Queued[] = [];
  let reads: ReadBack[] = [];
  const calls = new Set<Promise<void>>();
  const readCalls = new Set<Promise<void>>();
  let textsEmbedded = 0;
  let vectorsReused = 0;
  const recordDone = (record: PendingRecord, failed: string | null) => {
    if (failed) failures.set(record.key, { code: "EMBEDDING_FAILED", message: failed, transient: true });
    else for (const vector of record.vectors) ready.push({ vector, key: record.key });
  };
  const chunkDone = (record: PendingRecord) => {
    const state = waiting.get(record)!;
    if (--state.left === 0) {
      waiting.delete(record);
      recordDone(record, state.failed);
    }
  };
  const embedCall = async (slice: Queued[]) => {
    const outcomes = await span("vectors: embedding", () =>
      embedTexts(
        deps.ai,
        store.embedding_model,
        store.dimensions,
        slice.map((q) => q.text),
        deps.retry,
      ),
    );
    textsEmbedded += slice.length;
    slice.forEach(({ record, position }, i) => {
      const outcome = outcomes[i]!;
      const state = waiting.get(record)!;
      if (!outcome.ok) state.failed = outcome.error;
      else {
        // Float32 is what Vectorize stores; typed arrays also cross RPC boundaries as one buffer.
        const values = ownFloat32(outcome.vector);
        record.vectors[position]!.values = values;
        // One bad answer must not fail its batch's other 999 vectors at the index.
        if (!allFinite(values)) state.failed = "embedding service returned a non-finite value";
      }
      chunkDone(record);
    });
    await startUpserts(false);
  };
  /** Starts calls while texts are queued (full calls only, unless `all`) and a slot is free. */
  const startCalls = async (all: boolean) => {
    while (queue.length >= MAX_TEXTS_PER_CALL || (all && queue.length > 0)) {
      if (calls.size >= callsInFlight) {
        await Promise.race(calls);
        continue;
      }
      const slice = queue.slice(0, MAX_TEXTS_PER_CALL);
      queue = queue.slice(MAX_TEXTS_PER_CALL);
      const call = embedCall(slice).finally(() => calls.delete(call));
      calls.add(call);
    }
  };
  // No retry: a read that fails costs only the embedding it would have saved.
  const readCall = async (slice: ReadBack[]) => {
    let found: VectorizeVector[] = [];
    try {
      found = await span("vectors: read back", () => deps.index.getByIds(slice.map((r) => r.id)));
    } catch {
      found = [];
    }
    const byId = new Map(found.map((v) => [v.id, v]));
    for (const item of slice) {
      const values = reusableValues(byId.get(item.id), item.hash, store.dimensions);
      if (!values) {
        queue.push(item);
        continue;
      }
      item.record.vectors[item.position]!.values = values;
      vectorsReused += 1;
      chunkDone(item.record);
    }
    await startUpserts(false);
  };
  const startReads = async (all: boolean) => {
    while (reads.length >= MAX_IDS_PER_GET || (all && reads.length > 0)) {
      if (readCalls.size >= MAX_READS_IN_FLIGHT) {
        await Promise.race(readCalls);
        continue;
      }
      const slice = reads.slice(0, MAX_IDS_PER_GET);
      reads = reads.slice(MAX_IDS_PER_GET);
      const call = readCall(slice).finally(() => readCalls.delete(call));
      readCalls.add(call);
    }
  };

  let budget = MAX_CHUNKS_PER_REQUEST;
  let overBudget = false;
  /** Hashes the chunk texts of prepared records (in one await), then queues each record's chunks, in request order. */
  const queueRecords = async (batch: PendingRecord[]) => {
    const hashes = await span("vectors: chunk hashes", () => Promise.all(batch.flatMap((r) => r.texts.map(chunkTextHash))));
    let next = 0;
    for (const record of batch) {
      const write = record.write;
      const own = hashes.slice(next, next + record.texts.length);
      next += record.texts.length;
      // Once one record does not fit, the later ones fail too: the client re-sends the tail in order.
      if (overBudget || record.vectors.length > budget) {
        overBudget = true;
        failures.set(write.key, {
          code: "REQUEST_CHUNK_BUDGET_EXCEEDED",
          transient: false,
          message: `this request reached its budget of ${MAX_CHUNKS_PER_REQUEST} vectors; send this operation again in another request`,
        });
        continue;
      }
      budget -= record.vectors.length;
      write.chunkCount = record.vectors.length;
      write.chunkHashes = ledgerChunkHashes(own);
      if (own.length === 0) {
        recordDone(record, null); // its own vector (or no text): nothing to embed
        continue;
      }
      const previous = chunkPositions(write.previousChunkHashes, write.previousChunkCount);
      waiting.set(record, { left: own.length, failed: null });
      own.forEach((hash, position) => {
        record.vectors[position]!.metadata[TEXT_HASH_KEY] = hash;
        const text = record.texts[position]!;
        const from = previous.get(hash.slice(0, LEDGER_HASH_CHARS));
        if (from === undefined) queue.push({ record, position, text });
        else reads.push({ record, position, text, hash, id: vectorId(record.stem, from) });
      });
      record.texts = [];
    }
    await startUpserts(false);
    await startReads(false);
    // Texts are prepared only as fast as the calls take them: memory follows the calls in flight.
    await startCalls(false);
  };

  let batch: PendingRecord[] = [];
  let batchTexts = 0;
  for (let i = 0; i < live.length; i++) {
    const write = live[i]!;
    const prepared = span("vectors: text, chunks, metadata", () =>
      prepareRecord(store, write, stems[i]!, namespaces.get(write.namespace)!),
    );
    if (!("vectors" in prepared)) {
      failures.set(write.key, { ...prepared, transient: false });
      continue;
    }
    batch.push(prepared);
    batchTexts += prepared.texts.length;
    if (batchTexts >= HASH_BATCH_TEXTS) {
      await queueRecords(batch);
      batch = [];
      batchTexts = 0;
    }
  }
  await queueRecords(batch);
  await startReads(true);
  await Promise.all(readCalls);
  await startCalls(true);
  await Promise.all(calls);
  await startUpserts(true);
  await Promise.all(upserts);
  return { failures, mutationIds, textsEmbedded, vectorsReused };
}

/**
 * Deletes, after writeVectors, the vectors of deleted and swept records and the trailing vectors
 * of records whose chunk count shrank (a record is never without vectors while its new ones are
 * written). Writes already taken back by failKeys are left alone.
 */
export async function removeVectors(deps: VectorDeps, store: StoreEmbeddingConfig, plan: SyncPlan): Promise<VectorOutcome> {
  const failures: VectorOutcome["failures"] = new Map();
  const mutationIds: string[] = [];
  const doomed = new Map<string, string>();
  const shrinking = plan.writes.filter((w) => w.chunkCount < w.previousChunkCount);
  const swept = plan.sweeps.filter((s) => s.chunkCount > 0);
  const stems = await Promise.all([...shrinking, ...swept].map((r) => recordVectorStem(store.id, r.namespace, r.id)));
  shrinking.forEach((write, i) => {
    for (const id of vectorIds(stems[i]!, write.chunkCount, write.previousChunkCount)) doomed.set(id, write.key);
  });
  swept.forEach((sweep, i) => {
    for (const id of vectorIds(stems[shrinking.length + i]!, 0, sweep.chunkCount)) doomed.set(id, keyOf(sweep.namespace, sweep.id));
  });
  for (const batch of await deleteVectors(deps.index, [...doomed.keys()], deps.retry)) {
    if (batch.ok) mutationIds.push(batch.mutationId!);
    else
      for (const id of batch.items) failures.set(doomed.get(id)!, { code: "VECTOR_WRITE_FAILED", message: batch.error!, transient: true });
  }
  return { failures, mutationIds, textsEmbedded: 0, vectorsReused: 0 };
}

/** Both steps, for a caller with no ledger plan to take failures back from (reconciliation). */
export async function applyPlanToIndex(deps: VectorDeps, store: StoreEmbeddingConfig, plan: SyncPlan): Promise<VectorOutcome> {
  const written = await writeVectors(deps, store, plan);
  const removed = await removeVectors(deps, store, { ...plan, writes: plan.writes.filter((w) => !written.failures.has(w.key)) });
  return {
    failures: new Map([...written.failures, ...removed.failures]),
    mutationIds: [...written.mutationIds, ...removed.mutationIds],
    textsEmbedded: written.textsEmbedded,
    vectorsReused: written.vectorsReused,
  };
}
