import type { Bindings } from "../env";
import { defaultSleep, type RetryPolicy } from "./retry";
import type { VectorDeps } from "./vector-sync";

export function retryPolicy(env: Pick<Bindings, "UPSTREAM_RETRY_BASE_MS">): RetryPolicy {
  const base = Number(env.UPSTREAM_RETRY_BASE_MS ?? "200");
  return { attempts: 4, baseDelayMs: Number.isFinite(base) ? base : 200, sleep: defaultSleep };
}

/** The embedding and index dependencies of the sync engine and search, from the worker's bindings. */
export function vectorDeps(env: Bindings): VectorDeps {
  const inFlight = Number(env.EMBED_CALLS_IN_FLIGHT);
  return {
    ai: env.AI,
    index: env.VECTORIZE,
    retry: retryPolicy(env),
    ...(Number.isInteger(inFlight) && inFlight >= 1 ? { embedCallsInFlight: inFlight } : {}),
  };
}
