#!/usr/bin/env node
// npm run bench: drives the worker (dev build: same app, same local stand-ins as `npm run dev`)
// through Miniflare and through the real dev server over HTTP, scenario by scenario, each run
// interleaved with LangChain.js index() on the same records, in memory (langchainStore) and durable
// over SQLite files (durableLangchainStore), and measures what a sync costs against the floor,
// against both peers, and in D1 rows and bytes.
//   BENCH_RUNS=N        runs after a warm-up (default 5); times are medians
//   BENCH_MODE=M        miniflare | http | both (default both)
//   BENCH_PROFILE=1     print the phase profile (the service's timing spans; Miniflare mode)
import { mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { cpuFloors } from "./cpu-floor.mjs";
import { durableLangchainStore } from "./durable-peer.mjs";
import { LANGCHAIN_CORE_VERSION, langchainStore } from "./langchain-peer.mjs";
import { upserts } from "../records.mjs";
import { searchLoadRun, searchQueries, summarizeSearchLoad } from "./search-load.mjs";
import { cpuMs, httpTarget, miniflareTarget, rssMb } from "./targets.mjs";
import { WORKER_BUILD } from "../worker-build.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(root, ".bench");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MODE = process.env.BENCH_MODE ?? "both";
const MODES = { miniflare: ["miniflare"], http: ["http"], both: ["miniflare", "http"] }[MODE];
if (!MODES) throw new Error(`BENCH_MODE=${MODE}: expected miniflare, http or both`);
const PROFILE = process.env.BENCH_PROFILE === "1";
const ORG = "org_bench";
const N = 5000;

mkdirSync(out, { recursive: true });
const common = { bundle: true, format: "esm", logLevel: "error", sourcemap: false };
await build({ ...WORKER_BUILD, entryPoints: [join(root, "measure/bench/entry.ts")], outfile: join(out, "worker.js") });
await build({ ...common, entryPoints: [join(root, "measure/bench/floor-lib.ts")], outfile: join(out, "floor-lib.mjs"), platform: "node" });
const floorLib = await import(join(out, "floor-lib.mjs"));

// --- the floor, measured first, on a quiet machine ------------------------------------------
// The least work the machine must do for first_sync: parse the same body, embed the same texts
// with the same local embedder, insert the same rows into SQLite in one transaction.
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
const floor = { median_ms: Math.round(median(floorMs)), texts: texts.length };

// --- the CPU floors (cpuFloors), on the same operations, before Miniflare starts --------------
const chunkText = (data) => floorLib.recordChunks({ text_fields: null }, { data, file: null, text: null });
const cpuFloorSamples = [];
for (let run = 0; run <= RUNS; run++) {
  const sample = cpuFloors(base, changedOps(run), chunkText);
  if (run > 0) cpuFloorSamples.push(sample);
}
const CPU_SCENARIOS = ["first_sync", "unchanged", "changed_10pct"];
const cpuFloorPer1000 = Object.fromEntries(CPU_SCENARIOS.map((k) => [k, (median(cpuFloorSamples.map((f) => f[k])) / N) * 1000]));

// --- helpers ---------------------------------------------------------------------------------
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const round = (x, digits = 2) => Number(x.toFixed(digits));

/** 10% changed (data from another seed), 1% deleted, the rest as they were. */
function changedOps(run) {
  const changed = upserts(N / 10, { seed: 1000 + run, version: run + 1 });
  return base.map((op, i) =>
    i % 10 === 0 ? { ...op, data: changed[i / 10].data } : i % 100 === 1 ? { action: "delete", id: op.id, namespace: op.namespace } : op,
  );
}

/** 10% of the records (i % 10 === 5) with another priority: a one-token change near the end of the text. */
function editOneChunkOps(ops) {
  return ops.map((op, i) =>
    i % 10 === 5 && op.action === "upsert" ? { ...op, data: { ...op.data, priority: (op.data.priority % 4) + 1 } } : op,
  );
}

/** Chunk texts of `next` that its record did not have in `previous` (what must be embedded). */
function newChunks(previous, next) {
  let count = 0;
  next.forEach((op, i) => {
    if (op.action !== "upsert" || previous[i].action !== "upsert" || op.data === previous[i].data) return;
    const before = new Set(chunksOf([previous[i]]));
    count += chunksOf([op]).filter((c) => !before.has(c)).length;
  });
  return count;
}

/** 10% of the records (i % 10 === 3) with another status, a metadata field outside text_fields. */
function statusFlipOps(ops) {
  const flip = { open: "in_progress", in_progress: "review", review: "done", done: "blocked", blocked: "open" };
  return ops.map((op, i) => (i % 10 === 3 ? { ...op, data: { ...op.data, status: flip[op.data.status] } } : op));
}

/** Everything one mode measures, against one target (Miniflare or the dev server). */
async function benchMode(target) {
  const { call, mode } = target;
  const admin = { Authorization: `Bearer ${target.admin}` };
  const { api_key: apiKey } = await call("POST", "/v1/admin/api-keys", { organization_id: ORG }, admin);
  let storeCounter = 0;
  const newStore = async (config = {}) =>
    (await call("POST", "/v1/admin/vector-stores", { organization_id: ORG, id: `vs_bench_${mode}_${++storeCounter}`, ...config }, admin))
      .id;
  const sync = (store, operations, sync_timestamp, sync_mode = "incremental", extra = {}) =>
    call(
      "POST",
      "/v1/connectors/pipeline/sync",
      { organization_id: ORG, vector_store_id: store, sync_mode, sync_timestamp, operations, ...extra },
      { "X-API-Key": apiKey },
    );
  /** The store's vectors as its ledger counts them (chunks of live records). */
  const vectorCount = async (store) =>
    (await call("GET", `/v1/vector_stores/${store}/namespaces`, undefined, { "X-API-Key": apiKey })).namespaces.reduce(
      (sum, n) => sum + n.vector_count,
      0,
    );
  const bench = (path) => (target.instrumented ? call("GET", `/__bench/${path}`) : null);
  if (PROFILE && target.instrumented) await bench("profile/on");

  /** Times `fn` (one or more sync requests), with the worker's counters, D1 meta and peak memory. */
  async function measure(ops, fn) {
    await bench("reset");
    await bench("profile");
    const sizeBefore = (await bench("d1-size"))?.size ?? null;
    const pids = target.workerdPids(); // wrangler may have restarted its workerd since the last time
    let peak = rssMb(pids);
    const cpuBefore = cpuMs(pids);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pids));
    }, 20);
    const started = performance.now();
    const responses = await fn();
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pids));
    const cpu = cpuMs(pids) - cpuBefore;
    for (const r of [responses].flat()) if (r.results.failed) throw new Error(`failures: ${JSON.stringify(r.errors.slice(0, 3))}`);
    const c = await bench("counters");
    const profile = PROFILE ? await bench("profile") : null;
    const m = { ms, ops, cpu_ms: cpu, peak_memory_mb: Math.round(peak), responses, profile };
    if (!c) return m;
    if (c.d1.unmetered) throw new Error(`${c.d1.unmetered} D1 statements answered without meta: the rows counts would be short`);
    return Object.assign(m, {
      embed_calls: c.embedCalls,
      texts_embedded: c.textsEmbedded,
      vector_upserts: c.upsertCalls,
      vector_deletes: c.deleteCalls,
      vector_writes: c.upsertCalls + c.deleteCalls,
      d1_round_trips: c.d1.roundTrips,
      d1_statements: c.d1.statements,
      d1_rows_written: c.d1.rowsWritten,
      d1_rows_read: c.d1.rowsRead,
      d1_bytes_added: sizeBefore !== null && c.d1.sizeAfter ? c.d1.sizeAfter - sizeBefore : null,
      d1_size_after: c.d1.sizeAfter,
      stand_in_ms: c.embedderMs + c.indexMs + c.indexQueryMs,
      d1_sql_ms: c.d1.sqlMs,
    });
  }

  /**
   * LangChain's turn right after ours, on the same operations, and the check that both did the same
   * work, in chunks (LangChain counts documents, one per chunk): what it added is what we embedded,
   * what it skipped is the vectors we kept, what it deleted is the vectors we no longer have, and
   * both end with as many vectors.
   */
  async function peerTurn(name, peer, ours, ops, store, before, embedded, as = "langchain") {
    const theirs = await peer.sync(ops);
    const after = await vectorCount(store);
    const r = theirs.result;
    const expected = { numAdded: embedded, numUpdated: 0, numSkipped: after - embedded, numDeleted: before - (after - embedded) };
    const differs = Object.keys(expected).filter((k) => r[k] !== expected[k]);
    if (differs.length > 0 || theirs.vectors !== after || theirs.texts_embedded !== embedded) {
      throw new Error(
        `${mode} ${name}: LangChain and ours did different work: LangChain ${JSON.stringify(r)} and ${theirs.vectors} vectors; ` +
          `ours ${JSON.stringify(ours.responses.results)}, ${embedded} chunks embedded, vectors ${before} -> ${after}`,
      );
    }
    ours[as] = { ms: theirs.ms, ...r };
    return after;
  }

  const samples = {
    first_sync: [],
    unchanged: [],
    unchanged_new_ts: [],
    changed_10pct: [],
    edit_one_chunk_10pct: [],
    metadata_only_10pct: [],
  };
  const scalingSamples = { 500: [], 1000: [], 2500: [], 5000: [] };
  const expectResults = (name, m, want) => {
    const got = m.responses.results;
    if (Object.entries(want).some(([k, v]) => got[k] !== v))
      throw new Error(`${mode} ${name} applied ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  /** What we embedded: the counters when we can read them, else the chunks of what the answer says it upserted. */
  const embeddedBy = (m, expected) => {
    if (m.texts_embedded !== undefined && m.texts_embedded !== expected) {
      throw new Error(`${mode}: embedded ${m.texts_embedded} texts, expected ${expected}`);
    }
    return expected;
  };

  for (let run = 0; run <= RUNS; run++) {
    const warm = run === 0;
    process.stderr.write(`${mode} run ${run}${warm ? " (warm-up)" : ""}...\n`);
    const store = await newStore();
    const peer = langchainStore(floorLib);
    // The durable peer (SQLite record manager and vector store) takes its turn after the in-memory one.
    const durable = await durableLangchainStore(floorLib);
    const turns = async (name, m, ops, before, embedded) => {
      const after = await peerTurn(name, peer, m, ops, store, before, embedded);
      await peerTurn(name, durable, m, ops, store, before, embedded, "durable");
      return after;
    };
    const first = await measure(N, () => sync(store, base, "2026-01-01T00:00:00Z"));
    expectResults("first_sync", first, { upserted: N, deleted: 0, unchanged: 0 });
    let vectors = await turns("first_sync", first, base, 0, embeddedBy(first, texts.length));
    // The same request again (a pipeline's retry or replay), then the same records in a later sync
    // (their synced_at and version move: one UPDATE of 5000 rows, still no embedding or vector write).
    // LangChain has one kind of re-sync (it re-stamps every key it is given): it runs after `unchanged`.
    const unchanged = await measure(N, () => sync(store, base, "2026-01-01T00:00:00Z"));
    expectResults("unchanged", unchanged, { upserted: 0, deleted: 0, unchanged: N });
    vectors = await turns("unchanged", unchanged, base, vectors, embeddedBy(unchanged, 0));
    const unchangedNewTs = await measure(N, () => sync(store, base, "2026-01-02T00:00:00Z"));
    expectResults("unchanged_new_ts", unchangedNewTs, { upserted: 0, deleted: 0, unchanged: N });
    embeddedBy(unchangedNewTs, 0);
    const ops = changedOps(run);
    const changedRun = await measure(N, () => sync(store, ops, "2026-01-03T00:00:00Z"));
    expectResults("changed_10pct", changedRun, { upserted: N / 10, deleted: N / 100 });
    changedRun.expected_texts = chunksOf(ops.filter((_, i) => i % 10 === 0)).length;
    await turns("changed_10pct", changedRun, ops, vectors, embeddedBy(changedRun, changedRun.expected_texts));
    durable.close();
    // A one-token edit of 10% of the records: only the chunks whose text changed are embedded.
    const edited = editOneChunkOps(ops);
    const editRun = await measure(N, () => sync(store, edited, "2026-01-04T00:00:00Z"));
    expectResults("edit_one_chunk_10pct", editRun, { upserted: N / 10, failed: 0 });
    editRun.expected_texts = newChunks(ops, edited);
    embeddedBy(editRun, editRun.expected_texts);
    // A status flip on 10% of a store whose text is name and description and whose metadata is
    // status: no text changes, so nothing is embedded; every vector of the flipped records is
    // upserted again with its new metadata.
    const metaStore = await newStore({ text_fields: ["name", "description"], metadata_fields: ["status"] });
    await sync(metaStore, base, "2026-01-01T00:00:00Z");
    const metaRun = await measure(N, () => sync(metaStore, statusFlipOps(base), "2026-01-02T00:00:00Z"));
    expectResults("metadata_only_10pct", metaRun, { upserted: N / 10, failed: 0 });
    metaRun.expected_texts = 0;
    embeddedBy(metaRun, 0);
    if (target.instrumented) {
      for (const size of [500, 1000, 2500, 5000]) {
        const s = await newStore();
        const m = await measure(size, () => sync(s, base.slice(0, size), "2026-01-01T00:00:00Z"));
        if (!warm) scalingSamples[size].push(m.ms / size);
      }
    }
    if (!warm) {
      samples.first_sync.push(first);
      samples.unchanged.push(unchanged);
      samples.unchanged_new_ts.push(unchangedNewTs);
      samples.changed_10pct.push(changedRun);
      samples.edit_one_chunk_10pct.push(editRun);
      samples.metadata_only_10pct.push(metaRun);
    }
  }
  // LangChain has one re-sync: unchanged_new_ts is compared with the same LangChain runs as unchanged.
  samples.unchanged_new_ts.forEach((s, i) => {
    s.langchain = samples.unchanged[i].langchain;
    s.durable = samples.unchanged[i].durable;
  });
  const result = {
    first_sync: summarize(samples.first_sync),
    unchanged: summarize(samples.unchanged),
    unchanged_new_ts: summarize(samples.unchanged_new_ts),
    changed_10pct: { ...summarize(samples.changed_10pct), changed_chunks: samples.changed_10pct.at(-1).expected_texts },
    edit_one_chunk_10pct: {
      ...summarize(samples.edit_one_chunk_10pct),
      changed_chunks: samples.edit_one_chunk_10pct.at(-1).expected_texts,
    },
    metadata_only_10pct: { ...summarize(samples.metadata_only_10pct), changed_chunks: 0 },
  };
  const profiles = PROFILE ? Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, xs.map((s) => s.profile)])) : null;
  if (!target.instrumented) return { result, profiles };

  // full_refresh_20k: a 20,000-record namespace refreshed as one run of 4 parts sharing one
  // sync_timestamp ("final": false, false, false, true): 5% of the records changed, 5% gone (never
  // sent), the rest unchanged. Before each run the gone 5% are put back (untimed). Then
  // full_refresh_20k_unchanged: the same run again, a day later, with nothing changed.
  const all = upserts(20_000, { seed: 7, prefix: "issue_", namespace: "jira_issues" });
  const refreshStore = await newStore();
  for (let part = 0; part < 4; part++) await sync(refreshStore, all.slice(part * N, (part + 1) * N), "2026-02-01T00:00:00Z");
  const gone = all.filter((_, i) => i % 20 === 0);
  const liveCount = async () =>
    (await target.db.prepare("SELECT count(*) AS n FROM records WHERE vector_store_id = ?1 AND deleted = 0").bind(refreshStore).first()).n;
  const runOf = (records, ts) => async () => {
    const responses = [];
    for (let p = 0; p < 4; p++) {
      responses.push(await sync(refreshStore, records.slice(p * 4750, (p + 1) * 4750), ts, "full_refresh", { final: p === 3 }));
    }
    return responses;
  };
  const refresh = { full_refresh_20k: [], full_refresh_20k_unchanged: [] };
  for (let run = 0; run <= RUNS; run++) {
    process.stderr.write(`${mode} full_refresh run ${run}...\n`);
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
      refresh.full_refresh_20k.push(m);
      refresh.full_refresh_20k_unchanged.push(again);
    }
  }
  result.full_refresh_20k = { ...summarize(refresh.full_refresh_20k), swept: refresh.full_refresh_20k.at(-1).swept };
  result.full_refresh_20k_unchanged = summarize(refresh.full_refresh_20k_unchanged);
  // search_16 (Miniflare only: the dev server keeps the production limit of 300 searches a minute),
  // keyword and hybrid, each on a store of its own holding `base`, RUNS runs.
  const searchRuns = { keyword: [], hybrid: [] };
  const queries = searchQueries(base);
  for (let run = 0; run < RUNS; run++) {
    for (const kind of Object.keys(searchRuns)) {
      process.stderr.write(`${mode} search_16 ${kind} run ${run + 1}...\n`);
      const store = await newStore();
      await sync(store, base, "2026-01-01T00:00:00Z");
      const more = upserts(N, { seed: 900 + run, offset: N });
      await bench("reset");
      const r = await searchLoadRun({
        search: (query) => call("POST", `/v1/vector_stores/${store}/search`, { query, top_k: 10, mode: kind }, { "X-API-Key": apiKey }),
        sync: () => sync(store, more, "2026-01-02T00:00:00Z"),
        queries,
      });
      if (r.response.results.upserted !== N) throw new Error(`search_16: the sync upserted ${r.response.results.upserted}, expected ${N}`);
      const c = await bench("counters");
      // The index stand-in's own time a query (its scan of the store's vectors), which Vectorize does in production.
      r.index_stand_in_ms_per_query = c.queryCalls > 0 ? c.indexQueryMs / c.queryCalls : 0;
      searchRuns[kind].push(r);
    }
  }
  result.search_16 = Object.fromEntries(
    Object.entries(searchRuns).map(([kind, runs]) => [
      kind,
      {
        ...summarizeSearchLoad(runs, median),
        index_stand_in_ms_per_query: Math.round(median(runs.map((r) => r.index_stand_in_ms_per_query))),
      },
    ]),
  );
  result.scaling = Object.entries(scalingSamples).map(([ops, xs]) => ({ ops: Number(ops), ms_per_op: round(median(xs), 3) }));
  result.checks = {
    changed_embeds_exactly_changed_chunks: samples.changed_10pct.every((s) => s.texts_embedded === s.expected_texts),
    edit_one_chunk_embeds_exactly_edited_chunks: samples.edit_one_chunk_10pct.every((s) => s.texts_embedded === s.expected_texts),
    metadata_only_embeds_nothing: samples.metadata_only_10pct.every((s) => s.texts_embedded === 0),
    d1_round_trips: { first_sync: samples.first_sync.at(-1).d1_round_trips, unchanged: samples.unchanged.at(-1).d1_round_trips },
  };
  return { result, profiles, clock: PROFILE ? await clockCheck(call) : null };
}

function summarize(samples) {
  const last = samples.at(-1);
  const ms = median(samples.map((s) => s.ms));
  const s = {
    median_ms: Math.round(ms),
    ops_per_s: Math.round(last.ops / (ms / 1000)),
    peak_memory_mb: Math.max(...samples.map((x) => x.peak_memory_mb)),
  };
  if (last.langchain) {
    const lc = median(samples.map((x) => x.langchain.ms));
    const { numAdded, numSkipped, numDeleted, numUpdated } = last.langchain;
    Object.assign(s, {
      langchain_ms: Math.round(lc),
      vs_langchain: round(ms / lc),
      langchain_counts: { numAdded, numSkipped, numDeleted, numUpdated },
    });
  }
  if (last.durable) {
    const durable = median(samples.map((x) => x.durable.ms));
    Object.assign(s, { durable_langchain_ms: Math.round(durable), vs_durable_langchain: round(ms / durable) });
  }
  if (last.embed_calls === undefined) return s;
  const perRecord = (x) => round(x / last.ops, 3);
  // CPU per 1000 operations: workerd's whole process, the stand-ins' and local D1's share of it, and the rest (the engine).
  const per1000 = (pick) => round((median(samples.map(pick)) / last.ops) * 1000, 1);
  s.cpu = {
    workerd_ms_per_1000: per1000((x) => x.cpu_ms),
    stand_ins_ms_per_1000: per1000((x) => x.stand_in_ms),
    d1_sql_ms_per_1000: per1000((x) => x.d1_sql_ms),
    engine_ms_per_1000: per1000((x) => x.cpu_ms - x.stand_in_ms - x.d1_sql_ms),
  };
  return Object.assign(s, {
    embed_calls: last.embed_calls,
    texts_embedded: last.texts_embedded,
    vector_writes: last.vector_writes,
    vector_upserts: last.vector_upserts,
    vector_deletes: last.vector_deletes,
    d1_round_trips: last.d1_round_trips,
    d1_statements: last.d1_statements,
    // D1's own meta, summed over the scenario's statements (medians over the runs), per operation sent.
    d1_rows_written_per_record: perRecord(median(samples.map((x) => x.d1_rows_written))),
    d1_rows_read_per_record: perRecord(median(samples.map((x) => x.d1_rows_read))),
    d1_bytes_stored_per_record: last.d1_bytes_added === null ? null : Math.round(median(samples.map((x) => x.d1_bytes_added)) / last.ops),
    d1_size_after: last.d1_size_after,
  });
}

/**
 * Does workerd's clock move while the worker computes? A loop of about 200 ms of Node's time, read
 * by workerd's performance.now() and Date.now(), then after a timer and after a D1 query.
 */
async function clockCheck(call) {
  let loops = 1e6;
  for (;;) {
    const started = performance.now();
    const r = await call("GET", `/__bench/clock?loops=${loops}`);
    const wall = performance.now() - started;
    if (wall > 150 || loops > 1e10)
      return {
        loops,
        wall_ms: Math.round(wall),
        ...Object.fromEntries(
          Object.entries(r)
            .filter(([k]) => k !== "x")
            .map(([k, v]) => [k, round(v, 1)]),
        ),
      };
    loops *= 4;
  }
}

// --- the modes -------------------------------------------------------------------------------
const modes = {};
for (const mode of MODES) {
  const target =
    mode === "miniflare"
      ? await miniflareTarget({ scriptPath: join(out, "worker.js"), admin: "bench-admin-token" })
      : await httpTarget({ stateParent: out });
  const stop = () => void target.stop().finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    modes[mode] = await benchMode(target);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await target.stop();
  }
}

// --- report ----------------------------------------------------------------------------------
const mf = modes.miniflare?.result;
const http = modes.http?.result;
const result = { ...(mf ?? {}), floor, langchain_core: LANGCHAIN_CORE_VERSION };
if (http) result.http = http;
result.vs_langchain = Object.fromEntries(
  Object.entries(modes).map(([mode, { result: r }]) => [
    mode,
    Object.fromEntries(["first_sync", "unchanged", "unchanged_new_ts", "changed_10pct"].map((k) => [k, r[k].vs_langchain])),
  ]),
);
result.vs_durable_langchain = Object.fromEntries(
  Object.entries(modes).map(([mode, { result: r }]) => [
    mode,
    Object.fromEntries(["first_sync", "unchanged", "unchanged_new_ts", "changed_10pct"].map((k) => [k, r[k].vs_durable_langchain])),
  ]),
);
const targets = {};
if (mf) {
  result.cpu_per_1000 = Object.fromEntries(
    CPU_SCENARIOS.map((k) => [
      k,
      {
        ...mf[k].cpu,
        floor_ms_per_1000: round(cpuFloorPer1000[k], 1),
        engine_vs_floor: round(mf[k].cpu.engine_ms_per_1000 / cpuFloorPer1000[k]),
      },
    ]),
  );
  targets.engine_cpu_per_unchanged_record_at_most_2x_floor = result.cpu_per_1000.unchanged.engine_vs_floor <= 2;
}
if (mf) {
  result.first_sync_vs_floor = round(mf.first_sync.median_ms / floor.median_ms);
  const scale = mf.scaling;
  Object.assign(targets, {
    first_sync_vs_floor_at_most_3: result.first_sync_vs_floor <= 3,
    unchanged_zero_embeds_and_writes: [mf.unchanged, mf.unchanged_new_ts, mf.full_refresh_20k_unchanged].every(
      (s) => s.embed_calls === 0 && s.vector_writes === 0,
    ),
    unchanged_5x_faster: mf.first_sync.median_ms >= 5 * mf.unchanged.median_ms,
    changed_embeds_exactly_changed_chunks: mf.checks.changed_embeds_exactly_changed_chunks,
    edit_one_chunk_10pct_embeds_exactly_edited_chunks: mf.checks.edit_one_chunk_embeds_exactly_edited_chunks,
    metadata_only_10pct_embeds_nothing: mf.checks.metadata_only_embeds_nothing,
    d1_round_trips_bounded:
      Math.abs(mf.checks.d1_round_trips.first_sync - mf.checks.d1_round_trips.unchanged) <= 2 && mf.checks.d1_round_trips.first_sync <= 6,
    scaling_5000_within_1_5x_of_500: scale[3].ms_per_op <= 1.5 * scale[0].ms_per_op,
    search_16_keyword_p99_during_sync_within_2x_idle: mf.search_16.keyword.p99_during_vs_idle <= 2,
    search_16_hybrid_p99_during_sync_within_2x_idle: mf.search_16.hybrid.p99_during_vs_idle <= 2,
    search_16_keyword_throughput_above_one_searcher: mf.search_16.keyword.throughput_16_vs_1 > 1,
  });
}
// Issue 11's targets, for each mode measured (the issue states them over HTTP).
for (const [mode, { result: r }] of Object.entries(modes)) {
  const ratio = round(r.first_sync.median_ms / floor.median_ms);
  if (mode === "http") result.http.first_sync_vs_floor = ratio;
  Object.assign(targets, {
    [`${mode}_unchanged_at_most_0_6x_langchain`]: r.unchanged.vs_langchain <= 0.6,
    [`${mode}_changed_10pct_at_most_0_8x_langchain`]: r.changed_10pct.vs_langchain <= 0.8,
    [`${mode}_first_sync_at_most_1_0x_langchain`]: r.first_sync.vs_langchain <= 1.0,
    [`${mode}_first_sync_vs_floor_at_most_2`]: ratio <= 2,
    [`${mode}_unchanged_10x_faster`]: r.first_sync.median_ms >= 10 * r.unchanged.median_ms,
    [`${mode}_every_scenario_under_1_0x_durable_langchain`]: ["first_sync", "unchanged", "unchanged_new_ts", "changed_10pct"].every(
      (k) => r[k].vs_durable_langchain < 1.0,
    ),
  });
}
result.targets = targets;
if (PROFILE) {
  result.profile = Object.fromEntries(Object.entries(modes).map(([mode, m]) => [mode, profileMedians(m.profiles)]));
  if (modes.miniflare?.clock) result.workerd_clock = modes.miniflare.clock;
}

/** Per scenario, per phase: the median over the runs of the ms and calls each run's spans added up to. */
function profileMedians(profiles) {
  const out = {};
  for (const [scenario, runs] of Object.entries(profiles)) {
    const phases = [...new Set(runs.flatMap((p) => Object.keys(p ?? {})))];
    out[scenario] = Object.fromEntries(
      phases.map((phase) => [
        phase,
        { ms: round(median(runs.map((p) => p?.[phase]?.ms ?? 0)), 1), calls: median(runs.map((p) => p?.[phase]?.calls ?? 0)) },
      ]),
    );
  }
  return out;
}

const cell = (v, width) => String(v ?? "-").padStart(width);
const row = (mode, name, s) =>
  `${mode.padEnd(9)} ${name.padEnd(26)} ${cell(s.median_ms, 6)} ${cell(s.ops_per_s, 6)} ${cell(s.embed_calls, 5)} ${cell(s.texts_embedded, 5)} ` +
  `${cell(s.vector_upserts, 3)}/${String(s.vector_deletes ?? "-").padEnd(3)} ${cell(s.d1_round_trips, 4)} ${cell(s.peak_memory_mb, 5)} ` +
  `${cell(s.d1_rows_written_per_record, 6)} ${cell(s.d1_rows_read_per_record, 6)} ${cell(s.d1_bytes_stored_per_record, 5)} ` +
  `${cell(s.langchain_ms, 6)} ${cell(s.vs_langchain, 5)}`;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
    `${RUNS} runs after a warm-up, medians; LangChain: @langchain/core ${LANGCHAIN_CORE_VERSION} index(), cleanup "full"`,
);
console.log(
  `${"mode".padEnd(9)} ${"scenario".padEnd(26)} ${"ms".padStart(6)} ${"ops/s".padStart(6)} ${"embed".padStart(5)} ${"texts".padStart(5)} ups/del ` +
    `${"D1rt".padStart(4)} ${"MB".padStart(5)} ${"rw/rec".padStart(6)} ${"rr/rec".padStart(6)} ${"B/rec".padStart(5)} ${"LC ms".padStart(6)} ${"vs_LC".padStart(5)}`,
);
for (const [mode, { result: r }] of Object.entries(modes)) {
  for (const name of ["first_sync", "unchanged", "unchanged_new_ts", "changed_10pct"]) console.log(row(mode, name, r[name]));
  for (const name of ["edit_one_chunk_10pct", "metadata_only_10pct"]) {
    console.log(`${row(mode, name, r[name])}  (${r[name].changed_chunks} chunk texts changed)`);
  }
  if (r.full_refresh_20k) {
    console.log(
      `${row(mode, "full_refresh_20k", r.full_refresh_20k)}  (4 parts: 1000 changed, ${r.full_refresh_20k.swept} swept by the final)`,
    );
    console.log(`${row(mode, "full_refresh_20k_unchanged", r.full_refresh_20k_unchanged)}  (the same run again)`);
  }
}
if (mf?.search_16) {
  for (const [kind, r] of Object.entries(mf.search_16)) {
    const { solo, idle, during_sync: during } = r;
    console.log(
      `search_16 ${kind.padEnd(8)} 1 searcher p50 ${solo.p50_ms} p99 ${solo.p99_ms} ms (${solo.searches_per_s}/s); ` +
        `16 idle p50 ${idle.p50_ms} p99 ${idle.p99_ms} (${idle.searches_per_s}/s); 16 during a ${N}-op sync (${during.sync_ms} ms) ` +
        `p50 ${during.p50_ms} p99 ${during.p99_ms} (${during.searches_per_s}/s); index stand-in ${r.index_stand_in_ms_per_query} ms a query`,
    );
  }
}
if (result.cpu_per_1000) {
  console.log(`CPU ms per 1000 records (miniflare): workerd = stand-ins + local D1 SQL + engine; floor: cpuFloors in Node`);
  for (const [k, c] of Object.entries(result.cpu_per_1000)) {
    console.log(
      `  ${k.padEnd(14)} workerd ${cell(c.workerd_ms_per_1000, 6)}  stand-ins ${cell(c.stand_ins_ms_per_1000, 6)}  D1 SQL ${cell(c.d1_sql_ms_per_1000, 5)}  ` +
        `engine ${cell(c.engine_ms_per_1000, 6)}  floor ${cell(c.floor_ms_per_1000, 5)}  engine/floor ${c.engine_vs_floor}`,
    );
  }
}
if (mf) console.log(`scaling (ms/op):   ${mf.scaling.map((s) => `${s.ops}: ${s.ms_per_op}`).join(", ")}`);
console.log(
  `floor:             ${floor.median_ms} ms (JSON.parse + local embedder over ${texts.length} texts + SQLite insert of ${N} rows)`,
);
for (const [mode, { result: r }] of Object.entries(modes)) {
  console.log(`first_sync/floor:  ${mode} ${round(r.first_sync.median_ms / floor.median_ms)}`);
}
for (const [name, ok] of Object.entries(targets)) console.log(`target ${ok ? "met   " : "MISSED"} ${name}`);
if (PROFILE) {
  if (result.workerd_clock) {
    const c = result.workerd_clock;
    console.log(
      `\nworkerd clock: a ${c.wall_ms} ms loop read ${c.spin} ms on performance.now() and ${c.spinDate} ms on Date.now(); ` +
        `${c.afterTimer} ms after a timer, ${c.afterD1} ms after a D1 query`,
    );
  }
  for (const [mode, scenarios] of Object.entries(result.profile)) {
    const names = Object.keys(scenarios);
    const phases = [...new Set(names.flatMap((n) => Object.keys(scenarios[n])))];
    console.log(`\nphase profile (${mode}, ms, medians; spans of src/profile.ts)`);
    if (phases.length === 0) {
      console.log(
        mode === "http"
          ? "  (the dev server has no profile route: Miniflare mode only)"
          : "  (no spans recorded: src/ calls span(...) nowhere yet)",
      );
      continue;
    }
    console.log(`${"phase".padEnd(40)} ${names.map((n) => n.padStart(16)).join(" ")}`);
    for (const phase of phases) {
      console.log(`${phase.padEnd(40)} ${names.map((n) => cell(scenarios[n][phase]?.ms ?? 0, 16)).join(" ")}`);
    }
  }
}
console.log(JSON.stringify(result));
