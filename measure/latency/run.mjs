#!/usr/bin/env node
// npm run latency: real requests against the local stack (the dev worker in Miniflare, three D1
// databases, the local stand-ins), every remote call recorded (the latency entry), and the
// recorded call graph turned into a modelled production latency per request type by a region map
// (modelRequest; docs/measurements.md#latency). Prints the map, each type's call graph, a table,
// and last one JSON line: {"small_sync": {"sequential_remote_round_trips": N,
// "cross_region_round_trips": N, "modelled_ms": N}, "first_sync_5000": {...}, ...}.
//   --runs=N   measured runs per request type after one warm-up (default 5); the median counts
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { upserts } from "../records.mjs";
import { schemaStatements } from "../schema.mjs";
import { ASSUMED_MS, CROSS_REGION_OVER_MS, INTRA_REGION_MS, PLACES, RTT_MS, TARGETS, describe, median, modelRequest } from "./model.mjs";
import { WORKER_BUILD } from "../worker-build.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(root, ".bench", "latency");
const runsArg = process.argv.find((a) => a.startsWith("--runs="));
const RUNS = runsArg ? Number(runsArg.slice("--runs=".length)) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer`);
const ADMIN = "latency-admin-token";
const ORG = "org_latency";

mkdirSync(out, { recursive: true });
const scriptPath = join(out, "worker.js");
await build({
  entryPoints: [join(root, "measure/latency/entry.ts")],
  outfile: scriptPath,
  ...WORKER_BUILD,
});

const mf = new Miniflare({
  name: "latency",
  modules: true,
  scriptPath,
  compatibilityDate: "2026-05-03",
  // The catalog and two ledger shards, each a database of its own (as npm run dev has them).
  d1Databases: { DB: "catalog", LEDGER_0: "ledger0", LEDGER_1: "ledger1" },
  kvNamespaces: ["API_KEYS"],
  durableObjects: {
    LOCAL_VECTOR_STORE: { className: "LocalVectorStore", useSQLite: true },
    STORE_SYNC: { className: "LatencyVectorStoreSync", useSQLite: true },
  },
  serviceBindings: {
    AI: { name: "latency", entrypoint: "LocalEmbedder" },
    VECTORIZE: { name: "latency", entrypoint: "LocalVectorIndex" },
    VECTORIZE_1: { name: "latency", entrypoint: "LocalVectorIndex1" },
  },
  ratelimits: {
    SYNC_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
    SEARCH_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
  },
  bindings: {
    ADMIN_TOKEN: ADMIN,
    MAX_BODY_BYTES: "20971520",
    EMBEDDING_MODEL: "@cf/baai/bge-base-en-v1.5",
    EMBEDDING_DIMENSIONS: "768",
  },
});

try {
  await mf.ready;
  const schema = schemaStatements();
  for (const name of ["DB", "LEDGER_0", "LEDGER_1"]) {
    const db = await mf.getD1Database(name);
    for (const sql of schema) await db.prepare(sql).run();
  }
  await main();
} finally {
  await mf.dispose();
}

async function call(method, path, body, headers = {}) {
  const res = await mf.dispatchFetch(`http://latency.local${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** One request, its calls recorded from a clean slate, modelled. */
async function measured(request) {
  await call("POST", "/__latency/reset");
  const answer = await request();
  const model = modelRequest(await call("GET", "/__latency/calls"));
  return { answer, model };
}

/** A warm-up, then RUNS measured runs; `prepare(run)` (unrecorded) sets each run up. */
async function scenario(name, request, prepare = async () => undefined) {
  const models = [];
  for (let run = 0; run <= RUNS; run++) {
    const ctx = await prepare(run);
    const { model } = await measured(() => request(ctx, run));
    if (run > 0) models.push(model);
  }
  const counts = (field) => new Set(models.map((m) => m[field]));
  const unstable = ["sequential_remote_round_trips", "cross_region_round_trips"].filter((f) => counts(f).size > 1);
  const ms = median(models.map((m) => m.modelled_ms));
  const typical = models.find((m) => m.modelled_ms === ms) ?? models[0];
  return {
    name,
    sequential_remote_round_trips: median(models.map((m) => m.sequential_remote_round_trips)),
    cross_region_round_trips: median(models.map((m) => m.cross_region_round_trips)),
    modelled_ms: Math.round(ms),
    measured_ms: Math.round(median(models.map((m) => m.measured_ms))),
    unstable,
    typical,
  };
}

async function main() {
  const admin = { Authorization: `Bearer ${ADMIN}` };
  const { api_key: apiKey } = await call("POST", "/v1/admin/api-keys", { organization_id: ORG }, admin);
  const auth = { "X-API-Key": apiKey };
  const newStore = async (id) => (await call("POST", "/v1/admin/vector-stores", { organization_id: ORG, id }, admin)).id;
  const sync = (store, operations, run) =>
    call(
      "POST",
      "/v1/connectors/pipeline/sync",
      {
        organization_id: ORG,
        vector_store_id: store,
        sync_mode: "incremental",
        sync_timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, run + 1)).toISOString(),
        operations,
      },
      auth,
    ).then((r) => {
      if (r.results.failed) throw new Error(`sync failures: ${JSON.stringify(r.errors.slice(0, 3))}`);
      return r;
    });

  const small = await newStore("vs_latency_small");
  const five = upserts(5, { seed: 7 });
  await sync(small, five, -1);
  const results = [];
  results.push(
    await scenario("small_sync", async (_, run) => {
      const r = await sync(small, five, run);
      if (r.results.unchanged !== five.length)
        throw new Error(`small_sync: expected ${five.length} unchanged, got ${JSON.stringify(r.results)}`);
      return r;
    }),
  );

  const base = upserts(5000, { seed: 42 });
  let bigStore = null;
  // The status polled is that of a sync that wrote vectors: its answer says whether they are queryable.
  let statusSyncId = null;
  results.push(
    await scenario(
      "first_sync_5000",
      async (store) => {
        const r = await sync(store, base, 0);
        if (r.results.upserted !== base.length) throw new Error(`first_sync_5000: ${JSON.stringify(r.results)}`);
        bigStore = store;
        statusSyncId = r.sync_id;
        return r;
      },
      (run) => newStore(`vs_latency_first_${run}`),
    ),
  );

  const queries = ["login crash on mobile", "invoice export timeout", "deploy pipeline retry", "search filter dashboard"];
  results.push(
    await scenario("search", async (_, run) => {
      const r = await call("POST", `/v1/vector_stores/${bigStore}/search`, { query: queries[run % queries.length], top_k: 10 }, auth);
      if (!r.results.length) throw new Error("search: no results");
      return r;
    }),
  );
  results.push(await scenario("sync_status", () => call("GET", `/v1/connectors/pipeline/syncs/${statusSyncId}`, undefined, auth)));
  results.push(
    await scenario("record_read", (_, run) => {
      const op = five[run % five.length];
      return call("GET", `/v1/vector_stores/${small}/records/${op.namespace}/${encodeURIComponent(op.id)}`, undefined, auth);
    }),
  );

  report(results);
}

function report(results) {
  const rtts = Object.entries(RTT_MS).map(([pair, ms]) => `${pair.replace("-", "<->")} ${ms} ms`);
  console.log("Region map (stated, not measured)");
  console.log(
    `  round trips: ${rtts.join(", ")}, within a region ${INTRA_REGION_MS} ms, local 0 ms; cross-region: over ${CROSS_REGION_OVER_MS} ms`,
  );
  for (const [who, where] of Object.entries(PLACES)) console.log(`  ${who.padEnd(11)} ${[where].flat().join(" or nearest of ")}`);
  console.log("Assumed service times (the local stand-ins' own times are not used)");
  for (const [what, a] of Object.entries(ASSUMED_MS)) {
    console.log(`  ${what.padEnd(22)} ${a.base}${a.perItem ? ` + ${a.perItem} x items` : ""} ms  (${a.why})`);
  }
  console.log("Measured here: D1 queries (local D1 for production D1's execution), KV and rate-limit calls, local time outside calls.");
  console.log(`Runs per type: ${RUNS} after a warm-up; medians.\n`);

  for (const r of results) {
    const t = r.typical;
    const hints = t.hints.length ? `; object locationHint: ${t.hints.join(", ")}` : "";
    const bg = t.background ? `; ${t.background} calls after the response (not modelled)` : "";
    console.log(`${r.name}: call graph of the median run (wave. call, route, round trip + service ms${hints}${bg})`);
    for (const line of describe(t.tree)) console.log(line);
    if (r.unstable.length) console.log(`  WARNING: ${r.unstable.join(", ")} differed between runs`);
    console.log("");
  }

  const header = ["request", "sequential RT", "cross-region RT", "modelled ms", "measured ms", "target", "met"];
  const rows = results.map((r) => {
    const target = TARGETS[r.name];
    const met = r.modelled_ms <= target.ms && (target.crossRegion === undefined || r.cross_region_round_trips <= target.crossRegion);
    const targetText = `<= ${target.ms} ms${target.crossRegion === undefined ? "" : `, ${target.crossRegion} cross-region RT`}`;
    return [
      r.name,
      r.sequential_remote_round_trips,
      r.cross_region_round_trips,
      r.modelled_ms,
      r.measured_ms,
      targetText,
      met ? "yes" : "no",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 || i === 5 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log("(measured ms: the request's time through the Worker here, all local; modelled ms: the region map applied)\n");
  const json = Object.fromEntries(
    results.map((r) => [
      r.name,
      {
        sequential_remote_round_trips: r.sequential_remote_round_trips,
        cross_region_round_trips: r.cross_region_round_trips,
        modelled_ms: r.modelled_ms,
      },
    ]),
  );
  console.log(JSON.stringify(json));
}
