import { inSlices, withRetry, type RetryPolicy } from "../base/retry";
import type { IndexVector, VectorIndexBinding } from "../model/bindings";

/** Vectorize takes at most 1000 vectors per upsert and 1000 ids per deleteByIds through the binding. */
export const MAX_VECTORS_PER_UPSERT = 1000;
export const MAX_IDS_PER_DELETE = 1000;
/** Vectorize returns at most 20 vectors with values and metadata in one answer. */
export const MAX_IDS_PER_GET = 20;
const CONCURRENT_CALLS = 4;

export interface WriteBatchResult<T> {
  items: T[];
  ok: boolean;
  mutationId?: string;
  error?: string;
}

function describeFailure(action: string, err: unknown): string {
  return `vector index unavailable (${action}): ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`;
}

/** Upserts one batch (at most 1000 vectors), retried; reports its outcome instead of throwing. */
export async function upsertBatch(
  index: VectorIndexBinding,
  items: IndexVector[],
  retry: RetryPolicy,
): Promise<WriteBatchResult<IndexVector>> {
  if (items.length > MAX_VECTORS_PER_UPSERT) throw new Error(`an upsert batch holds at most ${MAX_VECTORS_PER_UPSERT} vectors`);
  try {
    const { mutationId } = await withRetry(retry, () => index.upsert(items));
    return { items, ok: true, mutationId };
  } catch (err) {
    return { items, ok: false, error: describeFailure("upsert", err) };
  }
}

/** Deletes ids in batches of at most 1000, each retried; reports each batch's outcome. */
export function deleteVectors(index: VectorIndexBinding, ids: string[], retry: RetryPolicy) {
  return inSlices(ids, MAX_IDS_PER_DELETE, CONCURRENT_CALLS, async (items): Promise<WriteBatchResult<string>> => {
    try {
      const { mutationId } = await withRetry(retry, () => index.deleteByIds(items));
      return { items, ok: true, mutationId };
    } catch (err) {
      return { items, ok: false, error: describeFailure("deleteByIds", err) };
    }
  });
}

/** Reads vectors by id in batches of at most 20. */
export async function getVectors(index: VectorIndexBinding, ids: string[], retry: RetryPolicy): Promise<VectorizeVector[]> {
  const batches = await inSlices(ids, MAX_IDS_PER_GET, CONCURRENT_CALLS, (items) => withRetry(retry, () => index.getByIds(items)));
  return batches.flat();
}
