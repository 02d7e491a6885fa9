import { inSlices, withRetry, type RetryPolicy } from "../base/retry";
import type { EmbeddingBinding } from "../model/bindings";

/** Workers AI takes at most 100 texts per embedding call. */
export const MAX_TEXTS_PER_CALL = 100;
const CONCURRENT_CALLS = 4;

/** Keyed by model names that admins (and so, clients) type: a Map, so "constructor" is no model. */
export const EMBEDDING_MODELS: ReadonlyMap<string, number> = new Map([
  ["@cf/baai/bge-small-en-v1.5", 384],
  ["@cf/baai/bge-base-en-v1.5", 768],
  ["@cf/baai/bge-large-en-v1.5", 1024],
  ["@cf/baai/bge-m3", 1024],
]);

type Vector = number[] | Float32Array;
export type EmbedOutcome = { ok: true; vector: Vector } | { ok: false; error: string };

/** Workers AI answers `{shape, data: number[][]}`; typed-array rows are accepted too. */
function vectorsOf(output: unknown, expected: number, dimensions: number): Vector[] {
  const data = (output as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length !== expected) throw new Error("embedding response has the wrong number of vectors");
  for (const v of data) {
    if (!(Array.isArray(v) || v instanceof Float32Array) || v.length !== dimensions) {
      throw new Error("embedding response has the wrong dimensions");
    }
  }
  return data as Vector[];
}

/**
 * Embeds texts in calls of at most 100, a few calls at a time, each retried with backoff.
 * A call that still fails marks its own texts failed; the others are kept.
 */
export async function embedTexts(
  ai: EmbeddingBinding,
  model: string,
  dimensions: number,
  texts: string[],
  retry: RetryPolicy,
): Promise<EmbedOutcome[]> {
  const batches = await inSlices(texts, MAX_TEXTS_PER_CALL, CONCURRENT_CALLS, async (slice) => {
    try {
      const output = await withRetry(retry, () => ai.run(model, { text: slice }));
      return vectorsOf(output, slice.length, dimensions).map((vector): EmbedOutcome => ({ ok: true, vector }));
    } catch (err) {
      const error = `embedding service unavailable: ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`;
      return slice.map((): EmbedOutcome => ({ ok: false, error }));
    }
  });
  return batches.flat();
}
