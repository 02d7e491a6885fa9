import { maybeFail, takeHalfApply } from "../src/local/faults";
import { hashEmbedding } from "../src/local/hash-embedding";
import type { EmbeddingBinding } from "../src/vectors/embedder";
import { validateQuery, validateVectors } from "../src/local/local-vector-index";
import type { IndexVector, VectorIndexBinding } from "../src/vectors/index-writer";

/**
 * The local index's behaviour (limits, fault switches) kept in memory, for the property test,
 * which runs thousands of syncs: the Durable Object behind the stand-in persists every write,
 * and that cost grows with the suite's storage, not with what the test checks.
 */
export function memoryIndex(dimensions = 768) {
  const vectors = new Map<string, IndexVector>();
  let mutation = 0;
  const binding: VectorIndexBinding = {
    async upsert(items) {
      await maybeFail("upsert", items.map((v) => String(v.metadata?.record_id ?? "")));
      validateVectors(items, dimensions);
      const half = takeHalfApply();
      for (const v of half ? items.slice(0, Math.ceil(items.length / 2)) : items) vectors.set(v.id, v);
      if (half) throw new Error("injected fault: upsert applied half of its batch");
      return { mutationId: String(++mutation) };
    },
    async deleteByIds(ids) {
      await maybeFail("deleteByIds");
      for (const id of ids) vectors.delete(id);
      return { mutationId: String(++mutation) };
    },
    async getByIds(ids) {
      return ids.flatMap((id) => (vectors.has(id) ? [{ ...vectors.get(id)!, values: [...vectors.get(id)!.values] }] : []));
    },
    async query(vector, options) {
      validateQuery(vector, options, dimensions);
      return { matches: [], count: 0 };
    },
    async describe() {
      return { vectorCount: vectors.size, dimensions, processedUpToMutation: mutation, processedUpToDatetime: Date.now() };
    },
  };
  const dump = () => [...vectors.values()].map((v) => ({ id: v.id, namespace: v.namespace,
    vector_store_id: String(v.metadata.vector_store_id), record_id: String(v.metadata.record_id), chunk: Number(v.metadata.chunk) }));
  return { binding, dump };
}

/** The local embedder's behaviour as a plain object (no RPC hop), with the same fault switch. */
export function directEmbedder(dimensions = 768): EmbeddingBinding {
  return {
    async run(_model, inputs) {
      if (inputs.text.length > 100) throw new Error("at most 100 texts per call");
      await maybeFail("embed");
      return { shape: [inputs.text.length, dimensions], data: inputs.text.map((t) => hashEmbedding(t, dimensions)) };
    },
  };
}
