import type { KeyFailure, SyncPlan } from "../sync/plan";
import { keyOf } from "../sync/plan";
import { embedTexts, type EmbeddingBinding } from "./embedder";
import { recordVectorStem, vectorId, vectorIds, vectorNamespace } from "./ids";
import { deleteVectors, upsertVectors, type IndexVector, type VectorIndexBinding } from "./index-writer";
import { buildMetadata, MAX_METADATA_BYTES, metadataBytes } from "./metadata";
import type { RetryPolicy } from "./retry";
import { chunkText, deriveText } from "./text";

export interface StoreEmbeddingConfig {
  id: string;
  organization_id: string;
  embedding_model: string;
  dimensions: number;
  text_fields: string[] | null;
  metadata_fields: string[] | null;
}

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

interface PendingRecord {
  key: string;
  vectors: IndexVector[];
  /** Chunk texts still to embed, by position in `vectors`. */
  toEmbed: { position: number; text: string }[];
}

type RecordTextSource = { data: string; file: string | null; text: string | null };

/** A record's text: its own, or derived from data and file (used by sync, search and reconciliation alike). */
export function recordText(store: StoreEmbeddingConfig, record: RecordTextSource): string {
  return record.text ?? deriveText(JSON.parse(record.data), record.file ? JSON.parse(record.file) : null, store.text_fields);
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

  for (const write of plan.writes) {
    const stem = await recordVectorStem(store.id, write.namespace, write.id);
    stems.set(write.key, stem);
    if (!write.record) continue;
    const record = write.record;
    const namespace = await vectorNamespace(store.id, write.namespace);
    const data = JSON.parse(record.data) as Record<string, unknown>;
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
      entry.vectors.push({ id: vectorId(stem, chunk), namespace, values: record.vector ?? [], metadata: { ...metadata, chunk } });
      if (text !== null) entry.toEmbed.push({ position: chunk, text });
    });
    write.chunkCount = chunks.length;
    pending.push(entry);
  }

  // One pass over every text of the request: calls of up to 100 texts, whatever the records.
  const texts = pending.flatMap((p) => p.toEmbed.map((t) => t.text));
  const embedded = texts.length > 0
    ? await embedTexts(deps.ai, store.embedding_model, store.dimensions, texts, deps.retry)
    : [];
  let cursor = 0;
  const ready: IndexVector[] = [];
  for (const record of pending) {
    let failed: string | null = null;
    for (const { position } of record.toEmbed) {
      const outcome = embedded[cursor++]!;
      if (outcome.ok) record.vectors[position]!.values = outcome.vector;
      else failed = outcome.error;
    }
    if (failed) failures.set(record.key, { code: "EMBEDDING_FAILED", message: failed, transient: true });
    else ready.push(...record.vectors);
  }

  const keyOfVector = new Map<string, string>();
  for (const record of pending) for (const v of record.vectors) keyOfVector.set(v.id, record.key);
  for (const batch of await upsertVectors(deps.index, ready, deps.retry)) {
    if (batch.ok) mutationIds.push(batch.mutationId!);
    else for (const v of batch.items) failures.set(keyOfVector.get(v.id)!, { code: "VECTOR_WRITE_FAILED", message: batch.error!, transient: true });
  }

  // Deletes come after upserts: a record is never without vectors while its new ones are written.
  const doomed = new Map<string, string>();
  for (const write of plan.writes) {
    if (failures.has(write.key) || write.chunkCount >= write.previousChunkCount) continue;
    for (const id of vectorIds(stems.get(write.key)!, write.chunkCount, write.previousChunkCount)) doomed.set(id, write.key);
  }
  for (const sweep of plan.sweeps) {
    if (sweep.chunkCount === 0) continue;
    const key = keyOf(sweep.namespace, sweep.id);
    const stem = await recordVectorStem(store.id, sweep.namespace, sweep.id);
    for (const id of vectorIds(stem, 0, sweep.chunkCount)) doomed.set(id, key);
  }
  for (const batch of await deleteVectors(deps.index, [...doomed.keys()], deps.retry)) {
    if (batch.ok) mutationIds.push(batch.mutationId!);
    else for (const id of batch.items) failures.set(doomed.get(id)!, { code: "VECTOR_WRITE_FAILED", message: batch.error!, transient: true });
  }

  return { failures, mutationIds, textsEmbedded: texts.length };
}
