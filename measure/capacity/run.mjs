#!/usr/bin/env node
// `npm run capacity`: a small discrete-event model of the service at scale (docs/measurements.md#capacity).
//
// The command line: flags (and CAPACITY_<NAME> variables), the scenarios, the tables. The model
// itself is simulate and maxSustained; its figures DEFAULTS, ASSUMED and CALIBRATION, which
// calibrate measures.
//
// Usage: npm run capacity -- [--shards=1,8,64] [--stores=1000,10000,100000,1000000]
//   [--interval-s=600] [--ingest=1000000] [--seed=1] [--duration-s=60] ... (--help lists all;
//   each flag also reads CAPACITY_<NAME>, e.g. CAPACITY_INGEST=5000000). --calibrate measures first.
// Prints the tables, then one JSON line.
import { calibrate } from "./calibrate.mjs";
import { capacities, daysToFill, maxSustained, simulate } from "./model.mjs";
import { ASSUMED, DEFAULTS } from "./params.mjs";

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

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
