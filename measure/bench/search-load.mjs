// search_16: one store's searches under load. 16 concurrent searchers on a store of 5000 records,
// first with nothing else running (idle), then while a 5000-operation sync of 5000 new records
// runs in the same store; and one searcher alone, to see whether 16 get more searches a second
// than one (throughput that one object would cap). Two kinds of search, top_k 10: keyword (the
// service's own path: the Worker, a search object, the keyword index and the ledger in D1) and
// hybrid, the default for a text query, which adds the query's embedding and a Vectorize query,
// both answered locally by the stand-ins (the index stand-in scans every vector of the store in
// one object: its time is reported apart). Every search must answer 10 hits: an empty or short
// answer during the sync would be a fault, not a fast search.

const SEARCHERS = 16;
/** Searches per searcher when idle: 16 x 10 = 160 latencies a run for the p99. */
const IDLE_PER_SEARCHER = 10;
/** Searches of the one searcher alone. */
const SOLO_SEARCHES = 40;

/** The value below which `p` of the samples fall (nearest rank). */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/** The queries: each record's name without its `#n` tail (five words of the bench's vocabulary). */
export function searchQueries(ops, count = 200) {
  return ops.slice(0, count).map((op) => op.data.name.replace(/ #\d+.*$/, ""));
}

/**
 * `count` searchers, each searching one query after another while `more(done)` says so (`done`:
 * how many searches that searcher has made); the latency of every search, and the wall time.
 */
async function searchers({ search, queries, count, more }) {
  const latencies = [];
  // Checked once every searcher has stopped: a throw here would leave the others searching.
  const failures = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      for (let done = 0; more(done); done++) {
        const query = queries[next++ % queries.length];
        const t = performance.now();
        const answer = await search(query);
        latencies.push(performance.now() - t);
        if (answer.results.length !== 10) failures.push(`"${query}" answered ${answer.results.length} hits, expected 10`);
      }
    }),
  );
  if (failures.length > 0) throw new Error(`search_16: ${failures.length} short answers, e.g. ${failures[0]}`);
  return { latencies, ms: performance.now() - started };
}

const summary = ({ latencies, ms }) => ({
  searches: latencies.length,
  p50_ms: Math.round(percentile(latencies, 0.5)),
  p99_ms: Math.round(percentile(latencies, 0.99)),
  searches_per_s: Math.round(latencies.length / (ms / 1000)),
});

/**
 * One run of search_16 on `store` (already holding the records `queries` come from): `search(q)`
 * searches it, `sync()` starts the 5000-operation sync and resolves when it has answered.
 */
export async function searchLoadRun({ search, sync, queries }) {
  const solo = await searchers({ search, queries, count: 1, more: (done) => done < SOLO_SEARCHES });
  const idle = await searchers({ search, queries, count: SEARCHERS, more: (done) => done < IDLE_PER_SEARCHER });
  let syncing = true;
  const syncStarted = performance.now();
  const syncDone = sync().finally(() => {
    syncing = false;
  });
  // Each searcher keeps searching until the sync has answered (and makes at least one search).
  const during = await searchers({ search, queries, count: SEARCHERS, more: (done) => done === 0 || syncing });
  const response = await syncDone;
  return { solo, idle, during, sync_ms: performance.now() - syncStarted, response };
}

/** Medians over the runs of each phase's figures, and the two ratios the target is set on. */
export function summarizeSearchLoad(runs, median) {
  const phase = (name) => {
    const each = runs.map((r) => summary(r[name]));
    return Object.fromEntries(Object.keys(each[0]).map((k) => [k, Math.round(median(each.map((e) => e[k])))]));
  };
  const solo = phase("solo");
  const idle = phase("idle");
  const during = phase("during");
  return {
    searchers: SEARCHERS,
    solo,
    idle,
    during_sync: { ...during, sync_ms: Math.round(median(runs.map((r) => r.sync_ms))) },
    // Target: p99 during the sync within 2x of idle.
    p99_during_vs_idle: Number((during.p99_ms / idle.p99_ms).toFixed(2)),
    // Throughput of 16 searchers against one: 1 would mean one thread serves them all.
    throughput_16_vs_1: Number((idle.searches_per_s / solo.searches_per_s).toFixed(2)),
  };
}
