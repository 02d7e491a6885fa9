// The local stand-in for a cross-encoder: a deterministic relevance score of a text for a query,
// from the words they share. Not a model of bge-reranker-base's scores, only of its contract:
// one score per context, larger is more relevant, the same inputs always give the same order.

/** Words of a text read at most: the stand-in's work per context stays bounded. */
const MAX_WORDS = 4096;
/** Least trigram similarity (Dice) at which a text word counts for a query word it is not. */
const NEAR_MISS = 0.6;
/** Query words looked for as near misses at most (each one is compared with every text word). */
const MAX_NEAR_MISS_WORDS = 32;

const words = (text: string) => new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_WORDS));

function trigrams(word: string): Set<string> {
  const padded = ` ${word} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return out;
}

/** Dice coefficient of two trigram sets, between 0 and 1. */
function dice(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const t of a) if (b.has(t)) shared += 1;
  return (2 * shared) / (a.size + b.size);
}

/**
 * How much of the query the text holds: each distinct query word counts 1 if the text has it, else
 * its best trigram similarity with a text word of about its length when that reaches NEAR_MISS (a
 * misspelling or another inflection, which a cross-encoder reads through), else 0; the sum over
 * the query's words, as a share, plus a tenth of the share of the text's distinct words that are
 * the query's exactly (of two texts holding every query word, the one more about them ranks
 * first). Between 0 and 1.1.
 */
export function tokenOverlapScore(query: string, text: string): number {
  const q = words(query);
  const t = words(text);
  if (q.size === 0 || t.size === 0) return 0;
  let shared = 0;
  let near = 0;
  let looked = 0;
  let textGrams: Map<string, Set<string>> | null = null;
  for (const w of q) {
    if (t.has(w)) {
      shared += 1;
      continue;
    }
    // Too short for a near miss to mean anything, or past the bound of the work.
    if (w.length < 4 || looked++ >= MAX_NEAR_MISS_WORDS) continue;
    textGrams ??= new Map([...t].filter((x) => x.length >= 4).map((x) => [x, trigrams(x)]));
    const mine = trigrams(w);
    let best = 0;
    for (const [x, grams] of textGrams) if (Math.abs(x.length - w.length) <= 2) best = Math.max(best, dice(mine, grams));
    if (best >= NEAR_MISS) near += best;
  }
  return (shared + near) / q.size + (0.1 * shared) / t.size;
}
