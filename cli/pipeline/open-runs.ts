/**
 * Continuing a stream's unfinished full_refresh run instead of starting a new one.
 *
 * When an attempt fails after some of a refreshed stream's parts were committed (and states
 * emitted), the pipeline runs again from the last state, and a source that resumes (Airbyte's
 * resumable full refresh, a Singer tap resuming a version) sends only what came after it. A new
 * run (a later sync_timestamp) would sweep everything the failed attempt committed and the new one
 * does not send again. So a stream's first run of a write looks for the newest run still open that
 * names exactly its namespace, and continues it (same sync_timestamp: its parts and final join the
 * open run). A source that restarts from scratch sends every record again, so continuing costs
 * nothing; records the failed attempt sent that no longer exist are then swept by the next sync.
 *
 * Bounded: the newest MAX_PAGES pages of the store's syncs, at most MAX_RUNS runs read.
 */
import type { SyncClient } from "../../src/client/index";
import { PipelineFailure } from "./writer";
import { type RetryPolicy, backoffMs, isRetryable, parseRetryAfter } from "../retry";

const PAGE = 100;
const MAX_PAGES = 5;
const MAX_RUNS = 20;

export async function findOpenRuns(
  client: SyncClient,
  store: string,
  namespaces: ReadonlySet<string>,
  policy: RetryPolicy,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (namespaces.size === 0) return found;
  const timestamps: string[] = [];
  const seen = new Set<string>();
  const fail = (what: string, reason: string) => new PipelineFailure(`looking for unfinished runs (${what}): ${reason}`, true);
  // Retried as a sync request is (429, 502, 503, 504, network errors; Retry-After honoured).
  const guarded = async <T extends { response: Response }>(what: string, call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let wait: number | null = null;
      try {
        const r = await call();
        if (!isRetryable(r.response.status, null)) return r;
        reason = `${r.response.status} ${r.response.statusText}`;
        wait = parseRetryAfter(r.response.headers.get("Retry-After"));
      } catch (err) {
        reason = `network error: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`;
      }
      if (attempt >= policy.attempts) throw fail(what, `gave up after ${attempt} attempts; last: ${reason}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait ?? backoffMs(attempt, policy), policy.maxRetryAfterMs)));
    }
  };

  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES && timestamps.length < MAX_RUNS; page++) {
    const r = await guarded("listing syncs", () =>
      client.GET("/v1/connectors/pipeline/syncs", {
        params: { query: { vector_store_id: store, limit: PAGE, ...(cursor ? { cursor } : {}) } },
        signal: AbortSignal.timeout(30_000),
      }),
    );
    if (!r.data) throw fail("listing syncs", `${r.response.status} ${JSON.stringify(r.error).slice(0, 300)}`);
    for (const s of r.data.syncs) {
      // A part (final false) of a full_refresh run: the run may still be open.
      if (s.sync_mode !== "full_refresh" || s.final !== false || seen.has(s.sync_timestamp)) continue;
      seen.add(s.sync_timestamp);
      timestamps.push(s.sync_timestamp);
    }
    if (!r.data.next_cursor) break;
    cursor = r.data.next_cursor;
  }

  for (const ts of timestamps.slice(0, MAX_RUNS)) {
    const r = await guarded("reading a run", () =>
      client.GET("/v1/connectors/pipeline/runs/{vector_store_id}/{sync_timestamp}", {
        params: { path: { vector_store_id: store, sync_timestamp: ts } },
        signal: AbortSignal.timeout(30_000),
      }),
    );
    if (!r.data) continue;
    // Exactly one namespace: a run of several (a push's) would sweep the others too when finished here.
    const [only, ...rest] = r.data.namespaces;
    if (r.data.state === "open" && only !== undefined && rest.length === 0 && namespaces.has(only) && !found.has(only)) {
      found.set(only, r.data.sync_timestamp);
    }
    if (found.size === namespaces.size) break;
  }
  return found;
}
