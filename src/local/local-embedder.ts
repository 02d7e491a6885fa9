import { WorkerEntrypoint } from "cloudflare:workers";
import { EMBEDDING_MODELS, MAX_TEXTS_PER_CALL } from "../vectors/embedder";
import { clearFaults, record, resetStats, setFaults, stats, timed, type FaultPlan } from "./faults";
import { beginRemoteCall } from "./remote-call";
import { hashEmbedding } from "./hash-embedding";
import { tokenOverlapScore } from "./token-overlap";
import { RERANK_MODEL } from "../vectors/reranker";

type EmbedInputs = { text: string | string[] };
type RerankInputs = { query: string; contexts: { text?: string }[]; top_k?: number };

/**
 * Local stand-in for the Workers AI binding (bound as AI in the dev environment only):
 * `run(model, {text})` answers like a bge embedding model, with the lexical hash embedding;
 * `run("@cf/baai/bge-reranker-base", {query, contexts})` like the reranker, with word overlap.
 */
export class LocalEmbedder extends WorkerEntrypoint {
  async run(model: string, inputs: EmbedInputs | RerankInputs) {
    if (model === RERANK_MODEL) return this.rerank(inputs as RerankInputs);
    return this.embed(model, inputs as EmbedInputs);
  }

  /** Like Workers AI's reranker: `{response: [{id, score}]}`, best first, top_k of them. */
  private async rerank(inputs: RerankInputs) {
    if (typeof inputs.query !== "string" || !Array.isArray(inputs.contexts)) throw new Error("reranker input needs query and contexts");
    record((s) => {
      s.rerankCalls += 1;
      s.maxContextsPerRerankCall = Math.max(s.maxContextsPerRerankCall, inputs.contexts.length);
    });
    await beginRemoteCall("rerank");
    return timed("embedderMs", () => {
      const scored = inputs.contexts.map((c, id) => ({ id, score: tokenOverlapScore(inputs.query, c.text ?? "") }));
      scored.sort((a, b) => b.score - a.score || a.id - b.id);
      return { response: scored.slice(0, inputs.top_k ?? scored.length) };
    });
  }

  private async embed(model: string, inputs: EmbedInputs) {
    const dimensions = EMBEDDING_MODELS.get(model);
    if (!dimensions) throw new Error(`unknown embedding model ${model}`);
    const texts = Array.isArray(inputs.text) ? inputs.text : [inputs.text];
    // Workers AI refuses more than 100 texts in one call; so does the stand-in.
    if (texts.length > MAX_TEXTS_PER_CALL) throw new Error(`at most ${MAX_TEXTS_PER_CALL} texts per call, got ${texts.length}`);
    record((s) => {
      s.embedCalls += 1;
      s.textsEmbedded += texts.length;
      s.maxTextsPerCall = Math.max(s.maxTextsPerCall, texts.length);
    });
    await beginRemoteCall("embed");
    // Rows as Float32Array rather than Workers AI's number[]: one buffer each to cross RPC instead
    // of 768 numbers. The service reads both (embedTexts), and tests exercise both.
    const data = timed("embedderMs", () => texts.map((t) => Float32Array.from(hashEmbedding(t, dimensions))));
    return { shape: [texts.length, dimensions], data, pooling: "mean" };
  }

  // Test-only switches (the production AI binding has none of these).
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
}
