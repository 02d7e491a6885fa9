import type { VectorStore } from "../db/vector-stores";
import type { KeyFailure, SyncPlan } from "../sync/plan";
import { keyOf } from "../sync/plan";
import { embedTexts, type EmbedOutcome, type EmbeddingBinding } from "./embedder";
import { recordVectorStem, vectorId, vectorIds, vectorNamespace } from "./ids";
import { deleteVectors, MAX_VECTORS_PER_UPSERT, upsertBatch, type IndexVector, type VectorIndexBinding,
  type WriteBatchResult } from "./index-writer";
import { buildMetadata, MAX_METADATA_BYTES, metadataBytes } from "./metadata";
import type { RetryPolicy } from "./retry";
import { chunkText, deriveText } from "./text";

/** What of a vector store the vector step needs. */
export type StoreEmbeddingConfig = Omit<VectorStore, "name" | "created_at">;

export interface VectorDeps {
  ai: EmbeddingBinding;
  index: VectorIndexBinding;
  retry: RetryPolicy;
}

export interface VectorOutcome {
  failures: Map<string, KeyFailure & { transient: boolean }>;
  mutationIds: string[];
  textsEmbedded: number;
}

const EMPTY = new Float32Array(0);
const RELEASED: EmbedOutcome = { ok: false, error: "released" };
/** Texts embedded before their vectors start going to the index. */
const EMBED_WAVE = 1000;

interface PendingRecord {
  key: string;
  vectors: IndexVector[];
  /** Chunk texts still to embed, by position in `vectors`. */
  toEmbed: { position: number; text: string }[];
}

type RecordTextSource = { data: string; file: string | null; text: string | null;
  parsed?: { data: Record<string, unknown>; file: { file_relative_path?: string } | null } };

/** A record's text: its own, or derived from data and file (used by sync, search and reconciliation alike). */
export function recordText(store: StoreEmbeddingConfig, record: RecordTextSource): string {
  if (record.text !== null) return record.text;
  const parsed = record.parsed ?? { data: JSON.parse(record.data), file: record.file ? JSON.parse(record.file) : null };
  return deriveText(parsed.data, parsed.file, store.text_fields);
}

/** The chunk texts a record is embedded as. */
export function recordChunks(store: StoreEmbeddingConfig, record: RecordTextSource): string[] {
  return chunkText(recordText(store, record));
}

/**
 * Makes the index follow the plan, before the ledger commits: embeds and upserts the changed
 * records' chunks, deletes the vectors of deleted and swept records and the trailing vectors
 * of records whose chunk count shrank. Sets each write's new chunk count. Whatever could not be
 * done is returned as a failure per record key, for failKeys() to take back from the plan.
 */
export async function applyPlanToIndex(deps: VectorDeps, store: StoreEmbeddingConfig, plan: SyncPlan): Promise<VectorOutcome> {
  const failures: VectorOutcome["failures"] = new Map();
  const mutationIds: string[] = [];
  const pending: PendingRecord[] = [];
  const stems = new Map<string, string>();

  // Hashes in parallel: thousands of sequential awaits of crypto.subtle cost more than the hashing.
  const stemList = await Promise.all(plan.writes.map((w) => recordVectorStem(store.id, w.namespace, w.id)));
  const namespaces = new Map<string, string>();
  for (const ns of new Set(plan.writes.map((w) => w.namespace))) namespaces.set(ns, await vectorNamespace(store.id, ns));
  plan.writes.forEach((write, i) => stems.set(write.key, stemList[i]!));

  for (const write of plan.writes) {
    if (!write.record) continue;
    const stem = stems.get(write.key)!;
    const record = write.record;
    const namespace = namespaces.get(write.namespace)!;
    const data = record.parsed.data;
    const chunks = record.vector ? [null] : recordChunks(store, record);
    const metadata = buildMetadata({ organizationId: store.organization_id, vectorStoreId: store.id,
      namespace: write.namespace, recordId: write.id }, data, store.metadata_fields,
      record.metadata ? JSON.parse(record.metadata) : null);
    const bytes = metadataBytes(metadata, chunks.length);
    if (bytes > MAX_METADATA_BYTES) {
      failures.set(write.key, { code: "METADATA_TOO_LARGE", transient: false,
        message: `vector metadata is ${bytes} bytes; Vectorize stores at most ${MAX_METADATA_BYTES} per vector` });
      continue;
    }
    const entry: PendingRecord = { key: write.key, vectors: [], toEmbed: [] };
    chunks.forEach((text, chunk) => {
      entry.vectors.push({ id: vectorId(stem, chunk), namespace, values: record.vector ? Float32Array.from(record.vector) : EMPTY,
        metadata: { ...metadata, chunk } });
      if (text !== null) entry.toEmbed.push({ position: chunk, text });
    });
    write.chunkCount = chunks.length;
    pending.push(entry);
  }

  // Embedding (CPU or AI calls) and vector upserts (index round trips) overlap: texts are embedded
  // in waves of 1000, in calls of up to 100; as soon as 1000 vectors of fully embedded records
  // are ready they are upserted while the next wave embeds.
  const keyOfVector = new Map<string, string>();
  for (const record of pending) for (const v of record.vectors) keyOfVector.set(v.id, record.key);
  const upserts: Promise<WriteBatchResult<IndexVector>>[] = [];
  let ready: IndexVector[] = [];
  const flush = (all: boolean) => {
    while (ready.length >= MAX_VECTORS_PER_UPSERT || (all && ready.length > 0)) {
      upserts.push(upsertBatch(deps.index, ready.slice(0, MAX_VECTORS_PER_UPSERT), deps.retry));
      ready = ready.slice(MAX_VECTORS_PER_UPSERT);
    }
  };
  const texts = pending.flatMap((p) => p.toEmbed.map((t) => t.text));
  const outcomes: EmbedOutcome[] = [];
  let next = 0; // the first pending record not yet handed to the index
  let cursor = 0; // the first text of pending[next]
  const collect = () => {
    while (next < pending.length && cursor + pending[next]!.toEmbed.length <= outcomes.length) {
      const record = pending[next++]!;
      let failed: string | null = null;
      for (const { position } of record.toEmbed) {
        const outcome = outcomes[cursor]!;
        // Workers AI answers plain arrays (8 bytes a number and more): let each go once copied.
        outcomes[cursor++] = RELEASED;
        // Float32 is what Vectorize stores; typed arrays also cross RPC boundaries as one buffer.
        if (outcome.ok) record.vectors[position]!.values = Float32Array.from(outcome.vector);
        else failed = outcome.error;
      }
      if (failed) failures.set(record.key, { code: "EMBEDDING_FAILED", message: failed, transient: true });
      else ready.push(...record.vectors);
    }
    flush(false);
  };
  collect(); // records with no text to embed (own vectors)
  for (let start = 0; start < texts.length; start += EMBED_WAVE) {
    const wave = texts.slice(start, start + EMBED_WAVE);
    outcomes.push(...await embedTexts(deps.ai, store.embedding_model, store.dimensions, wave, deps.retry));
    collect();
  }
  flush(true);
  for (const batch of await Promise.all(upserts)) {
    if (batch.ok) mutationIds.push(batch.mutationId!);
    else for (const v of batch.items) failures.set(keyOfVector.get(v.id)!, { code: "VECTOR_WRITE_FAILED", message: batch.error!, transient: true });
  }

  // Deletes come after upserts: a record is never without vectors while its new ones are written.
  const doomed = new Map<string, string>();
  for (const write of plan.writes) {
    if (failures.has(write.key) || write.chunkCount >= write.previousChunkCount) continue;
    for (const id of vectorIds(stems.get(write.key)!, write.chunkCount, write.previousChunkCount)) doomed.set(id, write.key);
  }
  const swept = plan.sweeps.filter((s) => s.chunkCount > 0);
  const sweptStems = await Promise.all(swept.map((s) => recordVectorStem(store.id, s.namespace, s.id)));
  swept.forEach((sweep, i) => {
    for (const id of vectorIds(sweptStems[i]!, 0, sweep.chunkCount)) doomed.set(id, keyOf(sweep.namespace, sweep.id));
  });
  for (const batch of await deleteVectors(deps.index, [...doomed.keys()], deps.retry)) {
    if (batch.ok) mutationIds.push(batch.mutationId!);
    else for (const id of batch.items) failures.set(doomed.get(id)!, { code: "VECTOR_WRITE_FAILED", message: batch.error!, transient: true });
  }

  return { failures, mutationIds, textsEmbedded: texts.length };
}
