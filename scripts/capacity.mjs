#!/usr/bin/env node
// `npm run capacity`: a small discrete-event model of the service at scale (docs/capacity.md).
//
// What it models, per sync request (issue 12's design: one catalog D1, N ledger D1 shards, each
// store placed on one shard and one of M Vectorize indexes):
//   catalog D1 (one, single writer: API-key revocation check, store lookup, Idempotency-Key
//   reservation) -> the store's Durable Object (one sync at a time per store; engine CPU per
//   operation) -> ledger read on the store's shard (single writer: busy a + b x keys) -> Workers
//   AI embedding calls under the account-wide rate limit (3,000 calls/min, 100 texts a call,
//   EMBED_CALLS_IN_FLIGHT=8 per sync) -> Vectorize upserts into the store's index -> ledger commit
//   on the shard (busy a + b x operations, by kind: write, touch) -> Idempotency-Key completion.
// A D1 database runs one query at a time: a request occupies it for its service time, and waits
// behind the others (FIFO). Network latency delays a sync but does not occupy the database.
//
// Calibration: the D1 busy times per operation are SQLite's own time for the project's SQL
// (loadLedger and commitPlan of src/db/ledger.ts over better-sqlite3, a 4 KiB-page file like D1),
// measured by `npm run capacity -- --calibrate` and recorded in CALIBRATION below, so that the
// default run is deterministic. The engine CPU per operation comes from the bench's phase profile
// (docs/performance.md). Everything else (D1's fixed cost per round trip, network and Workers AI
// latencies, the workload) is assumed: see ASSUMED and docs/capacity.md.
//
// Usage: node scripts/capacity.mjs [--shards=1,8,64] [--stores=1000,10000,100000,1000000]
//   [--interval-s=600] [--ingest=1000000] [--seed=1] [--duration-s=60] ... (--help lists all;
//   each flag also reads CAPACITY_<NAME>, e.g. CAPACITY_INGEST=5000000). --calibrate measures first.
// Prints the tables, then one JSON line.
import { fileURLToPath } from "node:url";
import { rng } from "../bench/records.mjs";
import { d1Shim, importLedger } from "./d1-shim.mjs";

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

/** Measured elsewhere in this repository (docs/storage.md, docs/performance.md, bench/). */
export const MEASURED_ELSEWHERE = {
  bytesPerRecord: 1711, // docs/storage.md, npm run storage: new layout (4,982 before migration 0002)
  bytesPerRecordOld: 4982,
  chunksPerRecord: 6260 / 5000, // bench records: 6260 chunks for 5000 records
  // Engine CPU (docs/performance.md phase profile, BENCH_PROFILE=1, 5000 operations): body read +
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
  catalogReadsPerSync: 2, // API-key revocation check + the store's row (placement), one round trip each (src/middleware, src/db/vector-stores.ts)
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
  aiRetryBudgetMs: 1400, // the engine retries a refused call 3 times, 200 + 400 + 800 ms (src/vectors/deps.ts)
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

// --- seeded randomness ---------------------------------------------------------------------------
/** mulberry32, seeded: the bench's own (bench/records.mjs). */
export { rng };

function binomial(random, n, p) {
  if (p <= 0) return 0;
  if (n <= 200) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  // Normal approximation (Box-Muller), clamped: large syncs only.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(n, Math.max(0, Math.round(n * p + z * Math.sqrt(n * p * (1 - p)))));
}

/** One sync's shape: operations, changed records (embedded and written), texts, AI calls. */
function drawSync(random, p) {
  const large = random() < p.largeFraction;
  const ops = large ? p.largeOps : p.smallOps;
  const changed = binomial(random, ops, large ? p.largeChanged : p.smallChanged);
  const exact = changed * p.chunksPerRecord;
  const texts = Math.floor(exact) + (random() < exact - Math.floor(exact) ? 1 : 0);
  return { large, ops, changed, texts, calls: Math.ceil(texts / LIMITS.textsPerCall) };
}

// --- service times -------------------------------------------------------------------------------
const c = (p) => p.calibration;
export const readBusyMs = (p, s) => p.d1RoundTripMs + c(p).read.fixedMs + s.ops * c(p).read.perOpMs;
export const commitBusyMs = (p, s) =>
  p.d1RoundTripMs + c(p).write.fixedMs + s.changed * c(p).write.perOpMs + (s.ops - s.changed) * c(p).touch.perOpMs;
export const catalogBusyMs = (p, trips) => trips * (p.d1RoundTripMs + c(p).pointReadMs);
const cpuMs = (p, s) => s.ops * p.cpuPerOpMs + s.changed * p.cpuPerChangedMs;

/**
 * Where the workload saturates each resource, from the mean demand of a sync (seeded Monte
 * Carlo over the same sync shapes the simulation draws): syncs per second.
 */
export function capacities(p0, shards = 1) {
  const p = { ...DEFAULTS, ...p0 };
  const random = rng(p.seed ^ 0x5eed);
  const n = 50_000;
  let shard = 0;
  let calls = 0;
  let smallShard = 0;
  let smalls = 0;
  for (let i = 0; i < n; i++) {
    const s = drawSync(random, p);
    const busy = readBusyMs(p, s) + commitBusyMs(p, s) + (p.idempotencyOnShard ? p.idempotencyFraction * p.d1RoundTripMs : 0);
    shard += busy;
    calls += s.calls;
    if (!s.large) {
      smallShard += busy;
      smalls++;
    }
  }
  const catalogTrips = p.catalogReadsPerSync + (p.idempotencyOnShard ? 0 : 2 * p.idempotencyFraction);
  const aiPerS = p.aiCallsPerMinute / 60;
  return {
    shardBusyMs: shard / n,
    smallShardBusyMs: smallShard / smalls,
    perShard: (1000 * n) / shard,
    shards: (1000 * n * shards) / shard,
    catalog: catalogTrips > 0 ? 1000 / catalogBusyMs(p, catalogTrips) : Number.POSITIVE_INFINITY,
    ai: calls > 0 ? (aiPerS * n) / calls : Number.POSITIVE_INFINITY,
    aiCallsPerSync: calls / n,
  };
}

// --- the event queue -----------------------------------------------------------------------------
class Heap {
  constructor() {
    this.t = [];
    this.q = [];
    this.v = [];
    this.seq = 0;
  }
  get size() {
    return this.t.length;
  }
  /** Earlier first; equal times in the order pushed (deterministic). */
  push(time, value) {
    const seq = ++this.seq;
    const { t, q, v } = this;
    let i = t.length;
    t.push(time);
    q.push(seq);
    v.push(value);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (t[up] < time || (t[up] === time && q[up] < seq)) break;
      t[i] = t[up];
      q[i] = q[up];
      v[i] = v[up];
      i = up;
    }
    t[i] = time;
    q[i] = seq;
    v[i] = value;
  }
  /** Removes the earliest; its time is in `time`, its value returned. */
  pop() {
    const { t, q, v } = this;
    this.time = t[0];
    const value = v[0];
    const lt = t.pop();
    const lq = q.pop();
    const lv = v.pop();
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && (t[child + 1] < t[child] || (t[child + 1] === t[child] && q[child + 1] < q[child]))) child++;
        if (t[child] > lt || (t[child] === lt && q[child] > lq)) break;
        t[i] = t[child];
        q[i] = q[child];
        v[i] = v[child];
        i = child;
      }
      t[i] = lt;
      q[i] = lq;
      v[i] = lv;
    }
    return value;
  }
}

const quantile = (sorted, q) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

// Phases of a sync, in order.
const ARRIVE = 0;
const CATALOG_DONE = 1;
const CPU_DONE = 2;
const READ_DONE = 3;
const CALL_DONE = 4;
const VECTORS_DONE = 5;
const COMMIT_DONE = 6;
const COMPLETE_DONE = 7;

/** The measured window: at least durationS, long enough for about minSyncs arrivals, at most maxDurationS. */
export function windowSeconds(p, lambda) {
  return Math.min(p.maxDurationS, Math.max(p.durationS, p.minSyncs / lambda));
}

/**
 * Simulates `stores` stores on `shards` ledger shards and `indexes` indexes: warmupS, then a
 * measured window of Poisson arrivals (windowSeconds), then every sync still running finishes.
 * Overload is shed as production sheds it: a D1 request that would wait longer than
 * d1QueueLimitMs is refused (D1's "overloaded"), an embedding call that cannot start within
 * aiRetryBudgetMs fails after the engine's retries, and either way the sync answers 503 (counted
 * in `shed`; its client's retry is not modelled). Deterministic for a seed: arrivals and sync
 * shapes come from one stream that does not depend on shards or indexes.
 */
export function simulate(p0) {
  const p = { ...DEFAULTS, ...p0 };
  const shards = p.shards;
  const indexes = p.indexes > 0 ? p.indexes : shards;
  const lambda = p.ratePerS ?? p.stores / p.intervalS; // syncs per second, service-wide
  const random = rng(p.seed);
  const heap = new Heap();
  const w0 = p.warmupS * 1000;
  const window = windowSeconds(p, lambda) * 1000;
  const w1 = w0 + window;
  const inWindow = (t) => t >= w0 && t < w1;

  const shardFree = new Float64Array(shards);
  const shardBusy = new Float64Array(shards);
  let catalogFree = 0;
  let catalogBusy = 0;
  const aiSpacing = 60_000 / p.aiCallsPerMinute;
  let aiNext = 0;
  let aiCallsInWindow = 0;
  const indexVectors = new Float64Array(indexes);
  const indexFree = new Float64Array(indexes);
  const indexLags = [];
  /** store id -> queue of syncs waiting for its Durable Object (absent: idle). */
  const storeQueues = new Map();
  const orgWindows = new Map();

  let arrivals = 0;
  let refused = 0;
  let shed = 0;
  let completed = 0;
  const smallWaits = [];
  const smallShardWaits = [];
  let maxStoreQueue = 0;

  /**
   * A D1 database (FIFO, one request at a time) as a virtual clock: exact for FIFO, since
   * requests reach it in time order. Returns when the answer is back, or -1 when refused.
   */
  const useShard = (sync, now, busy) => {
    const start = Math.max(now, shardFree[sync.shard]);
    if (start - now > p.d1QueueLimitMs) return -1;
    shardFree[sync.shard] = start + busy;
    if (inWindow(start)) shardBusy[sync.shard] += busy;
    sync.wait += start - now;
    sync.shardWait += start - now;
    return start + busy + p.d1NetworkMs;
  };
  const useCatalog = (sync, now, trips) => {
    if (trips === 0) return now;
    const busy = catalogBusyMs(p, trips);
    const start = Math.max(now, catalogFree);
    if (start - now > p.d1QueueLimitMs) return -1;
    catalogFree = start + busy;
    if (inWindow(start)) catalogBusy += busy;
    sync.wait += start - now;
    return start + busy + trips * p.d1NetworkMs;
  };
  /** The account's rate limit as a FIFO token clock: a call starts at the next free token. */
  const issueCall = (sync, now) => {
    const start = Math.max(now, aiNext);
    aiNext = start + aiSpacing;
    if (inWindow(start)) aiCallsInWindow++;
    sync.issued++;
    sync.phase = CALL_DONE;
    heap.push(start + p.aiCallMs, sync);
  };
  const next = (sync, at, phase) => {
    if (at < 0) finish(sync, false);
    else {
      sync.phase = phase;
      heap.push(at, sync);
    }
  };
  let clock = 0;
  /** The sync ends (answered, or 503): its store's object takes the next one. */
  const finish = (sync, ok) => {
    const now = clock;
    if (ok) {
      if (inWindow(now)) completed++;
      if (!sync.large && inWindow(sync.arrived)) {
        smallWaits.push(sync.wait);
        smallShardWaits.push(sync.shardWait);
      }
    } else if (inWindow(now)) shed++;
    if (!sync.inStore) return;
    const queue = storeQueues.get(sync.store);
    const following = queue.shift();
    if (following) {
      following.wait += now - following.queuedAt;
      startInStore(following, now);
    } else storeQueues.delete(sync.store);
  };
  const startInStore = (sync, now) => {
    sync.inStore = true;
    next(sync, now + cpuMs(p, sync), CPU_DONE);
  };

  const arrival = { phase: ARRIVE };
  heap.push(-Math.log(1 - random()) * (1000 / lambda), arrival);

  while (heap.size > 0) {
    const sync = heap.pop();
    const now = heap.time;
    clock = now;
    switch (sync.phase) {
      case ARRIVE: {
        const following = now - Math.log(1 - random()) * (1000 / lambda);
        if (following < w1) heap.push(following, arrival);
        const store = Math.floor(random() * p.stores);
        const shape = drawSync(random, p);
        const idempotent = random() < p.idempotencyFraction;
        if (inWindow(now)) arrivals++;
        // The service's own rate limit: 100 syncs a minute per organization (fixed windows here).
        const org = Math.floor(store / p.storesPerOrg);
        const minute = Math.floor(now / 60_000);
        const seen = orgWindows.get(org);
        const count = seen && seen.minute === minute ? seen.count + 1 : 1;
        orgWindows.set(org, { minute, count });
        if (count > LIMITS.syncsPerMinutePerOrg) {
          if (inWindow(now)) refused++;
          break;
        }
        const s = {
          phase: ARRIVE,
          large: shape.large,
          ops: shape.ops,
          changed: shape.changed,
          texts: shape.texts,
          calls: shape.calls,
          arrived: now,
          store,
          shard: store % shards,
          index: store % indexes,
          idempotent,
          inStore: false,
          wait: 0,
          shardWait: 0,
          queuedAt: 0,
          embedStart: 0,
          issued: 0,
          answered: 0,
        };
        next(s, useCatalog(s, now, p.catalogReadsPerSync + (idempotent && !p.idempotencyOnShard ? 1 : 0)), CATALOG_DONE);
        break;
      }
      case CATALOG_DONE: {
        const queue = storeQueues.get(sync.store);
        if (queue) {
          sync.queuedAt = now;
          queue.push(sync);
          if (queue.length > maxStoreQueue) maxStoreQueue = queue.length;
        } else {
          storeQueues.set(sync.store, []);
          startInStore(sync, now);
        }
        break;
      }
      case CPU_DONE:
        // Idempotency-Key kept on the shard: its reservation is one more round trip there (its
        // completion rides in the commit's batch, as in src/db/ledger.ts).
        next(sync, useShard(sync, now, readBusyMs(p, sync) + (sync.idempotent && p.idempotencyOnShard ? p.d1RoundTripMs : 0)), READ_DONE);
        break;
      case READ_DONE:
        sync.embedStart = now;
        if (sync.calls === 0) next(sync, now + (sync.changed > 0 ? p.vectorizeCallMs : 0), VECTORS_DONE);
        else if (Math.max(now, aiNext) - now > p.aiRetryBudgetMs) finish(sync, false);
        else for (let i = 0; i < Math.min(LIMITS.embedCallsInFlight, sync.calls); i++) issueCall(sync, now);
        break;
      case CALL_DONE:
        sync.answered++;
        if (sync.issued < sync.calls) issueCall(sync, now);
        else if (sync.answered === sync.calls) {
          // Waiting for the account's rate limit, beyond the calls' own time at 8 in flight.
          const ideal = Math.ceil(sync.calls / LIMITS.embedCallsInFlight) * p.aiCallMs;
          sync.wait += Math.max(0, now - sync.embedStart - ideal);
          // Index pool: the vectors land in the store's index; its mutation backlog, if modelled.
          indexVectors[sync.index] += sync.texts;
          if (p.indexWriteVps > 0) {
            const start = Math.max(now, indexFree[sync.index]);
            indexFree[sync.index] = start + (1000 * sync.texts) / p.indexWriteVps;
            if (inWindow(now)) indexLags.push(indexFree[sync.index] - now);
          }
          // The last upsert follows the last answer; the earlier ones overlapped the embedding.
          next(sync, now + p.vectorizeCallMs, VECTORS_DONE);
        }
        break;
      case VECTORS_DONE:
        next(sync, useShard(sync, now, commitBusyMs(p, sync)), COMMIT_DONE);
        break;
      case COMMIT_DONE:
        if (sync.idempotent && !p.idempotencyOnShard) {
          next(sync, useCatalog(sync, now, 1), COMPLETE_DONE);
          break;
        }
        finish(sync, true);
        break;
      case COMPLETE_DONE:
        finish(sync, true);
        break;
    }
  }

  smallWaits.sort((a, b) => a - b);
  smallShardWaits.sort((a, b) => a - b);
  indexLags.sort((a, b) => a - b);
  const util = {
    shard: Math.max(...shardBusy) / window,
    catalog: catalogBusy / window,
    ai: (aiCallsInWindow * aiSpacing) / window,
  };
  const seconds = window / 1000;
  return {
    shards,
    indexes,
    stores: p.stores,
    offered: arrivals / seconds,
    sustained: completed / seconds,
    shed: shed / seconds,
    refused: refused / seconds,
    windowS: seconds,
    p50WaitMs: quantile(smallWaits, 0.5),
    p99WaitMs: quantile(smallWaits, 0.99),
    p99ShardWaitMs: quantile(smallShardWaits, 0.99),
    p99IndexLagMs: p.indexWriteVps > 0 ? quantile(indexLags, 0.99) : null,
    util,
    /** Resources busy 95% of the window or more. */
    saturated: Object.keys(util).filter((k) => util[k] >= 0.95),
    maxStoreQueue,
    maxIndexVectors: Math.max(...indexVectors),
  };
}

/**
 * The highest rate (syncs/s) `shards` shards sustain: bisection for the largest rate at which at
 * most 1% of syncs are shed or refused and a small sync's p99 wait stays within sloMs. Searched
 * between 0 and 1.5 times the lowest capacity of capacities(); stores: 1,000,000 (a sync rarely
 * waits for its own store's previous one).
 */
export function maxSustained(p0, shards, { iterations = 8 } = {}) {
  const p = { ...DEFAULTS, warmupS: 10, durationS: 30, minSyncs: 3000, ...p0, shards, stores: 1_000_000 };
  const cap = capacities(p, shards);
  let lo = 0;
  let hi = 1.5 * Math.min(cap.shards, cap.catalog, cap.ai);
  let best = null;
  for (let i = 0; i < iterations; i++) {
    const rate = (lo + hi) / 2;
    const r = simulate({ ...p, ratePerS: rate });
    if (r.shed + r.refused <= 0.01 * r.offered && r.p99WaitMs <= p.sloMs) {
      lo = rate;
      best = r;
    } else hi = rate;
  }
  return { rate: lo, at: best, capacities: cap };
}

// --- storage: days until a shard reaches 70% ------------------------------------------------------
/**
 * Days until one shard holds fillTarget x 10 GB, when `ingest` new records a day spread evenly
 * over `shards` (least-full placement) and `syncsPerDay` stored sync results are kept
 * `retentionDays` (their steady-state bytes are taken off the room first).
 */
export function daysToFill(p0, shards) {
  const p = { ...DEFAULTS, ...p0 };
  const room = LIMITS.fillTarget * LIMITS.d1BytesPerDatabase;
  const resultBytes = ((p.syncsPerDay * p.retentionDays) / shards) * p.calibration.syncRowBytes;
  const perDay = (p.ingest / shards) * p.bytesPerRecord;
  const indexes = p.indexes > 0 ? p.indexes : shards;
  return {
    shards,
    recordsAt70: Math.max(0, room - resultBytes) / p.bytesPerRecord,
    resultBytes,
    days: perDay > 0 ? Math.max(0, room - resultBytes) / perDay : Number.POSITIVE_INFINITY,
    indexDays: p.ingest > 0 ? p.indexVectors / ((p.ingest * p.chunksPerRecord) / indexes) : Number.POSITIVE_INFINITY,
  };
}

// --- calibration ---------------------------------------------------------------------------------
/**
 * Measures the D1 busy times of CALIBRATION with the project's own SQL: loadLedger and
 * commitPlan (src/db/ledger.ts, bundled with esbuild) over better-sqlite3 behind a D1-shaped shim,
 * in a file with schema.sql, a store of `prefill` records. Times only the transaction.
 */
export async function calibrate({ prefill = 50_000, syncRows = 20_000, log = console.log } = {}) {
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const Database = (await import("better-sqlite3")).default;
  const root = fileURLToPath(new URL("..", import.meta.url));
  const { loadLedger, commitPlan } = await importLedger();

  const schema = readFileSync(join(root, "schema.sql"), "utf8");
  const tmp = mkdtempSync(join(tmpdir(), "capacity-"));
  try {
    let lastBatchMs = 0;
    const open = (name) => {
      const sqlite = new Database(join(tmp, name));
      sqlite.pragma("journal_mode = WAL");
      sqlite.exec(schema);
      const db = d1Shim(sqlite, {
        onBatch: (ms) => {
          lastBatchMs = ms;
        },
      });
      return { sqlite, db };
    };

    const STORE = "vs_0123456789abcdef01234567";
    const NS = "clickup_tasks";
    const words = "the sync ledger record vector index embed chunk store namespace refresh version client pipeline".split(" ");
    const random = rng(7);
    const text = (n) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(" ");
    const data = (i, revision) =>
      JSON.stringify({ name: `Task ${i}`, description: text(125), status: "open", priority: i % 5, revision, tags: [text(1), text(1)] });
    const id = (i) => `task_${String(i).padStart(7, "0")}`;
    let hour = 0;
    let syncs = 0;
    const ts = () => {
      hour++;
      return `2026-01-${String(1 + Math.floor(hour / 24)).padStart(2, "0")}T${String(hour % 24).padStart(2, "0")}:00:00.000000000Z`;
    };
    const smallResult = {
      status: "success",
      sync_id: "sync_0123456789abcdef01234567",
      processed: 50,
      results: { upserted: 1, deleted: 0, unchanged: 49, failed: 0 },
      by_namespace: { clickup_tasks: { upserted: 1, deleted: 0, unchanged: 49, failed: 0 } },
      processing_time_ms: 412,
      errors: [],
    };
    const sync = (version) => ({
      id: `sync_${String(++syncs).padStart(24, "0")}`,
      organizationId: "org_abc123",
      vectorStoreId: STORE,
      mode: "incremental",
      syncTimestamp: version,
      status: "success",
      result: smallResult,
      mutationIds: ["m_0123456789abcdef"],
    });
    const commit = async (db, writes, touches) => {
      const version = ts();
      const plan = {
        writes: writes.map((i) => ({
          namespace: NS,
          id: id(i),
          key: `${NS}\u0000${id(i)}`,
          version,
          updatedAt: null,
          record: {
            data: data(i, hour),
            file: null,
            createdAt: null,
            sourceSystem: null,
            text: null,
            metadata: null,
            vector: null,
            contentHash: Buffer.from(`${i}:${hour}`).toString("base64").padEnd(44, "="),
          },
          previousChunkCount: 1,
          chunkCount: 1,
        })),
        touches: touches.map((i) => ({ namespace: NS, id: id(i), version, updatedAt: null })),
        sweeps: [],
        refreshedNamespaces: [],
      };
      await commitPlan(db, plan, sync(version), version);
      return lastBatchMs;
    };
    const range = (from, n) => Array.from({ length: n }, (_, k) => from + k);
    const pick = (n) => Array.from({ length: n }, () => Math.floor(random() * prefill));
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

    const { sqlite, db } = open("ledger.sqlite");
    const started = performance.now();
    for (let from = 0; from < prefill; from += 5000) await commit(db, range(from, Math.min(5000, prefill - from)), []);
    log(`calibration: a store of ${prefill.toLocaleString("en-US")} records in ${Math.round(performance.now() - started)} ms`);
    let fresh = prefill;
    const sizes = [50, 500, 5000];
    const measured = { read: {}, write: {}, touch: {} };
    for (const n of sizes) {
      const reps = n === 5000 ? 5 : 15;
      const reads = [];
      const writes = [];
      const touches = [];
      for (let r = 0; r < reps; r++) {
        const keys = [...new Set(pick(n))];
        await loadLedger(
          db,
          STORE,
          keys.map((i) => ({ namespace: NS, id: id(i) })),
          [NS],
          null,
        );
        reads.push(lastBatchMs);
        // Half the written records are new, half existing ones changed (both: state + body + index).
        const half = Math.floor(n / 2);
        writes.push(await commit(db, [...range(fresh, n - half), ...pick(half)], []));
        fresh += n - half;
        touches.push(await commit(db, [], pick(n)));
      }
      measured.read[n] = median(reads);
      measured.write[n] = median(writes);
      measured.touch[n] = median(touches);
    }
    sqlite.close();
    const lineThrough = (m) => {
      const perOpMs = (m[5000] - m[50]) / (5000 - 50);
      return { fixedMs: Math.max(0, m[50] - 50 * perOpMs), perOpMs, at: m };
    };

    // A stored sync result's bytes: syncRows small syncs' rows (commitPlan of an empty plan).
    const rows = syncRows;
    const results = open("syncs.sqlite");
    for (let i = 0; i < rows; i++) await commit(results.db, [], []);
    const syncBytes = results.sqlite
      .prepare(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('syncs', 'syncs_by_org', 'syncs_by_store') OR name LIKE 'sqlite_autoindex_syncs%'",
      )
      .get().bytes;
    // One indexed point read (the revocation check).
    const point = results.sqlite.prepare("SELECT 1 AS revoked FROM revoked_api_keys WHERE key_id = ?");
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) point.get(`key_${i}`);
    const pointReadMs = (performance.now() - t0) / 20_000;
    results.sqlite.close();

    const calibration = {
      source: `npm run capacity -- --calibrate (better-sqlite3, project SQL), ${new Date().toISOString().slice(0, 10)}`,
      read: lineThrough(measured.read),
      write: lineThrough(measured.write),
      touch: lineThrough(measured.touch),
      syncRowBytes: Math.round(syncBytes / rows),
      pointReadMs,
    };
    for (const kind of ["read", "write", "touch"]) {
      const f = calibration[kind];
      log(
        `  ${kind.padEnd(6)} ms for 50 / 500 / 5000 ops: ${sizes.map((n) => f.at[n].toFixed(2)).join(" / ")}` +
          `  -> ${f.fixedMs.toFixed(3)} ms + ${f.perOpMs.toFixed(4)} ms per op`,
      );
    }
    log(`  stored sync result ${calibration.syncRowBytes} bytes; indexed point read ${(pointReadMs * 1000).toFixed(1)} us`);
    return calibration;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// --- command line --------------------------------------------------------------------------------
const FLAGS = {
  seed: "RNG seed",
  shards: "ledger shard counts, comma-separated",
  indexes: "Vectorize indexes in the pool (0: one per shard)",
  stores: "store counts, comma-separated (the load grows with them)",
  "interval-s": "mean seconds between two syncs of one store",
  "stores-per-org": "stores per organization (the 100 syncs/min rate limit is per organization)",
  "small-ops": "operations in a small sync",
  "small-changed": "probability that an operation of a small sync is a changed record",
  "large-ops": "operations in a large sync",
  "large-changed": "probability that an operation of a large sync is a changed record",
  "large-fraction": "share of syncs that are large",
  "warmup-s": "simulated seconds before measuring",
  "duration-s": "simulated seconds measured",
  ingest: "new records a day, service-wide (days-to-70% table)",
  "syncs-per-day": "stored sync results a day, service-wide (days-to-70% table)",
  "retention-days": "days a stored sync result is kept",
  "ai-calls-per-minute": "Workers AI embedding calls a minute, account-wide",
  "index-vectors": "vectors per Vectorize index",
  "index-write-vps": "vectors/s one index applies (0: not modelled)",
  "d1-round-trip-ms": "assumed D1 occupancy per query or batch beyond SQLite's time",
  "d1-network-ms": "assumed network delay per D1 round trip",
  "ai-call-ms": "assumed latency of one embedding call",
  "vectorize-call-ms": "assumed latency of one Vectorize upsert",
  "catalog-reads-per-sync": "catalog round trips per sync besides idempotency",
  "idempotency-fraction": "share of syncs with an Idempotency-Key",
  "idempotency-on-shard": "1: Idempotency-Keys on the store's shard instead of the catalog",
  "d1-queue-limit-ms": "assumed: a D1 request that would queue longer is refused (overloaded)",
  "ai-retry-budget-ms": "an embedding call that cannot start within this fails the sync (503)",
  "min-syncs": "the measured window lasts long enough for about this many arrivals",
  "max-duration-s": "longest measured window",
  "slo-ms": "max sustained rate: p99 wait of a small sync at most this (and at most 1% shed)",
  scenarios: "which scenario tables: all, or a comma list of published,ai-raised,catalog-cached",
};

function parseArgs(argv, env) {
  const out = {};
  const camel = (name) => name.replace(/-([a-z])/g, (_, ch) => ch.toUpperCase());
  const set = (name, raw) => {
    if (!(name in FLAGS)) throw new Error(`unknown option --${name} (--help lists them)`);
    const key = camel(name);
    if (key === "shards" || key === "stores") out[key] = String(raw).split(",").map(Number);
    else if (key === "scenarios") out[key] = String(raw);
    else out[key] = Number(raw);
    const bad = [out[key]].flat().some((v) => typeof v === "number" && !Number.isFinite(v));
    if (bad) throw new Error(`--${name}: not a number: ${raw}`);
  };
  for (const name of Object.keys(FLAGS)) {
    const value = env[`CAPACITY_${name.replace(/-/g, "_").toUpperCase()}`];
    if (value !== undefined && value !== "") set(name, value);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") out.help = true;
    else if (arg === "--calibrate") out.calibrate = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq > 0) set(arg.slice(2, eq), arg.slice(eq + 1));
      else set(arg.slice(2), argv[++i]);
    } else throw new Error(`unexpected argument ${arg}`);
  }
  return out;
}

const SCENARIOS = {
  published: { title: "published limits (Workers AI 3,000 calls/min)", params: {} },
  "ai-raised": { title: "Workers AI limit raised 10x (30,000 calls/min: assumed, on request)", params: { aiCallsPerMinute: 30_000 } },
  "catalog-cached": {
    title: "AI raised 10x, catalog off the sync path (placement, revocations cached; Idempotency-Keys on the shard)",
    params: { aiCallsPerMinute: 30_000, catalogReadsPerSync: 0, idempotencyOnShard: true },
  },
};

const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "inf";
const ms = (n) => (n >= 10_000 ? `${fmt(n / 1000)} s` : `${fmt(n)} ms`);

async function main() {
  const args = parseArgs(process.argv.slice(2), process.env);
  if (args.help) {
    console.log("npm run capacity -- [--calibrate] [--name=value ...] (or CAPACITY_NAME=value)\n");
    for (const [name, what] of Object.entries(FLAGS)) console.log(`  --${name.padEnd(24)} ${what}`);
    return;
  }
  const started = performance.now();
  const base = { ...DEFAULTS, ...args };
  delete base.help;
  delete base.calibrate;
  delete base.scenarios;
  let calibrationSource = "recorded";
  if (args.calibrate) {
    base.calibration = await calibrate();
    calibrationSource = "measured now";
  }
  const cal = base.calibration;
  console.log(`calibration (${calibrationSource}: ${cal.source}):`);
  console.log(
    `  D1 busy per sync = ${base.d1RoundTripMs} ms per round trip (assumed) + read ${cal.read.perOpMs.toFixed(4)} ms/key` +
      ` + write ${cal.write.perOpMs.toFixed(4)} ms/changed record + touch ${cal.touch.perOpMs.toFixed(4)} ms/unchanged (measured)`,
  );
  console.log(
    `  engine CPU ${base.cpuPerOpMs} ms/op + ${base.cpuPerChangedMs} ms/changed record (bench profile); ` +
      `AI call ${base.aiCallMs} ms, Vectorize call ${base.vectorizeCallMs} ms, D1 network ${base.d1NetworkMs} ms (assumed)`,
  );
  console.log(
    `workload: each store syncs every ${base.intervalS} s on average (Poisson); ${(100 - base.largeFraction * 100).toFixed(0)}% small ` +
      `(${base.smallOps} ops, ${base.smallChanged * 100}% changed), ${base.largeFraction * 100}% large (${base.largeOps} ops, ` +
      `${base.largeChanged * 100}% changed); ${base.idempotencyFraction * 100}% with an Idempotency-Key; seed ${base.seed}`,
  );

  const chosen = !args.scenarios || args.scenarios === "all" ? Object.keys(SCENARIOS) : args.scenarios.split(",");
  const out = { calibration: cal, assumed: ASSUMED, workload: {}, scenarios: {}, storage: [] };
  for (const name of chosen) {
    const scenario = SCENARIOS[name];
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    const p = { ...base, ...scenario.params };
    const cap = capacities(p);
    console.log(`\n== ${scenario.title}`);
    console.log(
      `   capacities: one shard ${fmt(cap.perShard)} syncs/s (mean D1 busy ${cap.shardBusyMs.toFixed(2)} ms; small ${cap.smallShardBusyMs.toFixed(2)} ms),` +
        ` catalog ${fmt(cap.catalog)} syncs/s, Workers AI ${fmt(cap.ai)} syncs/s (${cap.aiCallsPerSync.toFixed(2)} calls a sync)`,
    );
    console.log(
      `   ${"shards".padStart(6)} ${"stores".padStart(10)} ${"offered/s".padStart(10)} ${"sustained/s".padStart(11)} ` +
        `${"shed/s".padStart(7)} ${"p50 wait".padStart(9)} ${"p99 wait".padStart(9)} ${"p99 shard".padStart(10)} ` +
        `${"shard".padStart(6)} ${"catalog".padStart(8)} ${"AI".padStart(5)}  saturated`,
    );
    const rows = [];
    for (const shards of base.shards) {
      for (const stores of base.stores) {
        const r = simulate({ ...p, shards, stores });
        rows.push(r);
        const pct = (u) => `${Math.round(u * 100)}%`;
        console.log(
          `   ${String(shards).padStart(6)} ${fmt(stores).padStart(10)} ${fmt(r.offered, 1).padStart(10)} ${fmt(r.sustained, 1).padStart(11)} ` +
            `${fmt(r.shed + r.refused, 1).padStart(7)} ${ms(r.p50WaitMs).padStart(9)} ${ms(r.p99WaitMs).padStart(9)} ${ms(r.p99ShardWaitMs).padStart(10)} ${pct(r.util.shard).padStart(6)} ` +
            `${pct(r.util.catalog).padStart(8)} ${pct(r.util.ai).padStart(5)}  ${r.saturated.join(", ") || "-"}`,
        );
      }
    }
    const best = base.shards.map((shards) => ({ shards, ...maxSustained(p, shards) }));
    console.log(
      `   max sustained (at most 1% shed, p99 wait of a small sync <= ${fmt(base.sloMs)} ms): ` +
        best.map((b) => `${b.shards} shard${b.shards === 1 ? "" : "s"} ${fmt(b.rate)}/s (p99 ${ms(b.at?.p99WaitMs ?? 0)})`).join(", "),
    );
    out.scenarios[name] = {
      capacities: cap,
      rows: rows.map((r) => ({
        shards: r.shards,
        stores: r.stores,
        offered: +r.offered.toFixed(2),
        sustained: +r.sustained.toFixed(2),
        shed: +(r.shed + r.refused).toFixed(2),
        p50_wait_ms: Math.round(r.p50WaitMs),
        p99_wait_ms: Math.round(r.p99WaitMs),
        p99_shard_wait_ms: Math.round(r.p99ShardWaitMs),
        util: Object.fromEntries(Object.entries(r.util).map(([k, v]) => [k, +v.toFixed(3)])),
        saturated: r.saturated,
      })),
      max_sustained: best.map((b) => ({
        shards: b.shards,
        syncs_per_s: +b.rate.toFixed(1),
        p99_wait_ms: Math.round(b.at?.p99WaitMs ?? 0),
      })),
    };
  }

  console.log(
    `\n== storage: ${fmt(base.ingest)} new records a day (${fmt(base.bytesPerRecord)} bytes each), ${fmt(base.syncsPerDay)} sync results a day kept ` +
      `${base.retentionDays} days (${cal.syncRowBytes} bytes each), spread evenly over the shards`,
  );
  console.log(
    `   ${"shards".padStart(6)} ${"records/shard at 70%".padStart(21)} ${"sync results/shard".padStart(19)} ${"days to 70%".padStart(12)} ${"days to a full index".padStart(21)}`,
  );
  for (const shards of base.shards) {
    const d = daysToFill(base, shards);
    out.storage.push({
      shards,
      records_per_shard_at_70pct: Math.round(d.recordsAt70),
      sync_result_bytes_per_shard: Math.round(d.resultBytes),
      days_to_70pct: +d.days.toFixed(1),
      days_to_full_index: +d.indexDays.toFixed(1),
    });
    console.log(
      `   ${String(shards).padStart(6)} ${fmt(d.recordsAt70).padStart(21)} ${`${fmt(d.resultBytes / 1e9, 2)} GB`.padStart(19)} ` +
        `${fmt(d.days, 1).padStart(12)} ${fmt(d.indexDays, 1).padStart(21)}`,
    );
  }
  out.workload = {
    interval_s: base.intervalS,
    small: { ops: base.smallOps, changed: base.smallChanged },
    large: { ops: base.largeOps, changed: base.largeChanged, fraction: base.largeFraction },
    ingest_per_day: base.ingest,
    syncs_per_day: base.syncsPerDay,
    seed: base.seed,
  };
  console.log(`\n(${fmt(performance.now() - started)} ms)`);
  console.log(JSON.stringify(out));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
