// The rankings of one search put together: each chunk found by vector search, keyword search or
// both, once, with its score from each, fused by relative score.

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

/** One ranking, best first, and whether it stopped at its depth (more chunks may score below its last). */
export interface Ranking {
  found: Found[];
  full: boolean;
}

/**
 * What a ranking says of each chunk, relative to its best hit: score / best, in [0, 1]. A chunk
 * the ranking did not return is credited with the most it could have scored there: the last
 * returned score when the ranking was cut at its depth, else 0 (it matched nothing).
 */
function relativeScores(ranking: Ranking) {
  const best = Math.max(0, ...ranking.found.map((f) => f.score));
  const relative = (score: number) => (best > 0 ? Math.max(0, score) / best : 0);
  const last = ranking.found.at(-1);
  return { relative, unreturned: ranking.full && last ? relative(last.score) : 0 };
}

/**
 * The chunks of both rankings (each already best first), each once, with its scores. In hybrid
 * mode fused = the sum over the two rankings of the chunk's score relative to that ranking's best
 * (relativeScores), so a ranking counts by how far its hits stand out, not by their order alone:
 * a part number's keyword hit far above the rest outweighs the nearest vector among near-equals,
 * and a keyword list of near-equal common-word hits barely moves the vector order. Reciprocal rank
 * fusion, which sees ranks only, did neither on npm run search-eval (docs/vectors.md): with k = 1,
 * mixed queries' MRR 0.66 against keyword search's 1.00; with the usual k = 60, lower still.
 * Ordered by the mode's score; ties by the keyword score, then the vector score.
 */
export function fuseRankings(vector: Ranking, keyword: Ranking, fuse: boolean): RankedChunk[] {
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
  // A chunk appears once in a ranking; a repeat (a lower score of the same chunk) adds nothing.
  for (const f of vector.found) entry(f).vector ??= f.score;
  for (const f of keyword.found) entry(f).keyword ??= f.score;
  if (fuse) {
    const v = relativeScores(vector);
    const k = relativeScores(keyword);
    for (const c of byKey.values()) {
      c.fused = (c.vector === null ? v.unreturned : v.relative(c.vector)) + (c.keyword === null ? k.unreturned : k.relative(c.keyword));
    }
  }
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
