// The capacity model (npm run capacity): a small discrete-event model of the service at scale.
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
import { rng } from "../records.mjs";
import { Heap } from "./heap.mjs";
import { DEFAULTS, LIMITS } from "./params.mjs";

// --- seeded randomness ---------------------------------------------------------------------------
/** mulberry32, seeded: the bench's own rng. */
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
        // completion rides in the commit's batch, as in the ledger's commitPlan).
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
