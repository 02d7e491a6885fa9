#!/usr/bin/env node
// npm run bench: drives the worker (dev build: same app, same local stand-ins as `npm run dev`)
// through Miniflare, scenario by scenario, and measures what a sync costs against the floor.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { upserts } from "./records.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, ".bench");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ADMIN = "bench-admin-token";
const ORG = "org_bench";

mkdirSync(out, { recursive: true });
const common = { bundle: true, format: "esm", logLevel: "error", sourcemap: false };
await build({
  ...common,
  entryPoints: [join(root, "bench/bench-entry.ts")],
  outfile: join(out, "worker.js"),
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*"],
});
await build({ ...common, entryPoints: [join(root, "bench/floor-lib.ts")], outfile: join(out, "floor-lib.mjs"), platform: "node" });
const floorLib = await import(join(out, "floor-lib.mjs"));

// --- the floor, measured first, on a quiet machine ------------------------------------------
// The least work the machine must do for first_sync: parse the same body, embed the same texts
// with the same local embedder, insert the same rows into SQLite in one transaction.
const N = 5000;
const base = upserts(N, { seed: 42 });
const body = JSON.stringify({
  organization_id: ORG,
  vector_store_id: "vs_floor",
  sync_mode: "incremental",
  sync_timestamp: "2026-01-01T00:00:00Z",
  operations: base,
});
/** The chunk texts the service embeds for these operations (same derivation and chunking). */
const chunksOf = (ops) =>
  ops.flatMap((op) => floorLib.recordChunks({ text_fields: null }, { data: JSON.stringify(op.data), file: null, text: null }));
const texts = chunksOf(base);
const floorMs = [];
for (let run = 0; run <= RUNS; run++) {
  const sqlite = new Database(":memory:");
  sqlite.exec(`CREATE TABLE records (vector_store_id TEXT, namespace TEXT, id TEXT, data TEXT, version TEXT,
    PRIMARY KEY (vector_store_id, namespace, id)) WITHOUT ROWID`);
  const insert = sqlite.prepare("INSERT INTO records VALUES (?, ?, ?, ?, ?)");
  const started = performance.now();
  const parsed = JSON.parse(body);
  for (const text of texts) floorLib.hashEmbedding(text, 768);
  sqlite.transaction(() => {
    for (const op of parsed.operations) insert.run("vs_floor", op.namespace, op.id, JSON.stringify(op.data), parsed.sync_timestamp);
  })();
  if (run > 0) floorMs.push(performance.now() - started);
  sqlite.close();
}

const mf = new Miniflare({
  name: "bench",
  modules: true,
  scriptPath: join(out, "worker.js"),
  compatibilityDate: "2026-05-03",
  d1Databases: ["DB"],
  kvNamespaces: ["API_KEYS"],
  durableObjects: {
    LOCAL_VECTOR_STORE: { className: "LocalVectorStore", useSQLite: true },
    STORE_SYNC: { className: "BenchVectorStoreSync", useSQLite: true },
  },
  serviceBindings: {
    AI: { name: "bench", entrypoint: "LocalEmbedder" },
    VECTORIZE: { name: "bench", entrypoint: "LocalVectorIndex" },
  },
  ratelimits: {
    SYNC_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
    SEARCH_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
  },
  bindings: {
    ADMIN_TOKEN: ADMIN,
    MAX_BODY_BYTES: String(64 * 1024 * 1024),
    EMBEDDING_MODEL: "@cf/baai/bge-base-en-v1.5",
    EMBEDDING_DIMENSIONS: "768",
  },
});
await mf.ready;
const db = await mf.getD1Database("DB");
const schema = readFileSync(join(root, "schema.sql"), "utf8")
  .split(/;\s*$/m)
  .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
  .filter(Boolean);
for (const sql of schema) await db.prepare(sql).run();

// --- measuring -------------------------------------------------------------------------------
function workerdPids() {
  try {
    return execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("workerd"))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}
const pids = workerdPids();
function rssMb() {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

async function call(method, path, body, headers = {}) {
  const res = await mf.dispatchFetch(`http://bench.local${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}
const admin = { Authorization: `Bearer ${ADMIN}` };
const { api_key: apiKey } = await call("POST", "/v1/admin/api-keys", { organization_id: ORG }, admin);
let storeCounter = 0;
async function newStore() {
  const { id } = await call("POST", "/v1/admin/vector-stores", { organization_id: ORG, id: `vs_bench_${++storeCounter}` }, admin);
  return id;
}
const sync = (store, operations, sync_timestamp, sync_mode = "incremental", extra = {}) =>
  call(
    "POST",
    "/v1/connectors/pipeline/sync",
    { organization_id: ORG, vector_store_id: store, sync_mode, sync_timestamp, operations, ...extra },
    { "X-API-Key": apiKey },
  );

/** Times `fn` (one or more sync requests), with the worker's counters and peak memory. */
async function measure(ops, fn) {
  await call("GET", "/__bench/reset");
  let peak = rssMb();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 20);
  const started = performance.now();
  const responses = await fn();
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, rssMb());
  const c = await call("GET", "/__bench/counters");
  for (const r of [responses].flat()) if (r.results.failed) throw new Error(`failures: ${JSON.stringify(r.errors.slice(0, 3))}`);
  return {
    ms,
    ops,
    embed_calls: c.embedCalls,
    texts_embedded: c.textsEmbedded,
    vector_upserts: c.upsertCalls,
    vector_deletes: c.deleteCalls,
    vector_writes: c.upsertCalls + c.deleteCalls,
    d1_round_trips: c.d1.roundTrips,
    d1_statements: c.d1.statements,
    peak_memory_mb: Math.round(peak),
    responses,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
function summarize(samples) {
  const last = samples.at(-1);
  const ms = median(samples.map((s) => s.ms));
  return {
    median_ms: Math.round(ms),
    ops_per_s: Math.round(last.ops / (ms / 1000)),
    embed_calls: last.embed_calls,
    texts_embedded: last.texts_embedded,
    vector_writes: last.vector_writes,
    vector_upserts: last.vector_upserts,
    vector_deletes: last.vector_deletes,
    d1_round_trips: last.d1_round_trips,
    d1_statements: last.d1_statements,
    peak_memory_mb: Math.max(...samples.map((s) => s.peak_memory_mb)),
  };
}

// --- scenarios -------------------------------------------------------------------------------
const samples = {
  first_sync: [],
  unchanged: [],
  unchanged_new_ts: [],
  changed_10pct: [],
  full_refresh_20k: [],
  full_refresh_20k_unchanged: [],
};
const scalingSamples = { 500: [], 1000: [], 2500: [], 5000: [] };

for (let run = 0; run <= RUNS; run++) {
  const warm = run === 0;
  process.stderr.write(`run ${run}${warm ? " (warm-up)" : ""}...\n`);
  const store = await newStore();
  const first = await measure(N, () => sync(store, base, "2026-01-01T00:00:00Z"));
  // The same request again (a pipeline's retry or replay), then the same records in a later sync
  // (their synced_at and version move: one UPDATE of 5000 rows, still no embedding or vector write).
  const unchanged = await measure(N, () => sync(store, base, "2026-01-01T00:00:00Z"));
  const unchangedNewTs = await measure(N, () => sync(store, base, "2026-01-02T00:00:00Z"));
  // 10% changed, 1% deleted, the rest as they were.
  const changed = upserts(N / 10, { seed: 1000 + run, version: run + 1 });
  const ops = base.map((op, i) =>
    i % 10 === 0 ? { ...op, data: changed[i / 10].data } : i % 100 === 1 ? { action: "delete", id: op.id, namespace: op.namespace } : op,
  );
  const changedRun = await measure(N, () => sync(store, ops, "2026-01-03T00:00:00Z"));
  if (changedRun.responses.results.upserted !== N / 10 || changedRun.responses.results.deleted !== N / 100) {
    throw new Error(`changed_10pct applied ${JSON.stringify(changedRun.responses.results)}`);
  }
  changedRun.expected_texts = chunksOf(ops.filter((_, i) => i % 10 === 0)).length;
  for (const size of [500, 1000, 2500, 5000]) {
    const s = await newStore();
    const m = await measure(size, () => sync(s, base.slice(0, size), "2026-01-01T00:00:00Z"));
    if (!warm) scalingSamples[size].push(m.ms / size);
  }
  if (!warm) {
    samples.first_sync.push(first);
    samples.unchanged.push(unchanged);
    samples.unchanged_new_ts.push(unchangedNewTs);
    samples.changed_10pct.push(changedRun);
  }
}

// full_refresh_20k: a 20,000-record namespace refreshed as one run of 4 parts sharing one
// sync_timestamp ("final": false, false, false, true): 5% of the records changed, 5% gone (never
// sent), the rest unchanged. Before each run the gone 5% are put back (untimed). Then
// full_refresh_20k_unchanged: the same run again, a day later, with nothing changed.
const all = upserts(20_000, { seed: 7, prefix: "issue_", namespace: "jira_issues" });
const refreshStore = await newStore();
for (let part = 0; part < 4; part++) await sync(refreshStore, all.slice(part * N, (part + 1) * N), "2026-02-01T00:00:00Z");
const gone = all.filter((_, i) => i % 20 === 0);
const liveCount = async () =>
  (await db.prepare("SELECT count(*) AS n FROM records WHERE vector_store_id = ?1 AND deleted = 0").bind(refreshStore).first()).n;
const runOf = (records, ts) => async () => {
  const responses = [];
  for (let p = 0; p < 4; p++) {
    responses.push(await sync(refreshStore, records.slice(p * 4750, (p + 1) * 4750), ts, "full_refresh", { final: p === 3 }));
  }
  return responses;
};
for (let run = 0; run <= RUNS; run++) {
  process.stderr.write(`full_refresh run ${run}...\n`);
  const day = String(run + 2).padStart(2, "0");
  await sync(refreshStore, gone, `2026-03-${day}T00:00:00Z`);
  const fresh = upserts(1000, { seed: 500 + run, prefix: "unused_", version: run + 1 });
  let changedIndex = 0;
  const sent = all.flatMap((op, i) => (i % 20 === 0 ? [] : i % 20 === 1 ? [{ ...op, data: fresh[changedIndex++].data }] : [op]));
  const m = await measure(sent.length, runOf(sent, `2026-03-${day}T12:00:00Z`));
  const fin = m.responses.at(-1);
  const deleted = m.responses.reduce((sum, r) => sum + r.results.deleted, 0);
  const upserted = m.responses.reduce((sum, r) => sum + r.results.upserted, 0);
  // Both counts, every run: exactly the changed records embedded, exactly the gone ones swept, in the final part only.
  const changedTexts = chunksOf(sent.filter((_, k) => k % 19 === 0)).length;
  if (upserted !== 1000 || m.texts_embedded !== changedTexts) {
    throw new Error(`full_refresh_20k upserted ${upserted} and embedded ${m.texts_embedded} texts; expected 1000 and ${changedTexts}`);
  }
  if (deleted !== gone.length || fin.results.deleted !== gone.length || fin.sweep?.remaining !== 0) {
    throw new Error(`full_refresh_20k swept ${deleted} (final part ${fin.results.deleted}); expected ${gone.length}`);
  }
  if ((await liveCount()) !== sent.length) throw new Error(`full_refresh left ${await liveCount()} records, expected ${sent.length}`);
  m.swept = deleted;
  const again = await measure(sent.length, runOf(sent, `2026-03-${day}T18:00:00Z`));
  if (again.embed_calls !== 0 || again.vector_writes !== 0) {
    throw new Error(`full_refresh_20k_unchanged embedded ${again.texts_embedded} texts and made ${again.vector_writes} vector writes`);
  }
  if (run > 0) {
    samples.full_refresh_20k.push(m);
    samples.full_refresh_20k_unchanged.push(again);
  }
}

await mf.dispose();

// --- report ----------------------------------------------------------------------------------
const result = {
  first_sync: summarize(samples.first_sync),
  unchanged: summarize(samples.unchanged),
  unchanged_new_ts: summarize(samples.unchanged_new_ts),
  changed_10pct: { ...summarize(samples.changed_10pct), changed_chunks: samples.changed_10pct.at(-1).expected_texts },
  full_refresh_20k: { ...summarize(samples.full_refresh_20k), swept: samples.full_refresh_20k.at(-1).swept },
  full_refresh_20k_unchanged: summarize(samples.full_refresh_20k_unchanged),
  scaling: Object.entries(scalingSamples).map(([ops, xs]) => ({ ops: Number(ops), ms_per_op: Number(median(xs).toFixed(3)) })),
  floor: { median_ms: Math.round(median(floorMs)), texts: texts.length },
};
result.first_sync_vs_floor = Number((result.first_sync.median_ms / result.floor.median_ms).toFixed(2));
const scale = result.scaling;
const targets = {
  first_sync_vs_floor_at_most_3: result.first_sync_vs_floor <= 3,
  unchanged_zero_embeds_and_writes: [result.unchanged, result.unchanged_new_ts, result.full_refresh_20k_unchanged].every(
    (s) => s.embed_calls === 0 && s.vector_writes === 0,
  ),
  unchanged_5x_faster: result.first_sync.median_ms >= 5 * result.unchanged.median_ms,
  changed_embeds_exactly_changed_chunks: samples.changed_10pct.every((s) => s.texts_embedded === s.expected_texts),
  d1_round_trips_bounded:
    Math.abs(samples.first_sync.at(-1).d1_round_trips - samples.unchanged.at(-1).d1_round_trips) <= 2 &&
    samples.first_sync.at(-1).d1_round_trips <= 6,
  scaling_5000_within_1_5x_of_500: scale[3].ms_per_op <= 1.5 * scale[0].ms_per_op,
};
result.targets = targets;

const row = (name, s) =>
  `${name.padEnd(26)} ${String(s.median_ms).padStart(8)} ${String(s.ops_per_s).padStart(8)} ${String(s.embed_calls).padStart(6)} ${String(s.texts_embedded).padStart(7)} ${String(s.vector_upserts).padStart(4)}/${String(s.vector_deletes).padEnd(4)} ${String(s.d1_round_trips).padStart(5)} ${String(s.peak_memory_mb).padStart(6)}`;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${RUNS} runs after a warm-up, medians`,
);
console.log(
  `${"scenario".padEnd(26)} ${"ms".padStart(8)} ${"ops/s".padStart(8)} ${"embed".padStart(6)} ${"texts".padStart(7)} ups/del ${"D1 rt".padStart(5)} ${"MB".padStart(6)}`,
);
console.log(row("first_sync", result.first_sync));
console.log(row("unchanged", result.unchanged));
console.log(row("unchanged_new_ts", result.unchanged_new_ts));
console.log(row("changed_10pct", result.changed_10pct));
console.log(
  row("full_refresh_20k", result.full_refresh_20k) +
    `  (a run of 4 parts: 1000 changed, ${result.full_refresh_20k.swept} swept by the final)`,
);
console.log(row("full_refresh_20k_unchanged", result.full_refresh_20k_unchanged) + "  (the same run again)");
console.log(`scaling (ms/op):   ${scale.map((s) => `${s.ops}: ${s.ms_per_op}`).join(", ")}`);
console.log(
  `floor:             ${result.floor.median_ms} ms (JSON.parse + local embedder over ${texts.length} texts + SQLite insert of ${N} rows)`,
);
console.log(`first_sync/floor:  ${result.first_sync_vs_floor}`);
for (const [name, ok] of Object.entries(targets)) console.log(`target ${ok ? "met   " : "MISSED"} ${name}`);
console.log(JSON.stringify(result));
