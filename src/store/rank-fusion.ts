// The rankings of one search put together: each chunk found by vector search, keyword search or
// both, once, with its score from each, fused by reciprocal rank.

/**
 * k of reciprocal rank fusion, 1 / (k + rank). The usual 60 (Cormack, Clarke and Büttcher, 2009)
 * flattens the top ranks: on npm run search-eval a chunk that keyword search put first (a part
 * number) and vector search missed sank below chunks both rankings found in middling places
 * (mixed queries: recall@10 0.60 with 60, 0.65 with 10, 1.00 with 1; docs/vectors.md).
 */
export const RRF_K = 1;

export interface RankedChunk {
  namespace: string;
  recordId: string;
  chunk: number;
  vector: number | null;
  keyword: number | null;
  fused: number | null;
  rerank: number | null;
}

const keyOf = (c: { namespace: string; recordId: string; chunk: number }) => `${c.namespace}\u0000${c.recordId}\u0000${c.chunk}`;

type Found = { namespace: string; recordId: string; chunk: number; score: number };

/**
 * The chunks of both rankings (each already best first), each once, with its scores; in hybrid
 * mode fused = the sum over the rankings that found it of 1 / (RRF_K + its rank there).
 * Ordered by the mode's score; ties (a chunk first in one ranking only against one first in the
 * other only) by the keyword score, then the vector score: an exact token found by keyword search
 * is the likelier answer than a vector's nearest neighbour of a text it does not hold.
 */
export function fuseRankings(vector: Found[], keyword: Found[], fuse: boolean): RankedChunk[] {
  const byKey = new Map<string, RankedChunk>();
  const entry = (f: Found) => {
    const key = keyOf(f);
    let chunk = byKey.get(key);
    if (!chunk) {
      chunk = { namespace: f.namespace, recordId: f.recordId, chunk: f.chunk, vector: null, keyword: null, fused: null, rerank: null };
      byKey.set(key, chunk);
    }
    return chunk;
  };
  vector.forEach((f, rank) => {
    const chunk = entry(f);
    if (chunk.vector !== null) return; // a chunk appears once in a ranking; a repeat adds nothing
    chunk.vector = f.score;
    if (fuse) chunk.fused = (chunk.fused ?? 0) + 1 / (RRF_K + rank + 1);
  });
  keyword.forEach((f, rank) => {
    const chunk = entry(f);
    if (chunk.keyword !== null) return;
    chunk.keyword = f.score;
    if (fuse) chunk.fused = (chunk.fused ?? 0) + 1 / (RRF_K + rank + 1);
  });
  const first = (c: RankedChunk) => c.fused ?? c.vector ?? c.keyword ?? 0;
  return [...byKey.values()].sort(
    (a, b) =>
      first(b) - first(a) ||
      (b.keyword ?? Number.NEGATIVE_INFINITY) - (a.keyword ?? Number.NEGATIVE_INFINITY) ||
      (b.vector ?? Number.NEGATIVE_INFINITY) - (a.vector ?? Number.NEGATIVE_INFINITY),
  );
}

/** The chunks reordered by their rerank scores (given in the same order), ties kept in their order. */
export function applyRerank(chunks: RankedChunk[], scores: number[]): RankedChunk[] {
  return chunks
    .map((c, i) => ({ ...c, rerank: scores[i] ?? null, place: i }))
    .sort((a, b) => (b.rerank ?? Number.NEGATIVE_INFINITY) - (a.rerank ?? Number.NEGATIVE_INFINITY) || a.place - b.place)
    .map(({ place: _, ...c }) => c);
}
