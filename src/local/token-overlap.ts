// The local stand-in for a cross-encoder: a deterministic relevance score of a text for a query,
// from the words they share. Not a model of bge-reranker-base's scores, only of its contract:
// one score per context, larger is more relevant, the same inputs always give the same order.

const words = (text: string) => new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 4096));

/**
 * The share of the query's distinct words the text contains, plus a tenth of the share of the
 * text's distinct words that are the query's (of two texts holding every query word, the one
 * more about them ranks first). Between 0 and 1.1.
 */
export function tokenOverlapScore(query: string, text: string): number {
  const q = words(query);
  const t = words(text);
  if (q.size === 0 || t.size === 0) return 0;
  let shared = 0;
  for (const w of q) if (t.has(w)) shared += 1;
  return shared / q.size + (0.1 * shared) / t.size;
}
