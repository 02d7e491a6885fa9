import { span } from "../base/profile";
import { embedTexts, MAX_TEXTS_PER_CALL } from "./embedder";
import { recordVectorStem, vectorId, vectorIds, vectorNamespace } from "./ids";
import { deleteVectors, MAX_VECTORS_PER_UPSERT, upsertBatch } from "./index-writer";
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
  vectors: IndexVector[];
  /** Chunk texts still to embed, by position in `vectors`. */
  toEmbed: { position: number; text: string }[];
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
  const bytes = metadataBytes(metadata, chunks.length);
  if (bytes > MAX_METADATA_BYTES) {
    return {
      code: "METADATA_TOO_LARGE",
      message: `vector metadata is ${bytes} bytes; Vectorize stores at most ${MAX_METADATA_BYTES} per vector`,
    };
  }
  const entry: PendingRecord = { key: write.key, vectors: [], toEmbed: [] };
  chunks.forEach((text, chunk) => {
    entry.vectors.push({
      id: vectorId(stem, chunk),
      namespace,
      values: record.vector ? Float32Array.from(record.vector) : EMPTY,
      metadata: { ...metadata, chunk },
    });
    if (text !== null) entry.toEmbed.push({ position: chunk, text });
  });
  return entry;
}

/**
 * Embeds and upserts the changed records' chunks, before the ledger commits, and sets each
 * write's new chunk count. Records are taken in request order and in waves of about 1000 texts:
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
  // across records. A record's vectors are ready once its last text is answered.
  interface Queued {
    record: PendingRecord;
    position: number;
    text: string;
  }
  const waiting = new Map<PendingRecord, { left: number; failed: string | null }>();
  let queue: Queued[] = [];
  const calls = new Set<Promise<void>>();
  let textsEmbedded = 0;
  const recordDone = (record: PendingRecord, failed: string | null) => {
    if (failed) failures.set(record.key, { code: "EMBEDDING_FAILED", message: failed, transient: true });
    else for (const vector of record.vectors) ready.push({ vector, key: record.key });
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
      if (--state.left === 0) {
        waiting.delete(record);
        recordDone(record, state.failed);
      }
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

  let budget = MAX_CHUNKS_PER_REQUEST;
  let overBudget = false;
  for (let i = 0; i < live.length; i++) {
    const write = live[i]!;
    const prepared = span("vectors: text, chunks, metadata", () =>
      prepareRecord(store, write, stems[i]!, namespaces.get(write.namespace)!),
    );
    if (!("vectors" in prepared)) {
      failures.set(write.key, { ...prepared, transient: false });
      continue;
    }
    // Once one record does not fit, the later ones fail too: the client re-sends the tail in order.
    if (overBudget || prepared.vectors.length > budget) {
      overBudget = true;
      failures.set(write.key, {
        code: "REQUEST_CHUNK_BUDGET_EXCEEDED",
        transient: false,
        message: `this request reached its budget of ${MAX_CHUNKS_PER_REQUEST} vectors; send this operation again in another request`,
      });
      continue;
    }
    budget -= prepared.vectors.length;
    write.chunkCount = prepared.vectors.length;
    if (prepared.toEmbed.length === 0) {
      recordDone(prepared, null); // its own vector: nothing to embed
      await startUpserts(false);
      continue;
    }
    waiting.set(prepared, { left: prepared.toEmbed.length, failed: null });
    for (const { position, text } of prepared.toEmbed) queue.push({ record: prepared, position, text });
    // Texts are prepared only as fast as the calls take them: memory follows the calls in flight.
    await startCalls(false);
  }
  await startCalls(true);
  await Promise.all(calls);
  await startUpserts(true);
  await Promise.all(upserts);
  return { failures, mutationIds, textsEmbedded };
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
  return { failures, mutationIds, textsEmbedded: 0 };
}

/** Both steps, for a caller with no ledger plan to take failures back from (reconciliation). */
export async function applyPlanToIndex(deps: VectorDeps, store: StoreEmbeddingConfig, plan: SyncPlan): Promise<VectorOutcome> {
  const written = await writeVectors(deps, store, plan);
  const removed = await removeVectors(deps, store, { ...plan, writes: plan.writes.filter((w) => !written.failures.has(w.key)) });
  return {
    failures: new Map([...written.failures, ...removed.failures]),
    mutationIds: [...written.mutationIds, ...removed.mutationIds],
    textsEmbedded: written.textsEmbedded,
  };
}
