import { inSlices, withRetry, type RetryPolicy } from "../base/retry";
import type { RerankBinding } from "../model/bindings";

/** The cross-encoder that reorders a search's candidates (Workers AI; the local stand-in in dev and tests). */
export const RERANK_MODEL = "@cf/baai/bge-reranker-base";
/** Contexts sent in one reranking call: a search's candidates (at most MAX_CANDIDATES) take a few calls. */
export const MAX_CONTEXTS_PER_RERANK_CALL = 25;
const CONCURRENT_CALLS = 4;

/** bge-reranker-base answers `{response: [{id, score}]}`, id being the context's place in the call. */
function scoresOf(output: unknown, expected: number): number[] {
  const response = (output as { response?: unknown })?.response;
  if (!Array.isArray(response)) throw new Error("reranker response has no 'response' list");
  const scores = new Array<number>(expected).fill(Number.NaN);
  for (const item of response as { id?: unknown; score?: unknown }[]) {
    const id = Number(item?.id);
    const score = Number(item?.score);
    if (Number.isInteger(id) && id >= 0 && id < expected && Number.isFinite(score)) scores[id] = score;
  }
  if (scores.some((s) => Number.isNaN(s))) throw new Error("reranker response does not score every context");
  return scores;
}

/**
 * A relevance score of each text for the query, larger is better, in calls of at most
 * MAX_CONTEXTS_PER_RERANK_CALL contexts, a few at a time, each retried with backoff like an
 * embedding call. Throws when a call still fails: a search asked to rerank does not answer
 * unreranked.
 */
export async function rerankTexts(ai: RerankBinding, query: string, texts: string[], retry: RetryPolicy): Promise<number[]> {
  const batches = await inSlices(texts, MAX_CONTEXTS_PER_RERANK_CALL, CONCURRENT_CALLS, async (slice) => {
    const output = await withRetry(retry, () =>
      ai.run(RERANK_MODEL, { query, contexts: slice.map((text) => ({ text })), top_k: slice.length }),
    );
    return scoresOf(output, slice.length);
  });
  return batches.flat();
}
