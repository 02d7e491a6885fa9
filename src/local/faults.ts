/**
 * Test-only switches and counters of the local stand-ins. Module state: the embedder and the
 * index stand-in always run in one isolate (the dev worker's own, or the test pool's stand-ins
 * worker), so one copy serves both; callers reach it through either binding's RPC switches.
 */
export type FaultTarget = "embed" | "rerank" | "upsert" | "insert" | "deleteByIds" | "getByIds" | "query" | "describe";

export interface FaultPlan {
  /** Fail the next N calls of each target (Infinity: until cleared). */
  failNext?: Partial<Record<FaultTarget, number>>;
  /** The next N upsert calls store the first half of their vectors, then fail (a batch that half-applies). */
  halfApplyNext?: number;
  /** Fail every upsert call that carries a vector of one of these record ids (a targeted, lasting fault). */
  failUpsertOfRecords?: string[];
  /** Delay before failing, to imitate a timeout. */
  delayMs?: number;
}

export interface StandInStats {
  embedCalls: number;
  textsEmbedded: number;
  maxTextsPerCall: number;
  upsertCalls: number;
  vectorsUpserted: number;
  deleteCalls: number;
  idsDeleted: number;
  queryCalls: number;
  getCalls: number;
  idsRead: number;
  rerankCalls: number;
  maxContextsPerRerankCall: number;
  /** Milliseconds of the embedder's and reranker's own work (hashing texts, scoring contexts). */
  embedderMs: number;
  /** Milliseconds of the index object's own writes and reads by id (its SQLite). */
  indexMs: number;
  /** Milliseconds of the index object's queries (a brute-force scan of the store's vectors). */
  indexQueryMs: number;
}

const emptyStats = (): StandInStats => ({
  embedCalls: 0,
  textsEmbedded: 0,
  maxTextsPerCall: 0,
  upsertCalls: 0,
  vectorsUpserted: 0,
  deleteCalls: 0,
  idsDeleted: 0,
  queryCalls: 0,
  getCalls: 0,
  idsRead: 0,
  rerankCalls: 0,
  maxContextsPerRerankCall: 0,
  embedderMs: 0,
  indexMs: 0,
  indexQueryMs: 0,
});

const state = { faults: {} as Required<Pick<FaultPlan, "failNext">> & FaultPlan, stats: emptyStats() };
state.faults.failNext = {};

export function setFaults(plan: FaultPlan): void {
  state.faults = {
    failNext: { ...(plan.failNext ?? {}) },
    failUpsertOfRecords: plan.failUpsertOfRecords,
    halfApplyNext: plan.halfApplyNext,
    delayMs: plan.delayMs,
  };
}

export function clearFaults(): void {
  setFaults({});
}

/** Throws when a fault is planned for this call (after the planned delay). */
export async function maybeFail(target: FaultTarget, recordIds: string[] = []): Promise<void> {
  const targeted = target === "upsert" && (state.faults.failUpsertOfRecords ?? []).some((id) => recordIds.includes(id));
  const remaining = state.faults.failNext[target] ?? 0;
  if (remaining <= 0 && !targeted) return;
  if (!targeted) state.faults.failNext[target] = remaining - 1;
  if (state.faults.delayMs) await new Promise((resolve) => setTimeout(resolve, state.faults.delayMs));
  throw new Error(`injected fault: ${target} unavailable`);
}

/** True (once per planned fault) when this upsert should store half its vectors and then fail. */
export function takeHalfApply(): boolean {
  if (!state.faults.halfApplyNext) return false;
  state.faults.halfApplyNext -= 1;
  return true;
}

export function stats(): StandInStats {
  return { ...state.stats };
}

export function resetStats(): void {
  state.stats = emptyStats();
}

export function record(update: (s: StandInStats) => void): void {
  update(state.stats);
}

/**
 * Runs `work` and adds its duration to the stand-ins' own time (`field`): work production does not
 * do in the Worker (Workers AI and Vectorize do it), which the bench reports apart from the
 * engine's CPU. Locally workerd's clock advances during CPU work, so this is CPU time.
 */
export function timed<T>(field: "embedderMs" | "indexMs" | "indexQueryMs", work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    const ms = performance.now() - started;
    state.stats[field] += ms;
  }
}
