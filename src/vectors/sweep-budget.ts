/**
 * How much one request may delete: a full_refresh's final sweep and a namespace delete both take
 * at most this much and report what is left, so a 100,000-record namespace never exceeds one
 * invocation's D1, Vectorize or memory limits.
 */

/** Records one request sweeps (or deletes) at most; the rest are left for the next request. */
export const MAX_SWEEP_RECORDS = 10_000;
/** Vectors one request deletes at most (50 deleteByIds calls of 1000). */
export const MAX_SWEEP_VECTORS = 50_000;

/** The first records whose vectors fit MAX_SWEEP_VECTORS (always at least one). */
export function withinSweepBudget<T extends { chunkCount: number }>(candidates: T[]): T[] {
  let vectors = 0;
  let taken = 0;
  while (taken < candidates.length && (taken === 0 || vectors + candidates[taken]!.chunkCount <= MAX_SWEEP_VECTORS)) {
    vectors += candidates[taken]!.chunkCount;
    taken++;
  }
  return candidates.slice(0, taken);
}
