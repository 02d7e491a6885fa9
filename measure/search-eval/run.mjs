#!/usr/bin/env node
// `npm run search-eval`: search quality and time by mode, with the local stand-ins (docs/vectors.md).
//
// 1. Starts `npm run dev` on free ports with its own local state (startDevServer).
// 2. Generates the corpus (corpus.mjs: support tickets with part numbers, error codes, prose) and
//    pushes it to one store per mode (the search rate limit is per organization: 300 a minute).
// 3. Runs every query in each mode (vector, keyword, hybrid, hybrid + rerank), top_k 10, and
//    reports recall@10 and MRR per query class, and the p50/p95 time of a search over HTTP.
//
// `--in-process`: the same searches without a dev server (in-process.mjs), for a loaded machine.
// SEARCH_EVAL_RECORDS=N and SEARCH_EVAL_QUERIES=N (per class) change the sizes (4000, 80).
// Prints a Markdown table and, last, one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devVar, startDevServer, stopDevServer } from "../../scripts/dev-server.mjs";
import { generate } from "./corpus.mjs";
import { inProcessTarget } from "./in-process.mjs";

const RECORDS = Number(process.env.SEARCH_EVAL_RECORDS ?? 4000);
const PER_CLASS = Number(process.env.SEARCH_EVAL_QUERIES ?? 80);
const TOP_K = 10;
const NAMESPACE = "tickets";
const MODES = [
  { name: "vector", body: { mode: "vector" } },
  { name: "keyword", body: { mode: "keyword" } },
  { name: "hybrid", body: { mode: "hybrid" } },
  { name: "hybrid + rerank", body: { mode: "hybrid", rerank: true } },
];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function request(base, method, path, headers, body) {
  for (;;) {
    const started = performance.now();
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const ms = performance.now() - started;
    if (res.status === 429) {
      // Over the per-organization limit: wait as told (not counted in the times).
      await res.arrayBuffer();
      await sleep(1000 * Number(res.headers.get("Retry-After") ?? 5));
      continue;
    }
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: ${res.status} answered no JSON: ${text.slice(0, 300)}`);
    }
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return { json, ms };
  }
}

async function createStore(base, admin) {
  const org = `org_eval_${Math.random().toString(36).slice(2, 10)}`;
  const headers = { Authorization: `Bearer ${admin}` };
  const store = (await request(base, "POST", "/v1/admin/vector-stores", headers, { organization_id: org })).json;
  const key = (await request(base, "POST", "/v1/admin/api-keys", headers, { organization_id: org })).json;
  return { org, store: store.id, headers: { "X-API-Key": key.api_key } };
}

async function push(base, tenant, tickets) {
  for (let i = 0; i < tickets.length; i += 2000) {
    const operations = tickets.slice(i, i + 2000).map((t) => ({ action: "upsert", namespace: NAMESPACE, id: t.id, data: t.data }));
    const { json } = await request(base, "POST", "/v1/connectors/pipeline/sync", tenant.headers, {
      organization_id: tenant.org,
      vector_store_id: tenant.store,
      sync_mode: "incremental",
      sync_timestamp: new Date().toISOString(),
      operations,
    });
    if (json.results.failed > 0) throw new Error(`sync failed for ${json.results.failed} records`);
  }
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

function score(results, relevant) {
  const ranked = [...new Set(results.map((r) => r.record_id))];
  const wanted = new Set(relevant);
  const found = ranked.slice(0, TOP_K).filter((id) => wanted.has(id)).length;
  const first = ranked.findIndex((id) => wanted.has(id));
  return { recall: found / Math.min(wanted.size, TOP_K), rr: first >= 0 && first < TOP_K ? 1 / (first + 1) : 0 };
}

/** The dev server as the target: a store per mode, pushed and searched over HTTP. */
async function devTarget(state) {
  // startDevServer retries a failed start once, in a fresh folder inside the state folder given.
  const dev = await startDevServer({ persistTo: state, ownGroup: true, limitMs: 300_000 });
  const admin = devVar("ADMIN_TOKEN");
  return {
    dev,
    createStore: () => createStore(dev.base, admin),
    push: (tenant, _namespace, tickets) => push(dev.base, tenant, tickets),
    search: (tenant, body) => request(dev.base, "POST", `/v1/vector_stores/${tenant.store}/search`, tenant.headers, body),
    close: () => stopDevServer(dev),
  };
}

const inProcess = process.argv.includes("--in-process");
const state = mkdtempSync(join(tmpdir(), "search-eval-"));
let target;
try {
  const { tickets, queries } = generate({ records: RECORDS, perClass: PER_CLASS });
  target = inProcess ? await inProcessTarget() : await devTarget(state);
  const classes = [...new Set(queries.map((q) => q.class))];
  const rows = [];
  for (const mode of MODES) {
    const tenant = await target.createStore();
    const pushed = performance.now();
    await target.push(tenant, NAMESPACE, tickets);
    console.error(`${mode.name}: ${tickets.length} records pushed in ${Math.round(performance.now() - pushed)} ms`);
    const byClass = new Map(classes.map((c) => [c, { recall: 0, rr: 0, n: 0 }]));
    const times = [];
    for (const q of queries) {
      const { json, ms } = await target.search(tenant, { query: q.text, namespace: NAMESPACE, top_k: TOP_K, ...mode.body });
      times.push(ms);
      const s = score(json.results, q.relevant);
      const c = byClass.get(q.class);
      c.recall += s.recall;
      c.rr += s.rr;
      c.n += 1;
    }
    rows.push({
      mode: mode.name,
      classes: Object.fromEntries([...byClass].map(([name, c]) => [name, { recall: c.recall / c.n, mrr: c.rr / c.n }])),
      p50_ms: quantile(times, 0.5),
      p95_ms: quantile(times, 0.95),
    });
  }

  const f = (x) => x.toFixed(2);
  const where = inProcess ? "in process (no HTTP, no workerd)" : "over HTTP to npm run dev";
  console.log(`\n${RECORDS} tickets, ${queries.length} queries (${PER_CLASS} per class), top_k ${TOP_K}, local stand-ins, ${where}\n`);
  console.log(
    `| mode | ${classes.map((c) => `${c} recall@10 | ${c} MRR`).join(" | ")} | p50 ms | p95 ms |\n|---|${classes.map(() => "---|---").join("|")}|---|---|`,
  );
  for (const r of rows) {
    console.log(
      `| ${r.mode} | ${classes.map((c) => `${f(r.classes[c].recall)} | ${f(r.classes[c].mrr)}`).join(" | ")} | ${Math.round(r.p50_ms)} | ${Math.round(r.p95_ms)} |`,
    );
  }
  // The issue's bar: hybrid at least as good as the better of vector and keyword, class by class.
  const by = Object.fromEntries(rows.map((r) => [r.mode, r]));
  const short = [];
  for (const c of classes) {
    for (const metric of ["recall", "mrr"]) {
      const best = Math.max(by.vector.classes[c][metric], by.keyword.classes[c][metric]);
      if (by.hybrid.classes[c][metric] + 1e-9 < best) short.push(`${c} ${metric}: hybrid ${f(by.hybrid.classes[c][metric])} < ${f(best)}`);
    }
  }
  console.log(
    short.length === 0
      ? "\nhybrid >= max(vector, keyword) on every class and metric"
      : `\nhybrid below the better of the two: ${short.join("; ")}`,
  );
  console.log(JSON.stringify({ records: RECORDS, queries: queries.length, top_k: TOP_K, in_process: inProcess, rows }));
} catch (err) {
  if (target?.dev) console.error(`dev server's last output:\n${target.dev.output()}`);
  throw err;
} finally {
  if (target) await target.close();
  rmSync(state, { recursive: true, force: true });
}
