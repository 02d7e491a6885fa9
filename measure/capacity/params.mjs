// The figures of the capacity model (npm run capacity): measured here (CALIBRATION, by
// calibrate), measured elsewhere in this repository, assumed, Cloudflare's limits, and the
// workload's defaults. Every number the model uses is one of these.
// --- measured here -------------------------------------------------------------------------------
/**
 * D1 busy time, from `npm run capacity -- --calibrate` on this project's machine (2 vCPU AMD EPYC,
 * Node 20, better-sqlite3 12, a store of 50,000 records; medians). ms = fixed + perOp x n, the
 * line through n = 50 and n = 5000 (n = 500, printed too, lies near it except for touches, which
 * cost more per row there). Only the time inside the transaction: what occupies the database, not
 * the Worker's serialisation of the rows.
 */
export const CALIBRATION = {
  source: "npm run capacity -- --calibrate (better-sqlite3, project SQL), 2026-11-29, median of 3 runs",
  read: { fixedMs: 0.23, perOpMs: 0.0058 }, // loadLedger: the planning read, per key (0.48 / 3.9 / 29 ms for 50 / 500 / 5000)
  write: { fixedMs: 0, perOpMs: 0.082 }, // commitPlan: new or changed record, state + body + sweep index (2.4 / 29 / 408 ms)
  touch: { fixedMs: 0.1, perOpMs: 0.0417 }, // commitPlan: unchanged record seen again, random rows (1.9 / 54 / 208 ms)
  syncRowBytes: 686, // a stored sync result (syncs row and its indexes) of a small sync, on disk
  pointReadMs: 0.0049, // one indexed point read (revoked_api_keys), SQLite's time
};

/** Measured elsewhere in this repository (docs/storage.md, docs/measurements.md#performance, measure/bench/). */
export const MEASURED_ELSEWHERE = {
  bytesPerRecord: 1711, // docs/storage.md, npm run storage: new layout (4,982 before migration 0002)
  bytesPerRecordOld: 4982,
  chunksPerRecord: 6260 / 5000, // bench records: 6260 chunks for 5000 records
  // Engine CPU (docs/measurements.md, phase profile, BENCH_PROFILE=1, 5000 operations): body read +
  // split + check operations + plan, about 185 ms of 5000 ops in every scenario; ids + text and
  // chunks, 140 ms for 5000 new records (33 ms for 500 changed in changed_10pct: 0.066 ms each).
  cpuPerOpMs: 0.037,
  cpuPerChangedMs: 0.03,
};

// --- assumed (production figures this machine cannot measure) ------------------------------------
export const ASSUMED = {
  d1RoundTripMs: 1, // occupancy of a D1 database per query or batch beyond SQLite's own time (Cloudflare's example: 1 ms a query, 1,000 queries/s)
  d1NetworkMs: 10, // Worker or Durable Object to the database's primary and back: a delay, not occupancy
  aiCallMs: 300, // one Workers AI embedding call of up to 100 texts (bge-base)
  vectorizeCallMs: 100, // one Vectorize upsert of up to 1000 vectors (asynchronous in the index: the call returns)
  catalogReadsPerSync: 2, // API-key revocation check + the store's row (placement), one round trip each (the API-key check, the store lookup)
  idempotencyFraction: 0.5, // share of syncs with an Idempotency-Key: one catalog round trip to reserve, one to complete
  d1QueueLimitMs: 5000, // a D1 request that would queue longer is refused ("overloaded"); Cloudflare publishes no figure
};

export const LIMITS = {
  d1BytesPerDatabase: 10e9,
  fillTarget: 0.7,
  aiCallsPerMinute: 3000,
  textsPerCall: 100,
  embedCallsInFlight: 8,
  vectorsPerIndex: 10e6, // 20M since Aug 2026 (Vectorize's limits page); the model keeps the lower figure unless --index-vectors
  vectorsPerUpsert: 1000,
  syncsPerMinutePerOrg: 100,
};

export const DEFAULTS = {
  seed: 1,
  shards: [1, 8, 64],
  indexes: 0, // 0: one Vectorize index per shard
  stores: [1000, 10_000, 100_000, 1_000_000],
  intervalS: 600, // each store syncs on average once every 10 minutes (Poisson)
  storesPerOrg: 1,
  smallOps: 50,
  smallChanged: 0.02, // each operation of a small sync is a changed record with this probability
  largeOps: 5000,
  largeChanged: 0.1,
  largeFraction: 0.02,
  warmupS: 20,
  durationS: 60, // measured seconds at least...
  minSyncs: 5000, // ...and long enough for about this many arrivals...
  maxDurationS: 3600, // ...but at most this
  aiRetryBudgetMs: 1400, // the engine retries a refused call 3 times, 200 + 400 + 800 ms (the embedding deps' retry)
  idempotencyOnShard: false,
  sloMs: 1000, // max sustained: the p99 wait of a small sync may not pass this
  ingest: 1_000_000, // new records a day, service-wide, for the days-to-70% table
  syncsPerDay: 100_000, // stored sync results a day, service-wide (kept retentionDays)
  retentionDays: 30,
  aiCallsPerMinute: LIMITS.aiCallsPerMinute,
  indexVectors: LIMITS.vectorsPerIndex,
  indexWriteVps: 0, // Vectorize applies mutations per index at this many vectors/s (0: not modelled; none published)
  ...ASSUMED,
  ...MEASURED_ELSEWHERE,
  calibration: CALIBRATION,
};
