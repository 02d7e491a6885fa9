import type { VectorIndexBinding } from "../model/bindings";

/**
 * Vectorize applies writes asynchronously: a sync is queryable once the index has processed
 * its mutations. describe() reports the last processed mutation and when it was processed;
 * mutation ids are opaque, so the time is what orders them: every mutation of a sync was made
 * before the sync's row was committed (created_at).
 */
export async function isQueryable(index: VectorIndexBinding, sync: { mutation_ids: string; created_at: string }): Promise<boolean | null> {
  const mutations = JSON.parse(sync.mutation_ids) as string[];
  if (mutations.length === 0) return true;
  try {
    const info = await index.describe();
    if (mutations.includes(String(info.processedUpToMutation))) return true;
    const processed = Number(info.processedUpToDatetime);
    // Seconds or milliseconds since the epoch, whichever the index reports.
    const processedMs = processed < 1e12 ? processed * 1000 : processed;
    return processedMs >= Date.parse(sync.created_at);
  } catch {
    return null; // unknown: the index could not be asked
  }
}
